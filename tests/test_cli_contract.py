"""contract.md, walked as a script walks it: `trueup sandbox serve` in its own process, every
command of the month run against it, and every JSON key the contract names checked in the
output with the type it promises (money a string of two decimals, quantities of four, a
list never null)."""

import json
import re
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import post_crash

from world import world

MONEY = re.compile(r"-?\d+\.\d{2}")
QUANTITY = re.compile(r"-?\d+\.\d{4}")
STATES = {"draft", "held", "ready", "approved", "posted", "voided", "adjusted"}
ANOMALY = {"code": str, "severity": str, "message": str}
SUGGESTION = {"client_id": int, "client_name": str, "score": int}

# contract.md §3, key by key: a type, a pattern of a string, a nested shape, or [shape] for a
# list of it; `None` in a tuple lets the key be null (a usage line has no subscription).
DIFF = {
    "month": str,
    "rows": [
        {
            "client_id": int,
            "client_name": str,
            "company_id": str,
            "subscription_id": str,
            "product_id": str,
            "sku": str,
            "pax8_qty": QUANTITY,
            "halo_qty": QUANTITY,
            "delta": QUANTITY,
            "status": str,
            "unit_price": MONEY,
            "monthly_impact": MONEY,
            "currency": str,
        }
    ],
}
UNMAPPED = {
    "companies": [{"company_id": str, "name": str, "suggestions": [SUGGESTION]}],
    "products": [
        {"product_id": str, "sku": str, "name": str, "subscriptions": int, "suggestions": list}
    ],
}
LINE = {
    "kind": str,
    "subscription_id": (str, None),
    "product_id": (str, None),
    "sku": (str, None),
    "description": str,
    "quantity": QUANTITY,
    "unit_price": MONEY,
    "amount": MONEY,
    "cost": MONEY,
    "policy": str,
    "explanation": str,
    "anomalies": [ANOMALY],
}
BATCH = {
    "batch_id": str,
    "month": str,
    "invoices": [
        {
            "client_id": int,
            "client_name": str,
            "currency": str,
            "subtotal": MONEY,
            "tax": MONEY,
            "total": MONEY,
            "cost": MONEY,
            "margin": MONEY,
            "anomalies": [ANOMALY],
            "lines": [LINE],
        }
    ],
    "anomalies": [ANOMALY],
    "totals": dict,
}
POSTING = {
    "destination": str,
    "reference": str,
    "document_id": str,
    "state": str,
    "amount": MONEY,
    "at": str,
    "by": str,
}
MONTH = {
    "month": str,
    "clients": [
        {
            "client_id": int,
            "client_name": str,
            "state": str,
            "currency": str,
            "total": MONEY,
            "posted_total": MONEY,
            "difference": MONEY,
            "settled": bool,
            "postings": [POSTING],
        }
    ],
    "totals": dict,
}


def mismatches(value: Any, shape: Any, where: str = "") -> list[str]:
    """Where `value` is not of `shape`, each place once (its first list item that is not)."""
    if isinstance(shape, tuple):
        if value is None and None in shape:
            return []
        return mismatches(value, shape[0], where)
    if isinstance(shape, re.Pattern):
        ok = isinstance(value, str) and shape.fullmatch(value) is not None
        return [] if ok else [f"{where}: {value!r} is not {shape.pattern}"]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        found: list[str] = []
        for n, item in enumerate(value):
            found += [m for m in mismatches(item, shape[0], f"{where}[{n}]") if m not in found]
        return found
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object"]
        missing = [f"{where}.{key}: missing" for key in shape if key not in value]
        return missing + [
            m
            for key, inner in shape.items()
            if key in value
            for m in mismatches(value[key], inner, f"{where}.{key}")
        ]
    ok = isinstance(value, shape) and not (shape is int and isinstance(value, bool))
    return [] if ok else [f"{where}: {value!r} is not {shape.__name__}"]


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """The month of the contract's commands, run as a script would: each command's stdout."""
    workdir = tmp_path_factory.mktemp("contract")
    db = workdir / "trueup.sqlite"
    sandbox = post_crash.Sandbox(workdir, None)
    outputs: dict[str, Any] = {}
    try:

        def run(*args: str) -> Any:
            done = sandbox.run(db, *args)
            assert done.returncode == 0, (args, done.stderr)
            return json.loads(done.stdout) if "--json" in args else done.stdout

        outputs["sync"] = run("sync", "--json")
        outputs["suggest"] = run("map", "suggest", "--json")
        run("map", "accept")
        outputs["unmapped"] = run("unmapped", "--json")
        outputs["diff"] = run("diff", "--month", "2026-11", "--json")
        outputs["batch"] = run("batch", "--month", "2026-11", "--json")
        run("approve", outputs["batch"]["batch_id"])
        run("post", "2026-11", "--to", "halo-invoice", "--yes", "--unsettled")
        for name in ("month", "status", "batches", "log"):
            outputs[name] = run(name, "--json")
    finally:
        sandbox.close()
    return outputs


@pytest.mark.parametrize(("name", "shape"), [("diff", DIFF), ("unmapped", UNMAPPED)])
def test_the_seat_diff_and_the_unmapped_have_the_contract_keys(walked, name, shape):
    assert mismatches(walked[name], shape) == []


def test_the_batch_has_the_contract_keys_and_money_as_strings(walked):
    batch = walked["batch"]
    assert mismatches(batch, BATCH) == []
    assert batch["month"] == "2026-11" and batch["invoices"]
    assert {line["kind"] for i in batch["invoices"] for line in i["lines"]} >= {"subscription"}


def test_the_month_ledger_has_the_contract_keys_and_its_differences_add_up(walked):
    month = walked["month"]
    assert mismatches(month, MONTH) == []
    assert month["month"] == "2026-11"
    assert {c["state"] for c in month["clients"]} <= STATES
    posted = [c for c in month["clients"] if c["postings"]]
    assert posted and {c["state"] for c in posted} == {"posted"}
    for client in month["clients"]:
        total, posted_total = Decimal(client["total"]), Decimal(client["posted_total"])
        assert Decimal(client["difference"]) == total - posted_total
    assert all(c["difference"] == "0.00" for c in posted)


def test_the_other_json_documents_have_their_keys(walked):
    assert walked["sync"]["ok"] is True and isinstance(walked["sync"]["sources"], list)
    status = walked["status"]
    assert isinstance(status["entities"]["pax8_subscription"], int)
    assert {"pax8", "halo"} <= set(status["sources"]) and isinstance(status["open_batches"], list)
    suggested = [c for c in walked["suggest"]["companies"] if c["candidates"]]
    assert suggested and all(isinstance(c["score"], int) and c["reason"] for c in suggested)
    assert [b["batch_id"] for b in walked["batches"]["batches"]] == [walked["batch"]["batch_id"]]
    assert isinstance(walked["log"]["entries"], list) and walked["log"]["entries"]


def test_sandbox_serve_prints_the_urls_on_its_first_line(tmp_path):
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    args = ["sandbox", "serve", "--scenario", str(scenario), "--host", "127.0.0.1"]
    args += ["--pax8-port", "0", "--halo-port", "0", "--qbo-port", "0", "--faults", "500=0.01"]
    serving = subprocess.Popen(post_crash.trueup(*args), stdout=subprocess.PIPE, text=True)
    try:
        assert serving.stdout is not None
        urls = json.loads(serving.stdout.readline())
    finally:
        serving.send_signal(signal.SIGINT)
        serving.wait(timeout=10)
    assert set(urls) >= {"pax8", "halo", "halo_auth", "qbo", "xero", "xero_identity"}
    assert urls["pax8"].startswith("http://127.0.0.1:") and urls["pax8"].endswith("/v1")
    assert urls["halo_auth"] == urls["halo"] + "/auth"


def test_a_generated_scenario_is_the_same_bytes_for_the_same_clients_and_seed():
    def generated(seed: str) -> bytes:
        args = ("sandbox", "generate", "--clients", "3", "--seed", seed, "--month", "2026-10")
        done = subprocess.run(post_crash.trueup(*args), capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = generated("5")
    assert first == generated("5") != generated("6")
    scenario = json.loads(first)
    assert {"as_of", "pax8", "halo", "qbo"} <= set(scenario)
    assert scenario["as_of"].startswith("2026-10")


def test_the_checker_sees_what_it_checks():
    assert mismatches({"a": "1.5", "b": None}, {"a": MONEY, "b": list, "c": str}) == [
        ".c: missing",
        ".a: '1.5' is not -?\\d+\\.\\d{2}",
        ".b: None is not list",
    ]
    assert mismatches({"rows": None}, {"rows": [dict]}) == [".rows: None is not a list"]
    assert mismatches(True, int) == [": True is not int"]

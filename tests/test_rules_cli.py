"""`trueup rules import/export/show`: exit codes, every problem listed, stdout for data."""

import json

import pytest
from typer.testing import CliRunner

from trueup.cli import app, render
from world import world

RULES = """[defaults]
markup_percent = "10"

[rates]
"EUR/USD" = "1.0850"

[clients."14"]
proration = "end"
currency = "EUR"

[[lines]]
client = "14"
product = "MST-365-BUS-STD"
price = "fixed"
fixed_price = "12.50"
sync = false
"""


def synced_world(tmp_path, monkeypatch):
    """A store synced from the small world, the CLI pointed at it; the folder."""
    monkeypatch.setenv("TRUEUP_DB", str(tmp_path / "trueup.sqlite"))
    monkeypatch.setenv("TRUEUP_CONFIG", str(tmp_path / "config.toml"))
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps(world()))
    assert invoke("sync", "--sandbox", str(scenario), "--json").exit_code == 0
    return tmp_path


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setattr(render.stdout, "_width", 200)  # table cells print unwrapped
    return synced_world(tmp_path, monkeypatch)


def invoke(*args, **kwargs):
    return CliRunner().invoke(app, list(args), **kwargs)


def test_import_then_export_and_show(env):
    path = env / "rules.toml"
    path.write_text(RULES)
    result = invoke("rules", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"imported {path}: rules #1: overrides for 1 client and 1 line")
    # A markup nothing is priced by is imported all the same, with a warning (issue 22).
    _, warning = result.stderr.strip().splitlines()
    assert warning.startswith("warning: line 2: [defaults] markup_percent: no effect while ")
    assert result.stdout == ""
    exported = invoke("rules", "export", "-")
    assert exported.exit_code == 0 and exported.stdout == RULES
    out = env / "out.toml"
    assert invoke("rules", "export", str(out)).exit_code == 0
    assert out.read_text() == RULES
    shown = invoke("rules", "show")
    assert shown.exit_code == 0
    assert "Bear Creek Winery LLC #14" in shown.stdout and "12.50" in shown.stdout
    data = json.loads(invoke("rules", "show", "--json").stdout)
    assert data["rules_id"] == 1 and data["defaults"]["markup_percent"] == "10"
    assert data["clients"] == {"14": {"proration": "end", "currency": "EUR"}}
    assert data["lines"][0]["fixed_price"] == "12.50" and data["lines"][0]["sync"] is False
    assert data["rates"] == {"EUR/USD": "1.0850"}


def test_a_file_named_with_control_characters_is_said_with_them_visible(env):
    """From a boundary review: the import and export confirmations printed the path as it is,
    so a name with an escape sequence cleared the operator's screen."""
    path = env / "rules\x1b[2J\u202e.toml"
    path.write_text(RULES)
    for command in ("import", "export"):
        result = invoke("rules", command, str(path))
        assert result.exit_code == 0, result.output
        assert "rules\\x1b[2J\\u202e.toml" in result.stderr
        assert "\x1b" not in result.stderr and "\u202e" not in result.stderr


def test_import_reads_stdin(env):
    result = invoke("rules", "import", "-", input=RULES)
    assert result.exit_code == 0, result.output


def test_export_before_any_import_spells_out_the_defaults(env):
    result = invoke("rules", "export", "-")
    assert result.exit_code == 0
    assert 'proration = "daily"' in result.stdout and "\n[clients" not in result.stdout


def test_a_bad_file_lists_every_problem_and_changes_nothing(env):
    path = env / "bad.toml"
    path.write_text(
        '[defaults]\nprice = "cheapest"\nmarkup_percent = "ten"\n\n'
        '[clients."999"]\nproration = "end"\n'
    )
    result = invoke("rules", "import", str(path))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"error: {path} was not imported (2 problems); fix and import again"
    assert lines[1:] == [
        '  line 2: [defaults] price: "cheapest" is not one of pax8, markup, fixed, halo',
        '  line 3: [defaults] markup_percent: "ten" is not a decimal; write it quoted, like '
        '"12.50"',
    ]
    path.write_text('[clients."999"]\nproration = "end"\n')
    unknown = invoke("rules", "import", str(path))
    assert unknown.exit_code == 1
    assert 'line 1: [clients."999"]: unknown Halo client 999' in unknown.stderr
    assert "\n[clients" not in invoke("rules", "export", "-").stdout


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[clients."1\\u001b[2J"]\nmarkup_percent = "5"\n', '[clients."1\\x1b[2J"]'),
        ('["def\\u001b[2Jaults"]\nmarkup_percent = "5"\n', "[def\\x1b[2Jaults]: unknown table"),
    ],
)
def test_a_table_named_with_control_characters_is_shown_never_obeyed(env, text, said):
    """From a bad-input pass: the table's name reached the terminal raw (this one clears it)."""
    path = env / "hostile.toml"
    path.write_text(text)
    result = invoke("rules", "import", str(path))
    assert result.exit_code == 1 and said in result.stderr
    assert "\x1b" not in result.stderr


def test_a_missing_file_exits_1_and_bad_usage_exits_2(env):
    missing = invoke("rules", "import", str(env / "nope.toml"))
    assert missing.exit_code == 1
    assert (
        missing.stderr.strip()
        == f"error: cannot read {env / 'nope.toml'}: No such file or directory"
    )
    assert invoke("rules", "import").exit_code == 2
    assert invoke("rules", "frobnicate").exit_code == 2


@pytest.mark.parametrize("empty", ["", "\n  \n", "# nothing yet\n"])
def test_an_empty_file_is_refused_saying_what_it_would_remove(env, empty):
    assert invoke("rules", "import", "-", input=RULES).exit_code == 0
    result = invoke("rules", "import", "-", input=empty)
    assert result.exit_code == 1
    assert "the file sets nothing" in result.stderr
    assert "overrides for 1 client and 1 line, 1 rate" in result.stderr
    assert "--allow-empty" in result.stderr
    assert json.loads(invoke("rules", "show", "--json").stdout)["rules_id"] == 1  # unchanged
    allowed = invoke("rules", "import", "-", "--allow-empty", input=empty)
    assert allowed.exit_code == 0, allowed.output
    data = json.loads(invoke("rules", "show", "--json").stdout)
    assert data["rules_id"] == 2 and data["clients"] == {} and data["lines"] == []


def rules_documents(env):
    """How many rules documents the store's history holds."""
    from sqlalchemy import func, select

    from trueup.core.store import tables as m
    from trueup.core.store.database import open_database

    db = open_database(env / "trueup.sqlite")
    try:
        with db.read() as conn:
            table = m.table_of(m.RulesDocument)
            return conn.execute(select(func.count()).select_from(table)).scalar()
    finally:
        db.dispose()


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_a_file_bigger_than_a_rules_file_is_refused_in_one_line_and_never_stored(env, via):
    """From a boundary review: a 10 MB file of comments was stored whole in the rules history,
    and 12 MB of unknown client ids took 43 s and printed 300,000 lines. Refused before it is
    read whole, saying its size and the bound; the history as it was."""
    assert invoke("rules", "import", "-", input=RULES).exit_code == 0
    big = "# a comment line of a file that is no rules file\n" * 100_000 + RULES  # 5 MB
    path = env / "big.toml"
    path.write_text(big)
    result = (
        invoke("rules", "import", str(path))
        if via == "file"
        else invoke("rules", "import", "-", input=big)
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    said = f"is {len(big):,} bytes" if via == "file" else "holds more"
    name = path if via == "file" else "-"
    assert lines == [
        f"error: {name} was not imported: the file {said}, more than a rules file holds "
        "(4,194,304 bytes at most; 2,000 clients' rules take about 1.4 MB): is it the rules "
        "file?; nothing was changed"
    ]
    assert rules_documents(env) == 1
    assert invoke("rules", "export", "-").stdout == RULES


def test_a_file_of_500_unknown_clients_lists_20_problems_then_how_many_more(env):
    path = env / "unknown.toml"
    path.write_text("".join(f'[clients."{9000 + n}"]\nproration = "end"\n\n' for n in range(500)))
    result = invoke("rules", "import", str(path))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"error: {path} was not imported (500 problems); fix and import again"
    assert lines[1:21] == [
        f'  line {1 + 3 * n}: [clients."{9000 + n}"]: unknown Halo client {9000 + n}; sync, or '
        "check the id"
        for n in range(20)
    ]
    assert lines[21:] == ["  ... and 480 more"]
    assert rules_documents(env) == 0


def test_the_bound_is_far_above_a_large_msps_rules():
    """2,000 clients, each with three keys of its own and three [[lines]] of four keys: what
    the bound was measured on (about 1.4 MB as exported)."""
    from trueup.core.rules.current import MAX_RULES_BYTES, dump_rules, parse_rules

    products = ("MST-365-BUS-STD-ANNUAL-COMMIT", "AZ-PLAN-USAGE-MONTHLY", "b7a1c2d3-e4f5-4a6b")
    text = "".join(
        f'[clients."{100_000 + n}"]\nproration = "end"\nmarkup_percent = "20"\n'
        'currency = "EUR"\n'
        + "".join(
            f'[[lines]]\nclient = "{100_000 + n}"\nproduct = "{product}"\nprice = "fixed"\n'
            'fixed_price = "12.50"\nmin_margin_percent = "8.5"\nsync = false\n'
            for product in products
        )
        for n in range(2_000)
    )
    size = len(dump_rules(parse_rules(text)).encode())
    assert 1_000_000 < size < MAX_RULES_BYTES / 2

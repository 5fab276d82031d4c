"""Terminal output for the CLI: progress on stderr when it is a terminal, tables on stdout."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from trueup.core.values.text import visible

if TYPE_CHECKING:
    from trueup.core.service.syncing import Report, SourceResult


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # Rich's own exits 1, which under pipefail reads as a failure to act on: raised as
        # itself instead, to exit as every command does when its reader leaves (cli.handles_errors).
        raise BrokenPipeError


stdout = _Console(highlight=False)
stderr = _Console(stderr=True, highlight=False)

SOURCE_NAMES = {"pax8": "Pax8", "halo": "HaloPSA"}


@contextmanager
def sync_progress() -> Iterator[Report | None]:
    """A live progress display on a terminal; nothing at all when stderr is piped."""
    if not stderr.is_terminal:
        yield None
        return
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=False,
    )
    tasks: dict[tuple[str, str], TaskID] = {}

    def report(source: str, what: str, done: int, total: int | None) -> None:
        key = (source, what)
        if key not in tasks:
            tasks[key] = progress.add_task(f"{SOURCE_NAMES[source]:8} {what}", total=total)
        progress.update(tasks[key], completed=done, total=total)

    with progress:
        yield report


@contextmanager
def working(what: str) -> Iterator[None]:
    """A spinner saying what runs, on a terminal only (a month's first build of 2,000 clients
    takes seconds)."""
    if not stderr.is_terminal:
        yield
        return
    with stderr.status(what):
        yield


def sync_summary(results: list[SourceResult]) -> None:
    table = Table(
        title="Sync", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1)
    )
    for column in (
        "source",
        "status",
        "new",
        "changed",
        "gone",
        "same",
        "failed",
        "calls",
        "429s",
        "secs",
    ):
        table.add_column(column, justify="left" if column in ("source", "status") else "right")
    for r in results:
        totals = {
            k: sum(getattr(c, k) for c in r.counts.values())
            for k in ("created", "updated", "deleted", "unchanged", "failed")
        }
        style = "green" if r.status == "ok" else "red"
        table.add_row(
            SOURCE_NAMES[r.source].replace("HaloPSA", "Halo"),
            Text(r.status, style=style),
            *(str(totals[k]) for k in totals),
            str(r.requests),
            str(r.rate_limited),
            f"{r.seconds:.1f}",
        )
    stdout.print(table)
    for r in results:
        if r.error:
            said = f"{SOURCE_NAMES[r.source]}: {visible_lines(r.error)}"
            stderr.print(Text(said, style="red"), soft_wrap=True)
        sync_warnings(r)


# A source's warnings shown after the sync, the rest counted ("and 4 more"): the log has all.
WARNINGS_SHOWN = 10


def sync_warnings(result: SourceResult) -> None:
    """The warnings the source's sync logged, on stderr, one line each, under a line naming
    the source and how many: what the operator would otherwise find only in the log."""
    if not result.warnings:
        return
    count = len(result.warnings)
    noun = "warning" if count == 1 else "warnings"
    head = f"{SOURCE_NAMES[result.source]}: {count} {noun} (trueup log --level warning has them)"
    stderr.print(Text(head, style="yellow"), soft_wrap=True)
    for warning in result.warnings[:WARNINGS_SHOWN]:
        stderr.print(Text(f"  {visible(warning.line)}", style="yellow"), soft_wrap=True)
    if count > WARNINGS_SHOWN:
        stderr.print(Text(f"  and {count - WARNINGS_SHOWN} more", style="yellow"))


def sync_json(
    results: list[SourceResult], *, skipped: str | None = None, said: str | None = None
) -> dict[str, Any]:
    """`trueup sync --json`: one document, whatever happened. `skipped`: why nothing was
    synced ("in_progress", "too_soon"), with `said`, the line stderr has; "ok" stays "no
    source failed", so a skip (exit 3 or 4) is not a failure."""
    return {
        "ok": all(r.status == "ok" for r in results),
        "skipped": skipped is not None,
        "reason": skipped,
        "message": said,
        "error": None,  # why a sync could not start (the command fills it in)
        "sources": [
            {
                "source": r.source,
                "status": r.status,
                "run_id": r.run_id,
                "seconds": round(r.seconds, 3),
                "requests": r.requests,
                "retries": r.retries,
                "rate_limited": r.rate_limited,
                "error": r.error,
                "counts": {name: vars(c) for name, c in r.counts.items()},
                "warnings": [
                    {
                        "id": w.id,
                        "at": w.at,
                        "event": w.event,
                        "message": w.line,
                        "details": w.details,
                    }
                    for w in r.warnings
                ],
            }
            for r in results
        ],
    }


def status_tables(status: dict[str, Any]) -> None:
    from trueup.core.service.syncing import ENTITIES  # for `status` alone: with the models, ~0.5 s
    from trueup.core.values.distributors import NAMES as DISTRIBUTOR_NAMES

    # The path on a line of its own, never folded: as the table's title it was cut at the
    # table's width, mid-name (".../trueup/demo.sqli" then "te"), so it could not be copied.
    stdout.print(Text(f"trueup store {status['db']}", style="table.title"), soft_wrap=True)
    sources = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("source", "last good sync", "last run", "error"):
        sources.add_column(column)
    for source, info in status["sources"].items():
        run = info["last_run"]
        sources.add_row(
            SOURCE_NAMES[source],
            info["age"],
            run["status"] if run else "-",
            Text(visible_lines(run["error"] or "")) if run else "",
        )
    stdout.print(sources)
    entities = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    entities.add_column("what")
    entities.add_column("rows", justify="right")
    for name, count in status["entities"].items():
        source, label = name.split("_", 1)[0], ENTITIES[name].label
        count -= sum(counts.get(name, 0) for counts in status["imported"].values())
        entities.add_row(f"{SOURCE_NAMES[source]} {label}", f"{count:,}")
    for distributor, counts in status["imported"].items():
        for name, count in counts.items():
            label = f"{DISTRIBUTOR_NAMES[distributor]} {ENTITIES[name].label}"
            entities.add_row(label, f"{count:,}")
    stdout.print(entities)
    open_batches = status.get("open_batches", [])
    if not open_batches:
        stdout.print("No open batch: no approved invoice waits to be posted.")
    for batch in open_batches:
        waiting = batch["waiting"]
        unfinished = f", {batch['in_flight']} sends to finish" if batch["in_flight"] else ""
        # Where the rest of the month went: a post with no --to would go to Halo.
        went = batch["posted_to"]
        to = f" --to {went[0]}" if len(went) == 1 else " --to DEST" if went else ""
        stdout.print(
            Text(
                f"Open batch {batch['batch_id']} ({batch['month']}): {waiting} approved "
                f"invoice(s) not posted{unfinished}; `trueup post {batch['batch_id']}{to}` "
                "sends them"
            ),
            soft_wrap=True,
        )


def fail(message: str) -> None:
    # One line, unwrapped, so scripts can grep it; a name or path the user typed or a file
    # held is quoted in it, so its control characters are shown, never obeyed.
    stderr.print(Text(f"error: {visible_lines(message)}", style="bold red"), soft_wrap=True)


def visible_lines(text: str) -> str:
    """`visible` line by line: a message's own line breaks stay breaks."""
    return "\n".join(visible(line) for line in text.split("\n"))


def emit_json(data: Any) -> None:
    import simplejson

    sys.stdout.write(simplejson.dumps(data, indent=2, use_decimal=True, default=str) + "\n")


def log_table(entries: list[dict[str, Any]]) -> None:
    styles = {"ERROR": "red", "WARNING": "yellow", "INFO": "green"}
    table = Table(
        title="Log (newest first)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for column in ("level", "time", "source", "event", "details"):
        table.add_column(column)
    for e in entries:
        details = "; ".join(
            f"{k.replace('_', ' ')}: {readable(v)}"
            for k, v in e["details"].items()
            if k != "run_id"
        )
        table.add_row(
            Text(e["level"], style=styles.get(e["level"], "")),
            e["at"][:16],
            e["source"] or "",
            # Whole: the column wraps words and folds an id or a code wider than it (cut with
            # an ellipsis, a batch id or POSSIBLE_DOUBLE_BILL could not be read at 80 columns).
            Text(visible(e["event"]), overflow="fold"),
            Text(visible_lines(details), overflow="fold"),
        )
    stdout.print(table)


def readable(value: Any) -> str:
    """A logged value as a person reads it: `USD 7,664.06`-like pairs, lists by commas, never a
    Python repr (`{'USD': '7664.06'}`) nor `None`."""
    if isinstance(value, dict):
        return ", ".join(
            f"{k.replace('_', ' ')} " + (f"({readable(v)})" if isinstance(v, dict) else readable(v))
            for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return ", ".join(readable(v) for v in value) or "none"
    if value is None:
        return "-"
    return str(value)


def mapping_table(title: str, *columns: str) -> Table:
    """A table of mapping rows: status and score narrow, names and reasons sharing the width."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in columns:
        if column in ("status", "score"):
            table.add_column(column, justify="right" if column == "score" else "left", no_wrap=True)
        else:  # the reason a little wider
            table.add_column(column, ratio=4 if column == "reason" else 3)
    return table

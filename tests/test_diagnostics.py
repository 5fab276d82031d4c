"""The core's log records reach a command's stderr as one line each, never a traceback."""

import logging

from trueup.cli.diagnostics import one_line_diagnostics


def test_a_logged_exception_is_one_line_with_its_error(capsys, monkeypatch):
    for name in ("trueup", "asyncio"):  # a handler of this test's own, gone after it
        monkeypatch.setattr(logging.getLogger(name), "handlers", [])
    monkeypatch.delenv("TRUEUP_DEBUG", raising=False)
    one_line_diagnostics()
    one_line_diagnostics()  # twice (a test calling main again): still one line
    try:
        raise RuntimeError("Cannot send a request, as the client has been closed.")
    except RuntimeError:
        logging.getLogger("trueup.sync").exception("%s sync failed", "halo")
        logging.getLogger("asyncio").error("unhandled exception\ntask: <Task>", exc_info=True)
    logging.getLogger("trueup.sink.xero").warning("Xero holds two documents \x1b[2J numbered")
    assert capsys.readouterr().err.splitlines() == [
        "error: halo sync failed: RuntimeError: Cannot send a request, as the client has been "
        "closed.",
        "error: unhandled exception: RuntimeError: Cannot send a request, as the client has been "
        "closed.",
        "warning: Xero holds two documents \\x1b[2J numbered",
    ]

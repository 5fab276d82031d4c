"""The core's log records on stderr as one line each, never a traceback (TRUEUP_DEBUG=1 keeps
them): with no handler, Python's last resort printed `logger.exception`'s whole traceback, and
wrote over the workbench's screen."""

from __future__ import annotations

import logging
import os
import sys

from trueup.core.values.text import visible


class _OneLine(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        said = record.getMessage().split("\n", 1)[0]  # asyncio's adds the task's repr
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            said += f": {type(error).__name__}: {error}"
        # sys.stderr as it is now: the workbench captures it while it draws.
        print(f"{record.levelname.lower()}: {visible(said)}", file=sys.stderr)


def one_line_diagnostics() -> None:
    """Warnings and errors of trueup's loggers, and asyncio's (a task that failed while a
    Ctrl-C stopped the loop), to stderr, one line each."""
    if os.environ.get("TRUEUP_DEBUG"):
        return  # the last resort, tracebacks and all
    for name in ("trueup", "asyncio"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, _OneLine) for h in logger.handlers):
            logger.addHandler(_OneLine(logging.WARNING))

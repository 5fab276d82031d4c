"""trueup's subcommands, each module imported only when its command is asked for.

Importing every command's module (HTTP clients, the secret store, fuzzy matching, the sandbox
servers) took ~0.5 s on every run of every command. The group lists all the names, so help,
typo suggestions and completion still see every command; help imports what it lists.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

# name -> (module, attribute): a command function or a Typer app (a group of commands), in the
# order help lists them after trueup.cli's own commands: commands, then groups.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "diff": ("trueup.cli.diff", "diff_command"),
    "unmapped": ("trueup.cli.mapping", "unmapped_command"),
    "hold": ("trueup.cli.review", "hold_command"),
    "approve": ("trueup.cli.posting", "approve_command"),
    "post": ("trueup.cli.posting", "post_command"),
    "void": ("trueup.cli.posting", "void_command"),
    "journal": ("trueup.cli.posting", "journal_command"),
    "month": ("trueup.cli.ledger", "month_command"),
    "batches": ("trueup.cli.ledger", "batches_command"),
    "export": ("trueup.cli.reports", "export_command"),
    "summary": ("trueup.cli.reports", "summary_command"),
    "evidence": ("trueup.cli.reports", "evidence_command"),
    "import": ("trueup.cli.imports", "import_command"),
    "paths": ("trueup.cli.ops", "paths_command"),
    "doctor": ("trueup.cli.ops", "doctor_command"),
    "sandbox": ("trueup.cli.sandbox", "sandbox_app"),
    "connect": ("trueup.cli.connect", "connect_app"),
    "map": ("trueup.cli.mapping", "map_app"),
    "rules": ("trueup.cli.rules", "rules_app"),
    "batch": ("trueup.cli.batch", "batch_app"),
    "qbo": ("trueup.cli.books", "qbo_app"),
    "xero": ("trueup.cli.books", "xero_app"),
    "config": ("trueup.cli.ops", "config_app"),
}


class LazyGroup(TyperGroup):
    """The top-level group: its `commands` load a lazy command when it is first looked up."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(dict(self.commands), self.rich_markup_mode)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names alone: no module imported


class _Commands(MutableMapping[str, Any]):
    def __init__(self, loaded: dict[str, Any], markup: Any) -> None:
        self._loaded = loaded
        self._markup = markup

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded and name in LAZY_COMMANDS:
            self._loaded[name] = _click_command(name, self._markup)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._loaded
        yield from (name for name in LAZY_COMMANDS if name not in self._loaded)

    def __len__(self) -> int:
        return len(self._loaded.keys() | LAZY_COMMANDS.keys())


def _click_command(name: str, markup: Any) -> Any:
    """The command as Typer makes it for a subcommand of the top-level app (the same markup
    and exception settings): registered on a holder app of those settings and taken back."""
    module, attribute = LAZY_COMMANDS[name]
    target: typer.Typer | Callable[..., Any] = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(rich_markup_mode=markup, pretty_exceptions_enable=False)
    holder.callback()(_nothing)  # a group, even around a single command
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group.commands[name]


def _nothing() -> None:
    """The holder's callback (never run)."""

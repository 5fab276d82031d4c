"""The billing rules in force: `trueup rules ...` and the Rules screen."""

from __future__ import annotations

from pathlib import Path

from trueup.core.rules import current
from trueup.core.rules.current import KEYS as KEYS
from trueup.core.rules.current import MAX_RULES_BYTES as MAX_RULES_BYTES
from trueup.core.rules.current import Rules as Rules
from trueup.core.rules.current import RulesError as RulesError
from trueup.core.rules.current import RulesSummary
from trueup.core.rules.current import too_big as too_big
from trueup.core.rules.current import value_text as value_text
from trueup.core.rules.effect import IdleKey as IdleKey
from trueup.core.rules.rows import RuleRow, rule_rows
from trueup.core.service.changes import Changes
from trueup.core.store.database import Database
from trueup.core.store.replaced import write_private


class RuleBook:
    """The rules of one store: read whole, imported whole, or changed one key at a time."""

    def __init__(self, db: Database, *, changes: Changes | None = None) -> None:
        self.db = db
        self._changes = changes or Changes()

    def current(self) -> tuple[Rules, int | None]:
        """The rules in force and their RulesDocument id (None: the built-in defaults)."""
        return current.current_rules(self.db)

    def rows(self) -> tuple[list[RuleRow], int | None]:
        """Every default, override and rate as rows, and the id of the rules in force."""
        return rule_rows(self.db)

    def summary(self) -> RulesSummary:
        return current.summarise(self.db)

    def idle_keys(self) -> list[IdleKey]:
        """The keys of the rules in force that change no figure, and why: a markup on a client
        billed at Pax8's price, a fixed price nothing is fixed at; and a tax above 0, which no
        destination is sent (`rules import` warns)."""
        return current.idle_in_force(self.db)

    def export_text(self) -> str:
        """The rules in force as canonical TOML."""
        return current.export_rules(self.db)

    def export_file(self, path: Path) -> None:
        """The rules in force written to `path`, whole and private (0600)."""
        write_private(path, self.export_text())

    def import_text(self, text: str, *, allow_empty: bool = False) -> int:
        """Replace the rules with a whole file's; RulesError lists every problem, nothing
        changed (a file that sets nothing is refused unless `allow_empty`)."""
        with self._changes.writing():
            return current.import_rules(self.db, text, allow_empty=allow_empty)

    def set_default(self, key: str, value: str | None) -> None:
        with self._changes.writing():
            current.set_default(self.db, key, value)

    def set_client(self, client_id: int, key: str, value: str | None) -> None:
        with self._changes.writing():
            current.set_client_override(self.db, client_id, key, value)

    def set_line(self, client_id: int, product: str, key: str, value: str | None) -> None:
        with self._changes.writing():
            current.set_line_override(self.db, client_id, product, key, value)

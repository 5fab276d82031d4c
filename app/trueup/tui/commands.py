"""The command palette and the F1 key list, both read from the bindings themselves.

Every action is a `Binding` with an id and a tooltip, declared as data on the screen (or the
App) that runs it; the palette offers exactly the bindings active where it was opened, so a key
and its palette entry can never drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from textual.actions import parse
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.screen import Screen

# Cursor movement belongs in the help, not in the palette.
NAVIGATION_PREFIX = "table."


@dataclass(frozen=True)
class Action:
    keys: str  # "u, delete"
    description: str  # the footer's word
    tooltip: str  # one sentence
    node: DOMNode
    action: str
    binding_id: str

    @property
    def is_navigation(self) -> bool:
        return self.binding_id.startswith(NAVIGATION_PREFIX)


def screen_actions(screen: Screen[object]) -> list[Action]:
    """Our actions usable on `screen` now (bindings with an id), each with all its keys.

    Read from the bindings of the focused widget's ancestors, the screen and the App, even keys
    a focused search box would swallow: the palette must still offer them. Textual's own keys
    for the same action (ctrl+q for quit) are added to ours."""
    app = screen.app
    focused = screen.focused
    nodes: list[DOMNode] = list(focused.ancestors_with_self) if focused else [screen, app]
    keys: dict[tuple[int, str], list[str]] = {}
    ours: dict[tuple[int, str], tuple[DOMNode, Binding]] = {}
    for node in nodes:
        for _key, binding in node._bindings:
            if not _enabled(node, binding.action):
                continue
            if node is app and screen.is_modal and not binding.priority:
                continue  # a dialog cuts the app's bindings off, but for the priority ones (F1)
            slot = (id(node), binding.action)
            shown = app.get_key_display(binding)
            if shown not in keys.setdefault(slot, []):
                keys[slot].append(shown)
            if binding.id and slot not in ours:
                ours[slot] = (node, binding)
    return [
        Action(
            ", ".join(keys[slot]),
            binding.description,
            binding.tooltip or binding.description,
            node,
            binding.action,
            binding.id or "",
        )
        for slot, (node, binding) in ours.items()
    ]


def _enabled(node: DOMNode, action: str) -> bool:
    _, name, parameters = parse(action)
    return node.check_action(name, parameters) is True


def _run(app: App[object], action: Action) -> None:
    app.call_later(app.run_action, action.action, action.node)


class WorkbenchCommands(Provider):
    """Every action of the screen the palette was opened on, with its key."""

    def _entries(self) -> Iterator[tuple[str, str, Action]]:
        title = getattr(self.screen, "TITLE_TEXT", "") or "trueup"
        for action in screen_actions(self.screen):
            if action.is_navigation:
                continue
            scope = "trueup" if isinstance(action.node, App) else title
            yield f"{scope}: {action.tooltip}", f"key {action.keys}", action

    async def discover(self) -> Hits:
        for text, help_text, action in self._entries():
            yield DiscoveryHit(text, partial(_run, self.app, action), text=text, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, action in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(_run, self.app, action),
                    text=text,
                    help=help_text,
                )

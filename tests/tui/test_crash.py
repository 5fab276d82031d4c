"""An unforeseen error closes the workbench in one line: Textual's own traceback printed every
frame's locals, and a frame may hold a secret (left by the secrets review)."""

import pytest

from trueup.tui.app import TrueupApp

SECRET = "s3cret-refresh-Vq81"


def crashing(self: TrueupApp) -> None:
    refresh_token = SECRET  # a local, as a frame connecting a destination holds one
    raise RuntimeError(f"unforeseen ({len(refresh_token)} characters)")


async def test_a_crash_says_one_line_and_no_local(app, monkeypatch, capsys):
    monkeypatch.setattr(TrueupApp, "action_help", crashing)
    with pytest.raises(RuntimeError):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("f1")
            await pilot.pause()
    said = capsys.readouterr()
    shown = said.out + said.err
    assert SECRET not in shown and "refresh_token" not in shown
    assert "the workbench stopped on RuntimeError: unforeseen (19 characters)" in shown

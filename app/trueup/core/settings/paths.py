"""Where trueup keeps its files: platform directories, overridable by flags and environment."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_path, user_data_path

APP_NAME = "trueup"


def data_dir() -> Path:
    return user_data_path(APP_NAME, appauthor=False)


def default_db_path() -> Path:
    return (
        Path(os.environ["TRUEUP_DB"])
        if os.environ.get("TRUEUP_DB")
        else data_dir() / "trueup.sqlite"
    )


def demo_db_path() -> Path:
    """The demo keeps its own file so it never touches the operator's real data."""
    return data_dir() / "demo.sqlite"


def default_config_path() -> Path:
    if os.environ.get("TRUEUP_CONFIG"):
        return Path(os.environ["TRUEUP_CONFIG"])
    return user_config_path(APP_NAME, appauthor=False) / "config.toml"

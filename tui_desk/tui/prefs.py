"""What a person chose in their console and expects back next time (the theme), kept in
their own data folder as a small JSON file: per Unix user, never in the shared database."""

from __future__ import annotations

import json
from pathlib import Path

from .. import paths


def _file() -> Path:
    return paths.data_dir() / "console.json"


def load() -> dict:
    try:
        data = json.loads(_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: the defaults, never a crash at start
    return data if isinstance(data, dict) else {}


def save(**changes: str) -> None:
    """Merge `changes` into the file; a folder that cannot be written loses only the preference."""
    data = {**load(), **changes}
    try:
        _file().parent.mkdir(parents=True, exist_ok=True)
        _file().write_text(json.dumps(data, indent=1), encoding="utf-8")
    except OSError:
        pass

"""The agent console (Textual). The only package of tui-desk that imports textual.

`DeskApp` and `make_app` are loaded on first use, so the console's plain-data modules
(`tui_desk.tui.session`) import without Textual."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import DeskApp, make_app

__all__ = ["DeskApp", "make_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import app
        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The agent console (Textual). The only package of tui-desk that imports textual."""

from .app import DeskApp, make_app

__all__ = ["DeskApp", "make_app"]

"""Checking the config's [keys] table against the console's bindings (no Textual here).

The console hands over its bindings as plain data, grouped by where they are active
together (a screen plus the app-wide keys); `problems` finds action ids that do not
exist and keys that two actions would then share, the later one silently hiding the
other. The console refuses to start on either, and `tui-desk config check` reports them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Scope = tuple[str, Sequence[tuple[str | None, str, str]]]
"""A screen's name and its bindings: (action id or None if not rebindable, keys, what it does)."""

# what people type for a key, as the console names it
_ALIASES = {".": "full_stop", "/": "slash", "?": "question_mark", "#": "number_sign", "esc": "escape",
            " ": "space", ",": "comma", "!": "exclamation_mark"}
SHOWN = {name: typed for typed, name in _ALIASES.items() if typed not in (" ", "esc")}


def _keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",")]
    return [_ALIASES.get(k, k) for k in keys if k]


def problems(keymap: Mapping[str, str], scopes: Sequence[Scope]) -> list[tuple[str, str]]:
    """(dotted config key, problem) for each unknown action and each key two actions share."""
    known = {action for _, bindings in scopes for action, _, _ in bindings if action}
    found: list[tuple[str, str]] = []
    for action in keymap:
        if action not in known:
            found.append((f"keys.{action}", f"unknown action (known: {', '.join(sorted(known))})"))
    reported: set[tuple[str | None, str, str | None]] = set()
    for screen, bindings in scopes:
        holder: dict[str, tuple[str | None, str]] = {}
        for action, default, what in bindings:
            rebound = action in keymap if action else False
            for key in _keys(keymap[action] if rebound else default):
                other = holder.setdefault(key, (action, what))
                if other[0] == action or not (rebound or other[0] in keymap):
                    continue  # the same action's second key, or a clash of the defaults (a bug, not config)
                blame, (shown, shown_what) = (action, other) if rebound else (other[0], (action, what))
                if (blame, key, shown) in reported:
                    continue  # one line per clash, though several screens have it
                reported.add((blame, key, shown))
                found.append((f"keys.{blame}", f"{SHOWN.get(key, key)!r} is also {shown or 'a fixed key'} "
                              f"({shown_what}) on the {screen} screen; one of them would never run: pick another key"))
    return found

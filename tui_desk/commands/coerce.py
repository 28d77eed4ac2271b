"""Command-line values turned into Python values without importing pydantic.

Typer (0.2x) coerces every option and argument value through a pydantic TypeAdapter;
importing pydantic and building the adapters costs ~60–70 ms, more than a whole
`tui-desk oncall now` may take. The values tui-desk's commands take are nearly all
plain: a string, a number within a range, a repeated string option. Those are
answered here, with the result Typer's own coercion gives. Anything else (paths,
files, choices, parsers, clamped numbers) and every value that is not plainly valid goes to
Typer's coercion, so every error message stays exactly Typer's.
"""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

_WHOLE = re.compile(r"-?[1-9][0-9]{0,17}|0")
"""A whole number as pydantic reads it too (no sign-only, spaces, underscores or leading zeros)."""
_DECIMAL = re.compile(r"-?(?:[1-9][0-9]{0,14}|0)(?:\.[0-9]{1,15})?")
_TYPERS = object()
"""Marks "not a plain case": Typer's coercion answers."""


class PlainCoercion:
    """Stands in for Typer's runtime coercion of one parameter (`param._runtime_param`)."""

    def __init__(self, param: Any) -> None:
        self.descriptor = param.type_descriptor
        info = self.descriptor.parameter_info
        annotation = self.descriptor.annotation
        plain = info.parser is None and self.descriptor.file_annotation is None and self.descriptor.choices is None
        self.value_type = None
        if plain and annotation is str:
            self.value_type = "str"
        elif plain and annotation in (int, float) and not info.clamp:
            self.value_type = annotation.__name__
        elif plain and get_origin(annotation) is list and get_args(annotation) == (str,):
            self.value_type = "list[str]"
        self.min, self.max = info.min, info.max
        self._typers = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        multiple = param.multiple or param.nargs == -1
        if value is None:  # as Typer's RuntimeParam.coerce, which never reaches pydantic for None
            return () if multiple else None
        quick = self._plain(value, multiple)
        if quick is not _TYPERS:
            return quick
        if self._typers is None:
            from typer._coercion import build_runtime_param
            self._typers = build_runtime_param(self.descriptor)
        return self._typers.coerce(value, param=param, ctx=ctx)

    def _plain(self, value: Any, multiple: bool) -> Any:
        if self.value_type == "str" and not multiple and type(value) is str:
            return value
        if self.value_type == "int" and not multiple:
            if type(value) is str and _WHOLE.fullmatch(value):
                value = int(value)
            if type(value) is int and (self.min is None or value >= self.min) and (
                    self.max is None or value <= self.max):
                return value
        if self.value_type == "float" and not multiple:
            if type(value) is str and _DECIMAL.fullmatch(value):
                value = float(value)
            if type(value) is float and (self.min is None or value >= self.min) and (
                    self.max is None or value <= self.max):
                return value
        if self.value_type == "list[str]" and isinstance(value, (list, tuple)) and all(type(v) is str for v in value):
            return list(value)
        return _TYPERS


def install() -> None:
    """Make PlainCoercion every Typer parameter's runtime coercion (help options and
    parameters made later included). Typer builds that object lazily in
    `_TyperParameter.get_runtime_param`; a Typer without it is left alone."""
    try:
        from typer.core import _TyperParameter
    except ImportError:
        return
    if not hasattr(_TyperParameter, "get_runtime_param") or getattr(_TyperParameter, "_desk_plain", False):
        return

    def get_runtime_param(self):
        if self._runtime_param is None:
            self._runtime_param = PlainCoercion(self)
        return self._runtime_param

    _TyperParameter.get_runtime_param = get_runtime_param
    _TyperParameter._desk_plain = True

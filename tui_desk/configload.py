"""Strict conversion of parsed TOML into the config dataclasses.

Walks each dataclass's type hints: unknown keys, wrong types and missing required
keys become one `ConfigError` naming the file and the dotted key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

from .errors import ConfigError

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def build(cls: type, data: Any, file: Path | str, key: str, *, channel_kinds: dict[str, type]) -> Any:
    """Build dataclass `cls` from the TOML table `data` found at `key`."""
    if not isinstance(data, dict):
        raise ConfigError(file, key or None, f"expected a table, got {_describe(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init and f.metadata.get("toml", True)}
    retired = getattr(cls, "RETIRED", {})
    for name in data:
        if name in retired:
            raise ConfigError(file, _join(key, name), retired[name])
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(file, _join(key, name), f"unknown key (known keys here: {known})")
    values = {}
    for name, f in fields.items():
        if name in data:
            values[name] = _convert(hints[name], data[name], file, _join(key, name), channel_kinds)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(file, _join(key, name), "required key is missing")
    return cls(**values)


def _convert(hint: Any, value: Any, file: Path | str, key: str, kinds: dict[str, type]) -> Any:
    if hint is Any:  # checked by its own module (the rules)
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, file, key, channel_kinds=kinds)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(file, key, f"expected a list, got {_describe(value)}")
        (item,) = args
        if _is_channel_union(item, kinds):
            return [_channel(v, file, f"{key}[{i}]", kinds) for i, v in enumerate(value)]
        return [_convert(item, v, file, f"{key}[{i}]", kinds) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(file, key, f"expected a table, got {_describe(value)}")
        _, vtype = args
        return {k: _convert(vtype, v, file, _join(key, k), kinds) for k, v in value.items()}
    if origin is Literal:
        if value not in args:
            choices = " | ".join(repr(a) for a in args)
            raise ConfigError(file, key, f"expected one of {choices}, got {value!r}")
        return value
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _convert(options[0], value, file, key, kinds)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in _TYPE_NAMES:
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise ConfigError(file, key, f"expected {_TYPE_NAMES[hint]}, got {_describe(value)}")
        return value
    raise TypeError(f"unsupported config type {hint!r} at {key}")  # a bug in the schema, not the file


def _channel(value: Any, file: Path | str, key: str, kinds: dict[str, type]) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(file, key, f"expected a table, got {_describe(value)}")
    kind = value.get("kind")
    if kind is None:
        raise ConfigError(file, f"{key}.kind", f"required key is missing (one of: {', '.join(kinds)})")
    if kind not in kinds:
        raise ConfigError(file, f"{key}.kind", f"expected one of {', '.join(kinds)}, got {kind!r}")
    return build(kinds[kind], value, file, key, channel_kinds=kinds)


def _is_channel_union(hint: Any, kinds: dict[str, type]) -> bool:
    return typing.get_origin(hint) in (Union, types.UnionType) and set(typing.get_args(hint)) == set(kinds.values())


def check_secret(file: Path | str, prefix: str, obj: Any, base: str) -> None:
    """At most one of base, base_env, base_cmd may be set."""
    given = [name for name in (base, f"{base}_env", f"{base}_cmd") if getattr(obj, name, None)]
    if len(given) > 1:
        raise ConfigError(file, f"{prefix}.{given[1]}", f"give only one of {base}, {base}_env, {base}_cmd")


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"{value!r} (a string)"
    return f"{value!r} ({type(value).__name__})"

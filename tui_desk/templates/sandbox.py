"""A Jinja2 sandbox with limits: a template cannot take the desk's CPU or memory.

Jinja's own sandbox stops a template from reaching files or code, not from working
forever: `{{ 9**999999999 }}` computes for minutes (at compile time, by constant
folding) and `{{ "x"*3000000000 }}` asks for 3 GB. Here every operation that can make
a value grow is checked *before* it runs (powers, repeats, joins, replacements, padded
formats, widths), every value made is measured, and a render is stopped after
MAX_STEPS operations or TIME_LIMIT seconds. What goes over a limit raises
LimitExceeded, a SecurityError naming what was refused.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import threading
import time
import types
from collections.abc import Iterator, Sized
from contextlib import contextmanager

from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_VALUE = 100_000
"""Characters one value, and the rendered text, may have (a reply is a few thousand)."""
MAX_WORK = 2_000_000
"""Characters a render may make in all, every intermediate value counted."""
MAX_DIGITS = 3_000
"""Digits a number may have."""
MAX_STEPS = 100_000
"""Loop turns, calls, filters, lookups and operators in one render."""
TIME_LIMIT = 1.0
"""Seconds one render may take."""

_BITS_PER_DIGIT = math.log2(10)
_MAX_BITS = int(MAX_DIGITS * _BITS_PER_DIGIT)
# the widths in a %-format ("%-999999d", "%.*f") and in a str.format field ("{:>999999}")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_FIELD = re.compile(r"\{[^{}]*:([^{}]*)\}|\{[^{}]*\{")
_NUMBER = re.compile(r"\d+")


class LimitExceeded(SecurityError):
    """A template asked for more than the limits allow; the message says what."""


class _Budget:
    __slots__ = ("steps", "work", "deadline", "time_limit")

    def __init__(self, time_limit: float) -> None:
        self.steps = 0
        self.work = 0
        self.time_limit = time_limit
        self.deadline = time.monotonic() + time_limit


_local = threading.local()


@contextmanager
def limits(time_limit: float | None = None):
    """The budget of one render (per thread: the console renders in workers)."""
    previous = getattr(_local, "budget", None)
    _local.budget = _Budget(TIME_LIMIT if time_limit is None else time_limit)
    try:
        yield
    finally:
        _local.budget = previous


def _step(work: int = 0) -> None:
    budget = getattr(_local, "budget", None)
    if budget is None:  # compile-time constant folding: the size checks alone apply
        return
    budget.steps += 1
    budget.work += work
    if budget.steps > MAX_STEPS:
        raise LimitExceeded(f"more than {MAX_STEPS:,} steps (loop turns, calls, lookups): a loop too many?")
    if budget.work > MAX_WORK:
        raise LimitExceeded(f"the template makes more than {MAX_WORK:,} characters of text in all")
    if time.monotonic() >= budget.deadline:
        raise LimitExceeded(f"rendering took longer than {budget.time_limit:g} s")


def weight(value: object, seen: dict[int, int] | None = None) -> int:
    """About how many characters `value` prints as (containers walked once each)."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return int(abs(value).bit_length() / _BITS_PER_DIGIT) + 2
    if isinstance(value, float):
        return 24
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        seen = {} if seen is None else seen
        key = id(value)
        if key not in seen:
            seen[key] = 0  # a cycle (not makeable here, but cheap to survive) counts nothing more
            items = value.items() if isinstance(value, dict) else value
            total = 2
            for item in items:
                total += weight(item, seen) + 2
                if total > MAX_WORK:
                    break
            seen[key] = total
        return seen[key]
    return 64


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, int) or value.bit_length() < 64 else f"a {weight(value)}-digit number"
    return text if len(text) <= 24 else text[:21] + "..."


def _fits(size: int, what: str) -> None:
    if size > MAX_VALUE:
        raise LimitExceeded(f"{what} would be over {MAX_VALUE:,} characters")


def _checked(value: object, what: str = "a value") -> object:
    size = weight(value)
    _fits(size, what)
    _step(size)
    return value


def _check_power(left: object, right: object) -> None:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        if right * math.log2(abs(left)) > _MAX_BITS:
            raise LimitExceeded(f"{_short(left)} ** {_short(right)} would have over {MAX_DIGITS:,} digits")


def _check_product(left: object, right: object) -> None:
    if isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool):
        if abs(left).bit_length() + abs(right).bit_length() > _MAX_BITS:
            raise LimitExceeded(f"a product with over {MAX_DIGITS:,} digits")
        return
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int):
            _fits(weight(seq) * max(times, 0), f"repeating {_short(seq)} {times:,} times")


def _check_format(template: str, args: object) -> None:
    """A %-format or str.format whose widths or precisions would pad beyond the limit."""
    values = args if isinstance(args, (tuple, list)) else args.values() if isinstance(args, dict) else (args,)
    star = False
    for found in _PERCENT_SPEC.finditer(template):
        for number in found.groups():
            if number == "*":
                star = True
            elif number and int(number) > MAX_VALUE:
                raise LimitExceeded(f"a format width of {int(number):,} characters")
    for found in _FORMAT_FIELD.finditer(template):
        if found.group(1) is None:
            star = True  # "{:{}}": the width is one of the arguments
            continue
        for number in _NUMBER.findall(found.group(1)):
            if int(number) > MAX_VALUE:
                raise LimitExceeded(f"a format width of {int(number):,} characters")
    if star:
        for value in values:
            if isinstance(value, int) and abs(value) > MAX_VALUE:
                raise LimitExceeded(f"a format width of {value:,} characters")


def _check_method(method: object, args: tuple, kwargs: dict) -> None:
    """str/bytes methods that make a longer string than they are given."""
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, (str, bytes)) or not isinstance(method, types.BuiltinMethodType):
        return
    name = method.__name__
    first = args[0] if args else next(iter(kwargs.values()), None)
    if name in ("center", "ljust", "rjust", "zfill") and isinstance(first, int):
        _fits(first, f"{name}({first:,})")
    elif name == "expandtabs":
        size = first if isinstance(first, int) else 8
        _fits(len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t") * size, "expandtabs")
    elif name == "replace" and len(args) >= 2:
        _fits(_replaced_size(owner, args[0], args[1], args[2] if len(args) > 2 else None), "replace")
    elif name == "join" and isinstance(first, Sized):
        _fits(weight(first) + len(first) * len(owner), "join")
    elif name == "translate" and isinstance(first, dict):
        longest = max((len(v) for v in first.values() if isinstance(v, (str, bytes))), default=1)
        _fits(len(owner) * max(longest, 1), "translate")


def _replaced_size(text: object, old: object, new: object, count: object) -> int:
    if not isinstance(text, (str, bytes)) or not isinstance(old, type(text)) or not isinstance(new, type(text)):
        return 0
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(len(new) - len(old), 0)


_GROWING_FILTERS = frozenset({"center", "indent", "replace", "join", "wordwrap", "format", "batch", "slice", "sum",
                              "tojson"})


@functools.lru_cache(maxsize=None)
def _signature(func) -> inspect.Signature:
    return inspect.signature(func)


def _bind(func, args: tuple, kwargs: dict) -> dict:
    try:
        return _signature(func).bind(*args, **kwargs).arguments
    except TypeError:
        return {}  # the filter itself will say what is wrong with its arguments


def _check_filter(name: str, func, args: tuple, kwargs: dict) -> None:
    """Filters that make a longer value than they are given, checked before they run."""
    if name not in _GROWING_FILTERS:
        return
    a = _bind(func, args, kwargs)
    if name == "center" and isinstance(a.get("width"), int):
        _fits(a["width"], f"center({a['width']:,})")
    elif name == "indent":
        width = a.get("width", 4)
        text = a.get("s", "")
        prefix = width if isinstance(width, int) else len(str(width))
        lines = text.count("\n") + 1 if isinstance(text, str) else 1
        _fits(len(str(text)) + lines * max(prefix, 0), "indent")
    elif name == "replace":
        _fits(_replaced_size(a.get("s"), a.get("old"), a.get("new"), a.get("count")), "replace")
    elif name == "join" and isinstance(a.get("value"), Sized):
        _fits(weight(a["value"]) + len(a["value"]) * len(str(a.get("d", ""))), "join")
    elif name == "wordwrap":
        text, wrap = str(a.get("s", "")), a.get("wrapstring")
        _fits(len(text) * max(len(wrap) if isinstance(wrap, str) else 1, 1), "wordwrap")
    elif name == "format":
        _check_format(str(a.get("value", "")), a.get("args") or a.get("kwargs") or ())
    elif name in ("batch", "slice"):
        count = a.get("linecount", a.get("slices"))
        if isinstance(count, int) and count > MAX_VALUE:
            raise LimitExceeded(f"{name}({count:,})")
    elif name == "sum" and not isinstance(a.get("start", 0), (int, float)):
        raise LimitExceeded("sum adds numbers only")
    elif name == "tojson" and isinstance(a.get("indent"), int):
        _fits(weight(a.get("value")) * (1 + max(a["indent"], 0)), "tojson")


def _bounded_filter(name: str, func):
    """`func` with its arguments checked before and its result measured after."""
    @functools.wraps(func)  # keeps jinja_pass_arg: Jinja still passes the context it asks for
    def bounded(*args, **kwargs):
        _step()
        _check_arguments(args, kwargs)
        _check_filter(name, func, args, kwargs)
        result = func(*args, **kwargs)
        if isinstance(result, Iterator):
            return _bounded_items(result)
        return _checked(result, f"the result of | {name}")
    return bounded


def _check_arguments(args: tuple, kwargs: dict) -> None:
    """No argument over the limit: a list literal of big lists is cheap to write and
    costly to print (`| pprint`, `| string`), and no legitimate call needs one."""
    for value in (*args, *kwargs.values()):
        _fits(weight(value), "an argument")


def _bounded_items(items):
    for item in items:
        yield _checked(item)


class _BoundedCodeGenerator(CodeGenerator):
    """Loops and `~` go through the environment, where they are counted and measured.
    (Jinja allows no custom node types: a loop's iterable is recognised by identity.)"""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loop_costs: dict[int, int] = {}

    def visit_For(self, node: nodes.For, frame) -> None:
        # the literal text of the loop body is made again at every turn: it is the turn's cost
        cost = 1 + sum(len(d.data) for body in node.body for d in body.find_all(nodes.TemplateData))
        self._loop_costs[id(node.iter)] = cost
        super().visit_For(node, frame)

    def visit(self, node, *args, **kwargs):
        cost = self._loop_costs.pop(id(node), None) if self._loop_costs else None
        if cost is None:
            return super().visit(node, *args, **kwargs)
        self.write("environment.bounded_iter(")
        super().visit(node, *args, **kwargs)
        self.write(f", {cost})")
        return None

    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment with limits on what a template may compute.
    Render inside `limits()`: the steps and the time are counted per render."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, **kwargs) -> None:
        super().__init__(finalize=_checked, **kwargs)
        self.filters = {name: _bounded_filter(name, func) for name, func in self.filters.items()}

    def call_binop(self, context, operator: str, left, right):
        _step()
        if operator == "**":
            _check_power(left, right)
        elif operator == "*":
            _check_product(left, right)
        elif operator == "+" and not (isinstance(left, (int, float)) and isinstance(right, (int, float))):
            _fits(weight(left) + weight(right), "the sum")
        elif operator == "%" and isinstance(left, str):
            _check_format(left, right)
        return _checked(self.binop_table[operator](left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        _step()
        _check_arguments(args, kwargs)
        _check_method(__obj, args, kwargs)
        return _checked(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj, attribute):
        _step()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _step()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value):
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        template = value.__self__

        @functools.wraps(wrapper)
        def bounded(*args, **kwargs):
            _check_format(template, args + tuple(kwargs.values()))
            return _checked(wrapper(*args, **kwargs))
        return bounded

    def bounded_iter(self, iterable, cost: int):
        for item in iterable:
            _step(cost)
            yield item

    def bounded_concat(self, parts: tuple) -> str:
        _fits(sum(weight(p) for p in parts), "the joined text")
        return _checked("".join(map(str, parts)))


__all__ = ["BoundedSandbox", "LimitExceeded", "MAX_STEPS", "MAX_VALUE", "TIME_LIMIT", "limits"]

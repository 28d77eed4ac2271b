"""Rendering templates in a sandbox, with the conversation's variables and fill-in slots.

Templates run in Jinja2's ImmutableSandboxedEnvironment with limits (sandbox.py): no
file access, no attributes outside the context (underscore names are refused), no
mutation, no code, and no more than a bounded amount of work and text. Values are
inserted as data, never rendered again, so a customer named "{{ 7*7 }}" stays that.
A variable the conversation does not have, an unfilled `{{ ask("…") }}` slot or a
template error make the result not `ok`: the preview shows the problem, send refuses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import jinja2
from jinja2 import meta, nodes

from ..config import Config
from ..hours import zone
from ..textsafe import one_line
from ..subjects import ticket_tag
from .faqlinks import NEEDS_CONVERSATION, FaqLinks, LazyPages, SiteGroup, page_file, site_ask
from .library import Template, TemplateLibrary, templates_dir
from .sandbox import MAX_VALUE, BoundedSandbox, LimitExceeded, limits

VARIABLES: dict[str, tuple[str, ...]] = {
    "customer": ("name", "first_name", "email", "local_time"),
    "agent": ("name", "id", "signature"),
    "conversation": ("id", "subject", "ticket", "channel"),
    "desk": ("name", "company", "hours", "next_opening"),
    "on_call": ("name",),
}
FUNCTIONS = ("ask",)
OBJECTS: dict[str, tuple[str, ...]] = {"faq": ("url", "base_url")}
SITE_DESK = ("name", "company", "hours")
"""What the FAQ site may show of `desk` (next_opening changes by the hour; a page stays)."""


WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "pt": ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo"),
    "it": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
    "ja": ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"),
}
"""Weekday names for `desk.next_opening` in a template's language (English otherwise)."""


class Opening(str):
    """`desk.next_opening`: "Monday 09:00 (Europe/Berlin)" in the customer's zone; `render`
    writes it in the template's language."""

    def __new__(cls, at: dt.datetime) -> "Opening":
        opening = super().__new__(cls, _written(at, "en"))
        opening.at = at
        return opening

    def written_in(self, language: str) -> str:
        return _written(self.at, language)


def _written(at: dt.datetime, language: str) -> str:
    names = WEEKDAYS.get((language or "en").split("-")[0].lower(), WEEKDAYS["en"])
    return f"{names[at.weekday()]} {at:%H:%M} ({getattr(at.tzinfo, 'key', at.tzname())})"


class Vars(dict):
    """A variable group (customer, agent, ...); knows its name for error messages."""

    def __init__(self, label: str, values: dict) -> None:
        super().__init__({k: v for k, v in values.items() if v not in (None, "")})
        self._label = label  # underscore: the sandbox never lets a template read it


class _Undefined(jinja2.StrictUndefined):
    """Printing a missing value is an error naming it; `| default(...)`, `is defined`
    and `{% if %}` work on it."""

    __bool__ = lambda self: False  # noqa: E731

    @property
    def _undefined_message(self) -> str:
        owner = getattr(self._undefined_obj, "_label", None)
        if owner:
            return f"{owner}.{self._undefined_name} is not known here (add | default(\"…\"))"
        return f"{self._undefined_name or 'a value'} is not defined"


def _environment() -> BoundedSandbox:
    env = BoundedSandbox(undefined=_Undefined, autoescape=False, keep_trailing_newline=False)
    env.globals.clear()  # no range/lipsum/cycler/namespace: templates need none of them
    return env


ENV = _environment()


@dataclass
class Rendered:
    """A rendered template: the text, and what stands between it and sending."""

    text: str
    problems: list[str] = field(default_factory=list)
    slots: list[str] = field(default_factory=list)
    """Every `ask("…")` label, in order."""
    missing: list[str] = field(default_factory=list)
    """Slots not filled yet (shown as ⟨label⟩ in the text)."""

    @property
    def ok(self) -> bool:
        """True when the text can be sent as it is."""
        return not self.problems and not self.missing


class _Ask:
    """The `ask("label")` function: the agent's answer, or a marked gap."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.slots: list[str] = []
        self.missing: list[str] = []

    def __call__(self, label: object = "value") -> str:
        label = one_line(str(label)) or "value"
        if label not in self.slots:
            self.slots.append(label)
        answer = (self.answers.get(label) or "").strip()
        if answer:
            return answer
        if label not in self.missing:
            self.missing.append(label)
        return f"⟨{label}⟩"


_compiled: dict[tuple[str, str], jinja2.Template] = {}


def compile_body(template: Template) -> jinja2.Template:
    """The compiled body (cached per body text); raises jinja2.TemplateError."""
    key = (template.id, template.body)
    if key not in _compiled:
        if len(_compiled) > 4096:
            _compiled.clear()
        _compiled[key] = ENV.from_string(template.body)
    return _compiled[key]


def render(template: Template, variables: dict[str, dict], answers: dict[str, str] | None = None) -> Rendered:
    """Render `template` with `variables` (group → values) and slot `answers`."""
    ask = _Ask(answers or {})
    desk = variables.get("desk", {})
    if isinstance(desk.get("next_opening"), Opening):  # (a plain str from here on: no attributes to reach)
        variables = {**variables, "desk": {**desk, "next_opening": desk["next_opening"].written_in(template.language)}}
    context = {name: Vars(name, variables.get(name, {})) for name in VARIABLES}
    context["ask"] = ask
    links = variables.get("faq", {})
    context["faq"] = FaqLinks(links.get("base_url", ""), links.get("pages", {}))
    return _rendered(template, context, ask)


def render_for_site(template: Template, desk: dict, links: FaqLinks) -> Rendered:
    """The customer-facing text for the FAQ site: `faq` is true, `desk` offers only
    SITE_DESK, and anything that needs a conversation is a problem naming it."""
    context: dict[str, object] = {name: SiteGroup(name, {}, NEEDS_CONVERSATION) for name in VARIABLES}
    context["desk"] = SiteGroup("desk", {k: desk[k] for k in SITE_DESK if desk.get(k)},
                                "is not shown on the FAQ site (it would be out of date on a page that stays):"
                                " keep it inside {% if not faq %}…{% endif %}")
    context["ask"] = site_ask
    context["faq"] = links
    return _rendered(template, context, _Ask({}))


def _rendered(template: Template, context: dict, ask: "_Ask") -> Rendered:
    try:
        text = _bounded_render(compile_body(template), context)
    except jinja2.TemplateSyntaxError as exc:
        return Rendered("", [f"syntax error on line {exc.lineno}: {exc.message}"], ask.slots, ask.missing)
    except jinja2.UndefinedError as exc:  # NotOnSite included
        return Rendered("", [str(exc.message)], ask.slots, ask.missing)
    except LimitExceeded as exc:
        return Rendered("", [f"too much for a template: {exc}"], ask.slots, ask.missing)
    except RecursionError:
        return Rendered("", ["too much for a template: calls nested too deep (a macro that calls itself?)"],
                        ask.slots, ask.missing)
    except jinja2.exceptions.SecurityError as exc:
        return Rendered("", [f"refused by the sandbox: {exc}"], ask.slots, ask.missing)
    except Exception as exc:  # noqa: BLE001 - any template error is shown, never sent
        return Rendered("", [f"template error: {type(exc).__name__}: {exc}"], ask.slots, ask.missing)
    return Rendered(text.strip("\n"), [], ask.slots, ask.missing)


def _bounded_render(compiled: jinja2.Template, context: dict) -> str:
    """The text, within the sandbox's limits; the output is measured as it is made."""
    with limits():
        out: list[str] = []
        size = 0
        for chunk in compiled.generate(context):
            size += len(chunk)
            if size > MAX_VALUE:
                raise LimitExceeded(f"the text would be over {MAX_VALUE:,} characters")
            out.append(chunk)
        return "".join(out)


# what `check` renders each template with, to find work beyond the sandbox's limits
SAMPLE: dict[str, dict] = {
    "customer": {"name": "Sam Sample", "first_name": "Sam", "email": "sam@example.com", "local_time": "09:00"},
    "agent": {"name": "Agent", "id": "agent", "signature": "Agent\nSupport"},
    "conversation": {"id": 1, "subject": "Sample subject", "ticket": "[#1]", "channel": "mail"},
    "desk": {"name": "Desk", "company": "Company", "hours": "mon-fri 09:00-17:00", "next_opening": "Monday 09:00"},
    "on_call": {"name": "On Call"},
    "faq": {"base_url": "https://help.example.com/faq/", "pages": None},  # ids are checked by check_library
}
_FAILED = ("too much for a template:", "refused by the sandbox:", "template error:")


def check_body(template: Template) -> list[str]:
    """Static problems (syntax errors, variables that do not exist), then a trial
    render with SAMPLE values: what the sandbox refuses (work beyond its limits) or
    what fails whatever the conversation."""
    try:
        tree = ENV.parse(template.body)
    except jinja2.TemplateSyntaxError as exc:
        return [f"syntax error on line {exc.lineno}: {exc.message}"]
    problems = []
    known = set(VARIABLES) | set(FUNCTIONS) | set(OBJECTS)
    try:  # compiles the tree: unknown filters and tests show up here
        undeclared = meta.find_undeclared_variables(tree)
    except jinja2.TemplateError as exc:
        problems.append(f"template error: {exc.message}")
        undeclared = set()
    for name in sorted(undeclared - known):
        problems.append(f"unknown variable {name!r} (known: {', '.join(sorted(known))})")
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        owner = node.node
        attr = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
        if isinstance(owner, nodes.Name) and owner.name in VARIABLES and attr not in VARIABLES[owner.name]:
            problems.append(f"unknown variable {owner.name}.{attr} (known: {', '.join(VARIABLES[owner.name])})")
        if isinstance(owner, nodes.Name) and owner.name in OBJECTS and attr not in OBJECTS[owner.name]:
            problems.append(f"unknown name {owner.name}.{attr} (known: {', '.join(OBJECTS[owner.name])})")
    if not problems:  # a template that does not compile is not tried; unknown names were found above
        problems.extend(p for p in render(template, SAMPLE).problems if p.startswith(_FAILED))
    return sorted(set(problems))


def variables_for(config: Config, conversation: dict, customer: dict | None, *, agent: str,
                  on_call: str | None = None, now: dt.datetime | None = None) -> dict[str, dict]:
    """The variable groups for one conversation (plain data; see docs/templates.md)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    hours = config.desk.hours()
    customer = customer or {}
    name = one_line(customer.get("name", ""))
    identities = customer.get("identities", [])
    email = next((i["address"] for i in identities if i["kind"] == "email"), "")
    tz = None
    if customer.get("timezone"):
        try:
            tz = zone(customer["timezone"])
        except ValueError:
            tz = None
    opening = hours.next_opening(now)
    where = tz or hours.tz
    return {
        "customer": {
            "name": name,
            "first_name": _first_name(name),
            "email": one_line(email),
            "local_time": now.astimezone(tz).strftime("%H:%M") if tz else None,
        },
        "agent": dict(zip(("name", "signature"), config.signing(agent)), id=agent),
        "conversation": {
            "id": conversation["id"], "subject": one_line(conversation.get("subject", "")),
            "ticket": ticket_tag(conversation["id"]), "channel": conversation.get("channel", ""),
        },
        "desk": {
            **desk_values(config),
            "next_opening": Opening(opening.astimezone(where)) if opening else None,
        },
        "on_call": {"name": on_call},
        "faq": {"base_url": config.faq.base_url, "pages": LazyPages(lambda: faq_pages(config))},
    }


def entry_language(template: Template, default: str) -> str:
    """The language a FAQ entry is published in: its template's, else [faq] language."""
    return template.language or default


def faq_pages(config: Config, templates: list[Template] | None = None) -> dict[str, str]:
    """Template id → FAQ page file, for the templates with faq = true."""
    if templates is None:
        templates = TemplateLibrary(templates_dir(config)).templates()
    return {t.id: page_file(entry_language(t, config.faq.language)) for t in templates if t.faq}


def desk_values(config: Config) -> dict[str, str]:
    """`desk.name`, `desk.company` and `desk.hours`: the same in every conversation."""
    return {"name": config.desk.name, "company": config.desk.company,
            "hours": f"{', '.join(config.desk.business_hours)} ({config.desk.timezone})"}


def _first_name(name: str) -> str | None:
    """The first word of a person's name; None for an address or a handle."""
    if not name or "@" in name:
        return None
    if "," in name:  # "Jones, Mike"
        name = name.split(",", 1)[1] or name
    words = name.split()
    if not words:
        return None
    first = words[0]
    return first if any(c.isalpha() for c in first) else None


def check_library(library) -> dict[str, list[str]]:
    """File name → problems (unreadable front matter, syntax, unknown variables,
    two templates on one digit). Only files with problems are listed."""
    templates, broken = library.scan()
    out: dict[str, list[str]] = {name: [problem] for name, problem in broken.items()}
    holders: dict[int, list[Template]] = {}
    published = {t.id: "" for t in templates if t.faq}
    for t in templates:
        problems = check_body(t)
        if not problems:
            problems = faq_problems(t, published)
        if problems:
            out.setdefault(t.path.name, []).extend(problems)
        if t.key is not None:
            holders.setdefault(t.key, []).append(t)
    for key, group in holders.items():
        if len(group) > 1:
            for t in group:
                others = ", ".join(o.id for o in group if o is not t)
                out.setdefault(t.path.name, []).append(f"key {key} is also pinned by {others}")
    return out


def linked_entries(template: Template) -> list[str]:
    """The ids given to `faq.url("…")` as literals in the template's body."""
    try:
        tree = ENV.parse(template.body)
    except jinja2.TemplateSyntaxError:
        return []
    found = []
    for call in tree.find_all(nodes.Call):
        target = call.node
        if (isinstance(target, nodes.Getattr) and target.attr == "url" and isinstance(target.node, nodes.Name)
                and target.node.name == "faq" and call.args and isinstance(call.args[0], nodes.Const)):
            found.append(str(call.args[0].value))
    return found


def faq_problems(template: Template, published: dict[str, str]) -> list[str]:
    """Links to entries that are not published, and, for a template with faq = true,
    what its FAQ rendering refuses (a conversation's variable outside `{% if not faq %}`)."""
    problems = [f'faq.url("{name}"): there is no template {name!r} with faq = true'
                for name in linked_entries(template) if name not in published]
    if template.faq:
        site = render_for_site(template, SAMPLE["desk"], FaqLinks("", published, site=True))
        problems.extend(f"on the FAQ site: {p}" for p in site.problems)
    return problems

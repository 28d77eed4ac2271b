"""The desk's configuration: typed objects read from one TOML file.

Every section is a dataclass whose attribute docstrings document the key. `load()`
checks the file strictly: an unknown key, a wrong type or a missing required key
raises `ConfigError` naming the file, the key and what is expected. Secrets are kept
as `Secret` references and resolved only when a channel connects, so they never sit
in the config object's repr, the database or any output.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from .configload import build, check_secret, exposed_secrets_warning, inline_secrets
from .durations import parse_duration
from .errors import ConfigError
from .hours import BusinessHours, parse_business_hours, parse_holidays
from .channel_kinds import CHANNEL_KINDS
from .config_channels import Channel, ImapChannel, JsonlChannel, MaildirChannel, MatrixChannel
from .secrets import Secret
from . import paths

__all__ = ["CHANNEL_KINDS", "Channel", "Config", "ImapChannel", "JsonlChannel", "MaildirChannel", "MatrixChannel",
           "Secret", "find_config_path", "load"]

LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
"""A BCP 47 language tag, as the FAQ site's pages and templates' `language` use them."""
_PRIORITIES = ("low", "normal", "high", "urgent")  # the store's conversation priorities (schema m001)


@dataclass
class DeskSection:
    """[desk]: who the desk is and when it is open."""

    name: str = "Support"
    """Shown in the TUI title and in reports."""
    company: str = "Our company"
    """Used in templates as desk.company."""
    support_address: str = "support@example.com"
    """The address replies are sent from."""
    timezone: str = "UTC"
    """IANA zone of the desk (business hours, reports), e.g. "Europe/Berlin"."""
    business_hours: list[str] = field(default_factory=lambda: ["mon-fri 09:00-17:00"])
    """Opening hours in the desk's zone, e.g. ["mon-fri 09:00-17:00", "sat 10:00-13:00"]."""
    holidays: list[str] = field(default_factory=list)
    """Closed days as ISO dates, e.g. ["2026-12-25"]."""
    attachment_limit_mb: int = 20
    """The most a reply's attachments may weigh together, in MB (many mail servers take 25)."""
    assign_on_reply: bool = True
    """A person's reply to an unassigned conversation assigns it to them (false: replies
    leave the assignee alone)."""

    def hours(self) -> BusinessHours:
        """The business hours as a queryable object."""
        return BusinessHours(
            self.timezone,
            parse_business_hours(self.business_hours),
            parse_holidays(self.holidays),
        )


@dataclass
class AgentSection:
    """[agent]: the person at this terminal."""

    name: str = field(default_factory=lambda: os.environ.get("USER") or "agent")
    """Your name as colleagues and customers see it; defaults to $USER."""
    email: str = ""
    """Your own address (optional; used for on-call pages and reports)."""
    display_name: str = ""
    """How replies sign you ({{ agent.name }} in templates), e.g. "Ana Souza"; empty: `name`."""
    signature: str = ""
    """Your signature: {{ agent.signature }} in templates, and below a new reply in the composer."""
    signature_file: str = ""
    """Or read it from this file (relative to the config file)."""


@dataclass
class StorageSection:
    """[storage]: where the queue lives."""

    database: str = ""
    """Path of the SQLite database; empty means the platform data dir. `--db` wins."""


@dataclass
class TemplatesSection:
    """[templates]: reply templates."""

    dir: str = ""
    """Folder of template files (Markdown with +++ TOML front matter); empty means the built-in set."""
    undo_seconds: int = 10
    """How long a one-keystroke reply waits before it is delivered (u cancels)."""
    automate_min_close_rate: float = 0.8
    """`report templates` flags a template "ready to automate" at this close rate..."""
    automate_min_uses: int = 20
    """...over at least this many uses; both are also the gate of `templates promote --to auto`."""
    auto_daily_cap: int = 50
    """At most this many automatic replies per template a day (the last 24 hours)."""
    auto_review_uses: int = 10
    """A template in auto is demoted when its last N automatic uses fall below the gate."""
    auto_handoff: str = "This answer was sent automatically. Reply to this message to reach a person."
    """The line an automatic reply ends with, unless its template has its own `handoff`."""


@dataclass
class FaqSection:
    """[faq]: the FAQ site built from templates with faq = true (`tui-desk faq build`)."""

    base_url: str = ""
    """Where the built site is published, e.g. "https://help.example.com/faq/"; templates
    link to an entry with {{ faq.url("return-label") }}. Empty: such links are refused."""
    language: str = "en"
    """The language of entries whose template names none (a BCP 47 tag such as "en" or "zh")."""


@dataclass
class OncallSmtp:
    """[oncall.smtp]: the SMTP server email pages go through, when not an imap channel's."""

    host: str
    port: int = 465
    tls: Literal["ssl", "starttls", "none"] = "ssl"
    """"none" is accepted only for loopback hosts."""
    username: str = ""
    """Empty: send without logging in."""
    password: str | None = None
    password_env: str | None = None
    password_cmd: str | None = None

    def secret(self) -> Secret:
        return Secret(self.password, self.password_env, self.password_cmd, "[oncall.smtp]")


@dataclass
class EscalationStep:
    """One step of [oncall.escalation] steps: whom a page reaches, how long after the
    round began (see oncall.escalation)."""

    after: str = "0m"
    """A duration: "0m", "10m", "90s", "1h"."""
    notify: Any = "oncall"
    """"oncall" (who is on call now), "next" (who is on call after them), or a list of
    roster ids; checked by `check`."""


@dataclass
class EscalationSection:
    """[oncall.escalation]: how an unacknowledged page escalates."""

    steps: list[EscalationStep] = field(default_factory=lambda: [EscalationStep()])
    repeat: int = 0
    """How many times the steps run again after the first round."""


@dataclass
class OncallSection:
    """[oncall]: the emergency-phone rotation (rotations themselves live in the database)."""

    comp_days_per_shift: float = 1.0
    """Compensation days earned per full shift."""
    weekend_weight: float = 1.5
    """Weight of weekend hours when computing compensation and fairness."""
    holiday_weight: float = 2.0
    """Weight of holiday hours."""
    roster: str = ""
    """Optional TOML file with people and their contacts (see data/demo/oncall.toml);
    a relative path is taken from the config file's folder."""
    page_from: str = ""
    """From address of email pages; empty means [desk] support_address."""
    smtp_channel: str = ""
    """Name of the imap channel whose smtp_* settings send email pages. Empty: [oncall.smtp]
    when given, else the first imap channel."""
    smtp: OncallSmtp | None = None
    """An SMTP server of its own for email pages (see OncallSmtp)."""
    matrix_channel: str = ""
    """Name of the matrix channel whose account sends Matrix pages. Empty: the first
    matrix channel."""
    escalation: EscalationSection = field(default_factory=EscalationSection)
    """What happens to a page nobody acknowledges."""


@dataclass
class AgentEntry:
    """[[agents]]: a member of the team (also added with `tui-desk agents add`)."""

    name: str
    email: str = ""
    """Their own address: mail from it is classed `agent`, never answered automatically."""
    display_name: str = ""
    """How their replies sign them; empty: `name`."""
    signature: str = ""
    signature_file: str = ""


@dataclass
class GroupSection:
    """[[groups]]: a team rules can route to (`assign = "group:NAME"`)."""

    name: str
    members: list[str] = field(default_factory=list)
    """Agent names."""
    assign: Literal["round-robin", "least-open", "manual"] = "round-robin"
    """How a routed conversation gets its agent; away agents are skipped ("manual": nobody)."""


@dataclass
class AutomationSection:
    """[automation]: the loop guard's limits on what rules send by themselves."""

    max_per_hour: int = 3
    """Automatic messages to one recipient per hour; more are suppressed (and recorded)."""
    max_per_day: int = 10
    """...and per day."""
    own_domains: list[str] = field(default_factory=list)
    """Domains of our own Message-IDs (mail from them is classed `self`); empty: the domain
    of [desk] support_address."""
    ack_quiet_after_agent: str = "10m"
    """after_hours_ack: not sent when an agent (e.g. the person on call) replied in the
    conversation this recently."""


@dataclass
class SurveySection:
    """[survey]: the satisfaction survey, sent in the customer's own channel (docs/reports.md)."""

    enabled: bool = False
    """Send surveys at all (sync sends them, like every automatic message)."""
    delay: str = "24h"
    """How long a conversation must have stayed solved before its survey goes out ("24h";
    seconds such as "30s" are accepted)."""
    cooldown: str = "30d"
    """At most one survey per customer in this long."""
    expires: str = "14d"
    """An answer later than this after the survey is an ordinary message. A conversation
    solved longer ago than delay + expires gets no survey (so turning surveys on does
    not ask every old customer)."""
    template: str = "survey"
    """Template id of the survey in the desk's language; "<template>-<language>" (e.g.
    survey-de) is used for a customer who writes in that language."""


@dataclass
class ReportsSection:
    """[reports]: targets and defaults of `tui-desk report`."""

    sla_first_response_hours: dict[str, float] = field(
        default_factory=lambda: {"urgent": 1.0, "high": 4.0, "normal": 24.0, "low": 72.0})
    """First-response target per priority, in hours; a priority left out has no target."""
    sla_clock: Literal["business", "calendar"] = "business"
    """Whether SLA targets count business hours (the desk's opening hours) or calendar hours."""
    default_period: str = "4w"
    """The period when --since is not given: 7d, 4w, 3m or a date."""
    what_if_minutes: int = 30
    """`report hours`: the on-call answer time assumed for after-hours conversations."""


@dataclass
class Config:
    """The whole configuration. `path` is the file it came from (None: built-in defaults)."""

    RETIRED: ClassVar[dict[str, str]] = {}
    OLD_RULES: ClassVar[str] = (
        "[rules] is now a list of [[rules]] tables (see docs/rules.md); automate_min_close_rate and"
        " automate_min_uses moved to [templates], and after_hours_ack, page_on_urgent and urgent_keywords"
        " are written as rules")

    desk: DeskSection = field(default_factory=DeskSection)
    agent: AgentSection = field(default_factory=AgentSection)
    storage: StorageSection = field(default_factory=StorageSection)
    channels: list[Channel] = field(default_factory=list)
    templates: TemplatesSection = field(default_factory=TemplatesSection)
    faq: FaqSection = field(default_factory=FaqSection)
    keys: dict[str, str] = field(default_factory=dict)
    """Key rebinding: action id → keys, e.g. reply = "r,R"."""
    oncall: OncallSection = field(default_factory=OncallSection)
    agents: list[AgentEntry] = field(default_factory=list)
    groups: list[GroupSection] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    """[[rules]] tables, checked and compiled by tui_desk.rules (see docs/rules.md)."""
    rules_file: str = ""
    """A TOML file of [[rules]] (and [[groups]]) beside this one, read after these."""
    automation: AutomationSection = field(default_factory=AutomationSection)
    reports: ReportsSection = field(default_factory=ReportsSection)
    survey: SurveySection = field(default_factory=SurveySection)
    path: Path | None = field(default=None, metadata={"toml": False})
    """The file this came from (not a key of the file)."""
    warnings: list[str] = field(default_factory=list, metadata={"toml": False})
    """What is accepted but unsafe (a password in a file others can read); front ends
    print these on stderr."""

    def channel(self, name: str) -> Channel:
        """The channel called `name`; ConfigError if there is none."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        known = ", ".join(c.name for c in self.channels) or "none configured"
        raise ConfigError(self.path or "config", "channels", f"no channel named {name!r} (known: {known})")

    def own_domains(self) -> frozenset[str]:
        """Domains of our own Message-IDs ([automation] own_domains, else the support address's)."""
        domains = self.automation.own_domains or [self.desk.support_address.rpartition("@")[2]]
        return frozenset(d.strip().lower() for d in domains if d.strip())

    def agent_addresses(self) -> frozenset[str]:
        """The team's own addresses: [[agents]] emails and this terminal's [agent] email."""
        found = [a.email for a in self.agents] + [self.agent.email]
        return frozenset(e.strip().lower() for e in found if e.strip())

    def signing(self, agent: str) -> tuple[str, str]:
        """(display name, signature) a reply by `agent` signs with: [agent] for the person
        at this terminal, else their [[agents]] entry; the name itself when neither says."""
        entry = self.agent if agent == self.agent.name else next((a for a in self.agents if a.name == agent), None)
        if entry is None:
            return agent, ""
        signature = entry.signature
        if not signature and entry.signature_file:
            path = Path(entry.signature_file).expanduser()
            path = path if path.is_absolute() or self.path is None else self.path.parent / path
            try:
                signature = path.read_text(encoding="utf-8").rstrip("\n")
            except (OSError, UnicodeDecodeError):
                signature = ""  # `config check` warns about it
        return entry.display_name or agent, signature

    def database_path(self, override: str | os.PathLike | None = None) -> Path:
        """`--db`, else [storage] database (relative to the config file), else the data dir."""
        if override:
            return Path(override).expanduser()
        if self.storage.database:
            db = Path(self.storage.database).expanduser()
            if not db.is_absolute() and self.path is not None:
                db = self.path.parent / db
            return db
        return paths.data_dir() / "desk.db"


def find_config_path(explicit: str | os.PathLike | None = None) -> Path:
    """`--config`, then $TUI_DESK_CONFIG, then the platform config dir. Before
    `tui-desk init` has written one there, the demo desk's config (if built) is used,
    so `tui-desk demo` followed by any command works on the demo."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("TUI_DESK_CONFIG")
    if env:
        return Path(env).expanduser()
    default = paths.config_dir() / "config.toml"
    if not default.exists() and paths.demo_config().exists():
        return paths.demo_config()
    return default


def load(path: str | os.PathLike | None = None, *, required: bool = False) -> Config:
    """Read and validate the config. A missing file gives the defaults unless `required`
    (an explicitly named file must exist)."""
    file = find_config_path(path)
    explicit = bool(path) or bool(os.environ.get("TUI_DESK_CONFIG"))
    if not file.exists():
        if required or explicit:
            raise ConfigError(file, None, "file not found (create one with `tui-desk init`)")
        return Config()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(file, None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, None, f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(file, None, f"cannot read: {exc.strerror}") from None
    config = from_dict(data, file)
    warning = exposed_secrets_warning(file, inline_secrets(config))
    if warning:
        config.warnings.append(warning)
    return config


def from_dict(data: dict, file: Path | str = "config") -> Config:
    """Build a validated Config from parsed TOML (used by `load` and tests)."""
    if isinstance(data.get("rules"), dict):
        raise ConfigError(file, "rules", Config.OLD_RULES)
    config: Config = build(Config, data, file, "", channel_kinds=CHANNEL_KINDS)
    config.path = Path(file) if not isinstance(file, Path) else file
    _check(config, file)
    return config


def _check(config: Config, file: Path | str) -> None:
    """Checks that span keys: unique channel names, one secret form, valid zones and hours."""
    seen: set[str] = set()
    for i, channel in enumerate(config.channels):
        if channel.name in seen:
            raise ConfigError(file, f"channels[{i}].name", f"duplicate channel name {channel.name!r}")
        seen.add(channel.name)
        channel.check(file, f"channels[{i}]")
    smtp = config.oncall.smtp
    if smtp is not None:
        check_secret(file, "oncall.smtp", smtp, "password")
        if smtp.tls == "none" and not paths.is_loopback(smtp.host):
            raise ConfigError(file, "oncall.smtp.tls",
                              f'"none" sends the password in clear; allowed only for loopback hosts, not {smtp.host!r}')
    _check_escalation(file, config.oncall.escalation)
    for priority, target in config.reports.sla_first_response_hours.items():
        if priority not in _PRIORITIES:
            raise ConfigError(file, f"reports.sla_first_response_hours.{priority}",
                              f"unknown priority (one of: {', '.join(_PRIORITIES)})")
        if target <= 0:
            raise ConfigError(file, f"reports.sla_first_response_hours.{priority}", "expected a positive number of hours")
    if config.faq.base_url and not config.faq.base_url.startswith(("https://", "http://", "file://")):
        raise ConfigError(file, "faq.base_url", f"expected an https://, http:// or file:// address,"
                                                f" got {config.faq.base_url!r}")
    if not LANGUAGE_TAG.fullmatch(config.faq.language):
        raise ConfigError(file, "faq.language", f'expected a language tag such as "en" or "zh-Hant",'
                                                f" got {config.faq.language!r}")
    try:
        config.desk.hours()
    except ValueError as exc:
        raise ConfigError(file, "desk", str(exc)) from None
    for key in ("delay", "cooldown", "expires"):
        try:
            if parse_duration(getattr(config.survey, key)).total_seconds() <= 0:
                raise ValueError("expected a duration above zero, e.g. \"24h\"")
        except ValueError as exc:
            raise ConfigError(file, f"survey.{key}", str(exc)) from None
    names = [g.name for g in config.groups]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(file, f"groups[{i}].name", f"duplicate group name {name!r}")


def _check_escalation(file: Path | str, escalation: EscalationSection) -> None:
    if not escalation.steps:
        raise ConfigError(file, "oncall.escalation.steps", 'expected at least one step, e.g. { after = "0m", notify = "oncall" }')
    if not 0 <= escalation.repeat <= 10:
        raise ConfigError(file, "oncall.escalation.repeat", "expected a number of repeats from 0 to 10")
    last = -1.0
    for i, step in enumerate(escalation.steps):
        key = f"oncall.escalation.steps[{i}]"
        try:
            after = parse_duration(step.after).total_seconds()
        except ValueError as exc:
            raise ConfigError(file, f"{key}.after", str(exc)) from None
        if after <= last:
            raise ConfigError(file, f"{key}.after", "each step comes later than the one before it")
        last = after
        names = [step.notify] if isinstance(step.notify, str) else step.notify
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise ConfigError(file, f"{key}.notify", 'expected "oncall", "next" or a list of roster ids, e.g. ["ana", "bo"]')

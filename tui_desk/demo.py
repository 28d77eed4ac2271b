"""The demo desk: data/demo imported through the real sync path into a fresh database.

The shipped files carry fixed dates; they are copied with every date shifted by the
same amount, so the newest message is a few minutes old and the demo always looks
recent. A few conversations are then answered with templates (answers.toml), so the
suggestions have the team's history to learn from. The copy, a config pointing at it, and the database live in one folder, beside the
demo FAQ site built from the shipped templates (`faq_dir`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import re
import shutil
import tomllib
from pathlib import Path

from . import config as config_mod, faq, paths
from .store import Store
from .sync import SyncResult, run

_DATE = re.compile(rb"^Date:[ \t]*(.*?)\r?$", re.MULTILINE | re.IGNORECASE)
NEWEST_AGE = dt.timedelta(minutes=12)


def demo_dir() -> Path:
    return paths.data_dir() / "demo"


def faq_dir(db_path: Path) -> Path:
    """Where the demo's FAQ site is written (beside its database)."""
    return db_path.parent / f"{db_path.stem}-faq"


BUILT = ".built"
"""Written last by `build`: a demo folder without it was interrupted and is built again."""


def build(db_path: Path | None = None, *, now: dt.datetime | None = None) -> tuple[Path, SyncResult]:
    """Build the demo into a fresh database and its FAQ into `faq_dir`; returns
    (config path, sync result)."""
    source = paths.shipped_data() / "demo"
    folder = db_path.parent if db_path else demo_dir()
    db_path = db_path or folder / "desk.db"
    work = folder / f"{db_path.stem}-source"
    shutil.rmtree(work, ignore_errors=True)  # its BUILT marker first: a crash below leaves no reusable demo
    _remove_database(db_path)
    now = now or dt.datetime.now(dt.timezone.utc)
    shift = now - NEWEST_AGE - _newest(source)
    _copy_maildir(source / "mail", work / "mail", shift)
    _copy_chat(source / "chat.jsonl", work / "chat.jsonl", shift)
    config_path = work / "config.toml"
    config_path.write_text(_config_text(db_path, paths.shipped_data() / "templates"), encoding="utf-8")
    config = config_mod.load(config_path)
    with Store.open(db_path) as store:
        store.ensure_agent(config.agent.name, config.agent.email)
        result = run(config, store)
        _answer(config, store, source / "answers.toml")
        faq.build(config, store, faq_dir(db_path))
    (work / BUILT).write_text(now.isoformat(), encoding="utf-8")
    return config_path, result


def existing(db_path: Path | None = None) -> tuple[Path, str] | None:
    """A demo desk built completely before at `db_path` (default: the demo folder):
    (its config path, when it was built); None when there is none to reuse."""
    folder = db_path.parent if db_path else demo_dir()
    db_path = db_path or folder / "desk.db"
    work = folder / f"{db_path.stem}-source"
    if not (db_path.exists() and (work / "config.toml").exists() and (work / BUILT).exists()):
        return None
    return work / "config.toml", (work / BUILT).read_text(encoding="utf-8")[:16].replace("T", " ")


def _answer(config: config_mod.Config, store: Store, answers: Path) -> None:
    """The team's past template replies (answers.toml), sent through the outbox and
    solved: the history the suggestions learn from."""
    from . import outbox
    from .templates import TemplateLibrary
    from .templates.quick import send_template
    library = TemplateLibrary.for_config(config)
    by_subject = {c["subject"]: c["id"] for c in store.conversations(limit=1000)}
    for item in tomllib.loads(answers.read_text(encoding="utf-8"))["answered"]:
        send_template(config, store, library.get(item["template"]), by_subject[item["subject"]], agent=item["agent"],
                      answers=item.get("answers"), status="solved", undo_seconds=0)
    outbox.deliver_due(config, store)


def _remove_database(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".sync.lock"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    shutil.rmtree(paths.attachments_dir(db_path), ignore_errors=True)


def _newest(source: Path) -> dt.datetime:
    dates = []
    for sub in ("cur", "new"):
        for file in (source / "mail" / sub).iterdir():
            found = _message_date(file.read_bytes())
            if found:
                dates.append(found)
    for line in (source / "chat.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            dates.append(dt.datetime.fromisoformat(json.loads(line)["time"]))
        except (ValueError, KeyError, TypeError):
            continue
    return max(dates)


def _message_date(raw: bytes) -> dt.datetime | None:
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    match = _DATE.search(head)
    if not match:
        return None
    try:
        return email.utils.parsedate_to_datetime(match.group(1).decode("ascii", "replace"))
    except (TypeError, ValueError):
        return None


def _copy_maildir(source: Path, target: Path, shift: dt.timedelta) -> None:
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("cur", "new"):
        for file in sorted((source / sub).iterdir()):
            if file.name.startswith("."):
                continue
            raw = file.read_bytes()
            when = _message_date(raw)
            if when is not None:
                moved = when + shift
                head_end = raw.find(b"\n\n")
                head, rest = (raw[:head_end], raw[head_end:]) if head_end >= 0 else (raw, b"")
                head = _DATE.sub(b"Date: " + email.utils.format_datetime(moved).encode(), head, count=1)
                raw = head + rest
            out = target / sub / file.name
            out.write_bytes(raw)
            if when is not None:  # delivery time = the shifted date
                stamp = (when + shift).timestamp()
                os.utime(out, (stamp, stamp))


def _copy_chat(source: Path, target: Path, shift: dt.timedelta) -> None:
    lines = []
    for line in source.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
            item["time"] = (dt.datetime.fromisoformat(item["time"]) + shift).isoformat(timespec="seconds")
            line = json.dumps(item, ensure_ascii=False)
        except (ValueError, KeyError, TypeError):
            pass  # a broken line stays as it is: the demo shows how it is flagged
        lines.append(line)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _config_text(db_path: Path, templates: Path) -> str:
    return f'''# The demo desk, written by `tui-desk demo`. Rebuilt on every run.
[desk]
name = "Northwind support (demo)"
company = "Northwind Outfitters"
support_address = "support@northwind.example"
timezone = "Europe/Berlin"
business_hours = ["mon-fri 09:00-18:00", "sat 10:00-14:00"]

[agent]
name = "demo"
email = "demo@northwind.example"
display_name = "Dana (demo)"
signature = "Dana · Northwind Outfitters support\\nMon-Fri 09-18, Sat 10-14 (Berlin time)"

[storage]
database = {json.dumps(str(db_path))}

[templates]
dir = {json.dumps(str(templates))}

[faq]  # the demo FAQ site, built by `tui-desk demo`; {{{{ faq.url("return-label") }}}} in a reply links there
base_url = {json.dumps(faq_dir(db_path).resolve().as_uri() + "/")}

[oncall]
roster = {json.dumps(str(paths.shipped_data() / "demo" / "oncall.toml"))}

[[channels]]
name = "mail"
kind = "maildir"
path = "mail"

[[channels]]
name = "chat"
kind = "jsonl"
path = "chat.jsonl"

# Rules (docs/rules.md): try `tui-desk rules test --conversation 13 --event conversation.new`
[[agents]]
name = "ana"
email = "ana@northwind.example"

[[agents]]
name = "bo"
email = "bo@northwind.example"

[[groups]]
name = "billing"
members = ["ana", "bo"]
assign = "round-robin"

[[rules]]
id = "after-hours"  # mail that arrives while closed hears when the desk opens (not mail older than that)
on = ["conversation.new"]
all = [{{ field = "hours", is = "closed" }}]
actions = [{{ after_hours_ack = "after-hours-ack" }}]

[[rules]]
id = "billing"
on = ["conversation.new"]
any = [{{ field = "subject", contains_any = ["refund", "invoice", "rechnung", "rücksendung"] }}]
none = [{{ field = "class", is = "bulk" }}]
actions = [{{ tag = "+billing" }}, {{ assign = "group:billing" }}]

[[rules]]
id = "privacy"
on = ["conversation.new"]
any = [{{ field = "subject", matches = "(?i)gdpr|erasure|personal data" }}]
actions = [{{ tag = "+privacy" }}, {{ priority = "high" }}, {{ note = "Data-protection request: answer within 30 days." }}]
stop = true

[[rules]]
id = "sales"
on = ["conversation.new"]
any = [{{ field = "subject", contains_any = ["wholesale", "partnership"] }}]
actions = [{{ tag = "+sales" }}, {{ priority = "low" }}]
'''

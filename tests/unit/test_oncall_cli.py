"""`tui-desk oncall …` end to end (in process): JSON shapes, exit codes, .ics, pages."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
import sys

import pytest

from tui_desk import cli
from tui_desk.oncall import ics

NOW = "2026-12-01T12:00:00+00:00"


@pytest.fixture
def desk(tmp_path, monkeypatch):
    """A config with a roster (email, command and matrix contacts) and a pinned clock."""
    roster = tmp_path / "oncall.toml"
    paged = tmp_path / "paged.txt"
    roster.write_text(f"""
[people.ana]
name = "Ana Lima"
email = "ana@example.org"
timezone = "Europe/Berlin"
contact = "email"

[people.bo]
name = "Bo Chen"
timezone = "America/New_York"
contact = "command"
notify_cmd = "{sys.executable} -c 'import sys, os; open(sys.argv[1], \\"w\\").write(os.environ[\\"TUI_DESK_ONCALL_WHO\\"] + \\":\\" + sys.stdin.read())' {paged}"

[people.chen]
name = "Chen Wu"
contact = "matrix"
matrix = "@chen:example.org"
""", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f"""
[desk]
timezone = "Europe/Berlin"
support_address = "support@desk.example"
holidays = ["2026-12-24", "2026-12-25"]
[agent]
name = "lead"
[storage]
database = "desk.db"
[oncall]
roster = "oncall.toml"
[oncall.smtp]
host = "127.0.0.1"
port = {_free_port()}
tls = "none"
""", encoding="utf-8")
    monkeypatch.setenv("TUI_DESK_CONFIG", str(config))
    monkeypatch.setenv("TUI_DESK_NOW", NOW)
    return {"config": config, "paged": paged, "tmp": tmp_path}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    old = sys.argv
    sys.argv = ["tui-desk", *args]
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def ok_json(capsys, *args: str):
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def add_support(capsys, *extra: str) -> None:
    code, _, err = run(capsys, "oncall", "rotation", "add", "support", "--members", "ana,bo,chen", "--length", "1w",
                       "--handoff", "mon 09:00", "--tz", "Europe/Berlin", "--start", "2026-11-30", *extra)
    assert code == 0, err


def test_rotation_who_and_now(desk, capsys):
    add_support(capsys)
    rot = ok_json(capsys, "oncall", "rotation", "show", "support")
    assert rot["members"] == ["ana", "bo", "chen"] and rot["length"] == "1w" and rot["handoff"] == "mon 09:00"
    assert rot["starts"] == "2026-11-30T08:00:00.000Z"  # 09:00 in Berlin; JSON times are UTC stamps
    who = ok_json(capsys, "oncall", "who", "--at", "2026-12-24 22:00", "--tz", "America/New_York")
    assert (who[0]["who"], who[0]["since"], who[0]["until"]) == (
        "ana", "2026-12-21T08:00:00.000Z", "2026-12-28T08:00:00.000Z")  # --tz reads --at, not the JSON
    at = ok_json(capsys, "oncall", "who", "--at", "2026-12-16 12:00")
    assert at[0]["who"] == "chen" and at[0]["next"] == "ana" and at[0]["until"] == "2026-12-21T08:00:00.000Z"
    now = ok_json(capsys, "oncall", "now")
    assert now[0] == {**now[0], "who": "ana", "name": "Ana Lima", "since": "2026-11-30T08:00:00.000Z",
                      "until": "2026-12-07T08:00:00.000Z", "next": "bo", "next_name": "Bo Chen", "active": True}
    code, text, _ = run(capsys, "oncall", "now")
    assert code == 0 and "Ana Lima" in text and "Bo Chen" in text  # names, not ids, for the person reading
    assert [r["name"] for r in ok_json(capsys, "oncall", "rotation", "list")] == ["support"]


def test_schedule_overrides_swaps_and_members(desk, capsys):
    add_support(capsys)
    override = ok_json(capsys, "oncall", "override", "add", "--who", "chen", "--from", "2026-12-02 18:00",
                       "--to", "2026-12-03 08:00", "--reason", "ana at the dentist")
    sched = ok_json(capsys, "oncall", "schedule", "--weeks", "2", "--tz", "Asia/Shanghai")
    assert [(s["who"], s["start"]) for s in sched] == [
        ("ana", "2026-11-30T08:00:00.000Z"), ("chen", "2026-12-02T17:00:00.000Z"),
        ("ana", "2026-12-03T07:00:00.000Z"), ("bo", "2026-12-07T08:00:00.000Z"),
        ("chen", "2026-12-14T08:00:00.000Z")]
    assert sched[1]["override"] == override["id"] and sched[1]["base"] == "ana"
    swap = ok_json(capsys, "oncall", "swap", "--rotation", "support", "--shift", "2026-12-07", "--with", "2026-12-14")
    assert swap["requested_by"] == "lead" and (swap["a_was"], swap["b_was"]) == ("bo", "chen")
    members = ok_json(capsys, "oncall", "members", "support", "--remove", "bo")
    assert members["members"] == ["ana", "chen"] and members["effective"] == "2026-12-07T08:00:00.000Z"
    later = ok_json(capsys, "oncall", "schedule", "--from", "2026-12-07", "--weeks", "3")
    assert "bo" not in [s["who"] for s in later]
    assert ok_json(capsys, "oncall", "override", "list")[0]["reason"] == "ana at the dentist"
    code, _, _ = run(capsys, "oncall", "override", "remove", str(override["id"]))
    assert code == 0 and ok_json(capsys, "oncall", "override", "list") == []


@pytest.mark.parametrize("args,message", [
    (["oncall", "who", "--at", "24/12/2026"], "cannot read the date"),
    (["oncall", "who", "--at", "2026-12-24 22:00", "--tz", "Mars/Olympus"], "unknown timezone"),
    (["oncall", "override", "add", "--who", "zed", "--from", "2026-12-02", "--to", "2026-12-03"], "unknown person"),
    (["oncall", "override", "add", "--who", "bo", "--from", "2026-12-02 20:00", "--to", "2026-12-03"], "overlaps"),
    (["oncall", "override", "add", "--who", "bo", "--from", "2026-12-03", "--to", "2026-12-02"], "after"),
    (["oncall", "rotation", "add", "empty", "--members", ",", "--tz", "UTC"], "at least one member"),
    (["oncall", "rotation", "add", "x", "--members", "ana,zed", "--tz", "UTC"], "unknown person"),
    (["oncall", "rotation", "add", "x", "--members", "ana", "--tz", "Europe/Nowhere"], "unknown timezone"),
    (["oncall", "rotation", "add", "support", "--members", "ana", "--tz", "UTC"], "exists already"),
    (["oncall", "members", "support", "--remove", "ana,bo,chen"], "at least one member"),
    (["oncall", "rotation", "show", "nope"], "no rotation"),
    (["oncall", "swap", "-r", "support", "--shift", "2026-12-01", "--with", "2026-12-22"], "both shifts"),
    (["oncall", "who", "--at", "2026-03-29 02:30"], "does not exist"),
])
def test_bad_input_is_one_line_and_exit_2(desk, capsys, args, message):
    add_support(capsys)
    ok_json(capsys, "oncall", "override", "add", "--who", "chen", "--from", "2026-12-02 18:00", "--to",
            "2026-12-03 08:00")
    code, out, err = run(capsys, *args)
    assert code == 2 and message in " ".join(err.split()), err
    assert err.startswith("tui-desk: ") and "\n" not in " ".join(err.split())


def test_ics_round_trip_equals_the_schedule(desk, capsys):
    add_support(capsys)
    ok_json(capsys, "oncall", "override", "add", "--who", "bo", "--from", "2026-12-24 18:00", "--to", "2026-12-26 09:00")
    file = desk["tmp"] / "oncall.ics"
    code, _, err = run(capsys, "oncall", "export", "--ics", str(file), "--weeks", "6")
    assert code == 0, err
    events = ics.read(file.read_bytes())
    sched = ok_json(capsys, "oncall", "schedule", "--weeks", "6")
    assert [(e["summary"], e["start"], e["end"]) for e in events] == [
        (f"On call: {s['who']} (support)", dt.datetime.fromisoformat(s["start"]), dt.datetime.fromisoformat(s["end"]))
        for s in sched]
    assert len({e["uid"] for e in events}) == len(events)
    # a later export (another clock, a swap) keeps the UIDs: calendar apps update, not duplicate
    ok_json(capsys, "oncall", "swap", "--shift", "2026-12-07", "--with", "2026-12-14")  # the only rotation
    code, _, _ = run(capsys, "oncall", "export", "--ics", str(file), "--weeks", "6")
    again = ics.read(file.read_bytes())
    assert [e["uid"] for e in again] == [e["uid"] for e in events]
    assert [e["summary"] for e in again] != [e["summary"] for e in events]


def test_ics_to_stdout_writes_the_calendar_and_no_file_named_dash(desk, capsys, monkeypatch):
    add_support(capsys)
    monkeypatch.chdir(desk["tmp"])
    code, out, err = run(capsys, "oncall", "export", "--ics", "-", "--weeks", "2")
    assert code == 0, err
    sched = ok_json(capsys, "oncall", "schedule", "--weeks", "2")
    assert [e["summary"] for e in ics.read(out.encode())] == [f"On call: {s['who']} (support)" for s in sched]
    assert out.startswith("BEGIN:VCALENDAR") and not (desk["tmp"] / "-").exists()


def test_report_json(desk, capsys):
    add_support(capsys)
    result = ok_json(capsys, "oncall", "report", "--since", "2026-11-30 09:00", "--until", "2026-12-21 09:00")
    assert [p["who"] for p in result["people"]] == ["ana", "bo", "chen"]
    assert all(p["shifts"] == 1 and p["hours"] == 168 for p in result["people"])


def test_until_a_day_includes_that_whole_day_as_in_the_reports(desk, capsys):
    add_support(capsys)
    whole = ok_json(capsys, "oncall", "report", "--since", "2026-11-30", "--until", "2026-12-20")
    assert (whole["since"], whole["until"]) == ("2026-11-29T23:00:00.000Z", "2026-12-20T23:00:00.000Z")  # Berlin days
    assert sum(p["hours"] for p in whole["people"]) == 21 * 24 - 9  # the first shift starts Monday 09:00
    code, out, err = run(capsys, "report", "summary", "--since", "2026-11-30", "--until", "2026-12-20", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["period"]["until"] == whole["until"], "one meaning of --until in every command"


# --- paging -------------------------------------------------------------------------------

class Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def _events(db) -> list[dict]:
    from tui_desk.store import Store
    with Store.open(db) as store:
        return store.oncall_pages()


def test_page_by_email_to_a_loopback_smtp_server(desk, capsys):
    from aiosmtpd.controller import Controller
    port = int(desk["config"].read_text().split("port = ")[1].split()[0])
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        add_support(capsys)
        result = ok_json(capsys, "oncall", "page", "--message", "Checkout is down\r\nBcc: evil@example.org")
    finally:
        server.stop()
    assert result == [{"who": "ana", "rotation": "support", "contact": "email", "ok": True}]
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["ana@example.org"] and envelope.mail_from == "support@desk.example"
    msg = email.message_from_bytes(envelope.content)
    # the subject is the page's first line; the rest stays body text, never a header
    assert msg["Subject"] == "[Support on call] Checkout is down" and msg["Bcc"] is None
    assert "Checkout is down\r\nBcc: evil@example.org" in msg.get_payload(decode=True).decode()
    (event,) = _events(desk["tmp"] / "desk.db")
    assert event["kind"] == "page" and event["actor"] == "lead" and event["data"]["ok"] is True


def test_page_by_command_and_failures_are_recorded(desk, capsys, monkeypatch):
    add_support(capsys)
    monkeypatch.setenv("TUI_DESK_NOW", "2026-12-08T12:00:00+00:00")  # bo's week
    assert ok_json(capsys, "oncall", "page", "-m", "Database full")[0]["contact"] == "command"
    assert desk["paged"].read_text() == "bo:Database full"
    monkeypatch.setenv("TUI_DESK_NOW", "2026-12-15T12:00:00+00:00")  # chen: matrix, but no matrix channel
    code, _, err = run(capsys, "oncall", "page", "-m", "hello")
    assert code == 2 and "Matrix pages need a matrix channel" in " ".join(err.split())
    monkeypatch.setenv("TUI_DESK_NOW", NOW)  # ana by email, but no SMTP server is listening
    code, out, err = run(capsys, "oncall", "page", "-m", "hello", "--json")
    assert code == 1 and "cannot send over SMTP" in " ".join(err.split())
    (failed,) = json.loads(out)  # --json still says who was (not) reached
    assert (failed["who"], failed["ok"]) == ("ana", False) and "cannot send over SMTP" in failed["error"]
    events = _events(desk["tmp"] / "desk.db")
    assert [(e["data"]["who"], e["data"]["ok"]) for e in events] == [("ana", False), ("chen", False), ("bo", True)]


def test_page_to_matrix_uses_the_configured_channel(desk, capsys, monkeypatch):
    add_support(capsys)
    monkeypatch.setenv("TUI_DESK_NOW", "2026-12-15T12:00:00+00:00")  # chen's week
    text = desk["config"].read_text()
    desk["config"].write_text(text + '[[channels]]\nname = "mail"\nkind = "maildir"\npath = "mail"\n'
                              '[[channels]]\nname = "chat"\nkind = "matrix"\nhomeserver = "http://127.0.0.1:9"\n'
                              'user_id = "@desk:example.org"\naccess_token_env = "NO_SUCH_TOKEN_VAR"\n')
    code, _, err = run(capsys, "oncall", "page", "-m", "hello")  # the first matrix channel: "chat"
    assert code == 2 and "channel chat" in err and "NO_SUCH_TOKEN_VAR" in err, err
    desk["config"].write_text(desk["config"].read_text().replace("[oncall]\n", '[oncall]\nmatrix_channel = "mail"\n'))
    code, _, err = run(capsys, "oncall", "page", "-m", "hello")
    assert code == 2 and "oncall.matrix_channel" in err and "not a matrix channel" in err
    assert [(e["data"]["contact"], e["data"]["ok"]) for e in _events(desk["tmp"] / "desk.db")] == [
        ("matrix", False), ("matrix", False)]


def test_page_to_someone_missing_from_the_roster_is_a_config_mistake(desk, capsys):
    code, _, err = run(capsys, "oncall", "rotation", "add", "solo", "--members", "ana", "--tz", "UTC",
                       "--start", "2026-11-30")
    assert code == 0, err
    roster = desk["tmp"] / "oncall.toml"
    roster.write_text(roster.read_text().replace("[people.ana]", "[people.ana-old]"))
    code, _, err = run(capsys, "oncall", "page", "-m", "hello")
    assert code == 2 and "people.ana: ana is on call but has no entry" in " ".join(err.split())
    assert [(e["data"]["who"], e["data"]["ok"]) for e in _events(desk["tmp"] / "desk.db")] == [("ana", False)]


def test_groups_without_subcommand_print_help_and_exit_0(desk, capsys):
    for group in (["oncall"], ["oncall", "rotation"], ["oncall", "override"]):
        code, out, err = run(capsys, *group)
        assert code == 0 and "Usage:" in out and "internal error" not in err


def test_an_overrides_reason_is_in_the_calendar_title(desk, capsys):
    add_support(capsys)
    ok_json(capsys, "oncall", "override", "add", "--who", "bo", "--from", "2026-12-24 18:00", "--to",
            "2026-12-26 09:00", "--reason", "ana's\r\nholiday")
    code, out, err = run(capsys, "oncall", "export", "--ics", "-", "--weeks", "6")
    assert code == 0, err
    titles = [e["summary"] for e in ics.read(out.encode())]
    assert "On call: bo (support): ana's holiday" in titles, "the reason, on one line"
    assert titles.count("On call: ana (support)") >= 1, "shifts without an override keep the plain title"


def test_a_page_about_a_conversation_tells_its_id_customer_subject_and_first_lines(desk, capsys, monkeypatch):
    from tui_desk.store import Store

    from tests.store.test_store import add
    add_support(capsys)
    with Store.open(desk["tmp"] / "desk.db") as store:
        conversation, _ = add(store, "The checkout says \x1b[31merror 500\n\nI was charged twice!\n> old quote",
                              subject="Charged twice [b]NOW[/b]")
    monkeypatch.setenv("TUI_DESK_NOW", "2026-12-08T12:00:00+00:00")  # bo's week: a command gets the page
    ok_json(capsys, "oncall", "page", "-m", "Please look", "--conversation", str(conversation))
    paged = desk["paged"].read_text()
    assert paged.startswith("bo:Please look\n\n")
    assert f"Conversation #{conversation} from Mike <mike@customer.example>" in paged
    assert "Subject: Charged twice [b]NOW[/b]" in paged
    assert "> The checkout says" in paged and "> I was charged twice!" in paged and "\x1b" not in paged
    code, _, err = run(capsys, "oncall", "page", "-m", "x", "--conversation", "999")
    assert code == 2 and "no conversation 999" in err


def test_export_for_one_person_or_me(desk, capsys):
    add_support(capsys)
    code, out, err = run(capsys, "oncall", "export", "--ics", "-", "--weeks", "6", "--who", "bo")
    assert code == 0, err
    mine = ics.read(out.encode())
    assert mine and {e["summary"] for e in mine} == {"On call: bo (support)"}
    config = desk["config"]
    config.write_text(config.read_text().replace('name = "lead"', 'name = "chen"'))
    code, out, _ = run(capsys, "oncall", "export", "--ics", "-", "--weeks", "6", "--who", "me")
    assert {e["summary"] for e in ics.read(out.encode())} == {"On call: chen (support)"}
    code, _, err = run(capsys, "oncall", "export", "--ics", "-", "--who", "zed")
    assert code == 2 and "unknown person 'zed'" in err


def test_a_rotation_whose_first_shift_is_ahead_warns_and_names_the_start(desk, capsys):
    # the clock is pinned to a Tuesday; a Monday handoff from today starts next week
    code, out, err = run(capsys, "oncall", "rotation", "add", "night", "--members", "ana,bo", "--handoff",
                         "mon 09:00", "--tz", "Europe/Berlin", "--json")
    assert code == 0 and json.loads(out)["name"] == "night"
    line = " ".join(err.split())
    assert "nobody in rotation night is on call until its first shift" in line
    assert "--start 2026-11-30" in line
    code, _, err = run(capsys, "oncall", "rotation", "add", "day", "--members", "ana", "--handoff", "mon 09:00",
                       "--tz", "Europe/Berlin", "--start", "2026-11-30")
    assert code == 0 and "warning" not in err

"""`config check --connect`: every channel's server and every SMTP server is logged in
to, and nothing is read or sent; a refusal names the server and exits 1."""

from __future__ import annotations

import json

from tests.helpers.dovecot import dovecot, free_port, mailbox, toml_config  # noqa: F401 (fixtures)
from tests.helpers.mail import make_email

from tests.integration.test_email_send import smtp_server  # noqa: F401 (fixture)
from tests.unit.test_sync import run_cli


def check(path, *extra):
    done = run_cli("--config", str(path), "config", "check", "--connect", *extra)
    assert "Traceback" not in done.stderr
    return done


def test_every_server_is_reached_and_nothing_is_read_or_sent(tmp_path, mailbox, smtp_server):
    mailbox.deliver(make_email(subject="Not to be read"))
    maildir = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    path = toml_config(tmp_path / "config.toml",
                       [mailbox.config(smtp_host="127.0.0.1", smtp_port=smtp_server.port),
                        {"name": "local", "kind": "maildir", "path": str(maildir)}],
                       database=tmp_path / "desk.db")
    done = check(path, "--json")
    assert done.returncode == 0, done.stderr
    reached = json.loads(done.stdout)["connect"]
    assert [(r["channel"], r["what"].split()[0], r["ok"]) for r in reached] == [
        ("support", "IMAP", True), ("support", "SMTP", True), ("local", "Maildir", True)]
    assert smtp_server.logins == [mailbox.user] and smtp_server.envelopes == [], "logged in, nothing sent"
    assert not (tmp_path / "desk.db").exists(), "nothing was synced"
    text = check(path)
    assert text.returncode == 0 and text.stdout.count("ok  ") == 3


def test_a_refused_login_and_a_dead_smtp_server_are_named_and_exit_1(tmp_path, mailbox):
    channel = mailbox.config(smtp_host="127.0.0.1", smtp_port=free_port(), password_env="WRONG_PASSWORD")
    del channel["password"]
    path = toml_config(tmp_path / "config.toml", [channel], database=tmp_path / "desk.db")
    done = run_cli("--config", str(path), "config", "check", "--connect", "--json",
                   env={"WRONG_PASSWORD": "not-the-password"})
    assert done.returncode == 1, done.stderr
    reached = json.loads(done.stdout)["connect"]
    assert [(r["what"].split()[0], r["ok"]) for r in reached] == [("IMAP", False), ("SMTP", False)]
    assert "login refused" in reached[0]["error"] and "cannot" in reached[1]["error"].lower()
    assert "not-the-password" not in done.stdout + done.stderr, "a secret never reaches the output"

"""Config: every kind of mistake gives one clear error naming file, key and what is expected."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tui_desk import config
from tui_desk.errors import ConfigError

from tests.conftest import ROOT


def load_text(tmp_path, text: str) -> config.Config:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return config.load(path)


def error_of(tmp_path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    message = str(caught.value)
    assert str(tmp_path / "config.toml") in message, "the error names the file"
    return message


def test_example_config_is_valid_and_documents_every_section():
    loaded = config.load(ROOT / "config.example.toml")
    assert [c.kind for c in loaded.channels] == ["maildir", "jsonl"]
    text = (ROOT / "config.example.toml").read_text()
    for section in ("[desk]", "[agent]", "[storage]", "[[channels]]", "[templates]", "[keys]",
                    "[oncall]", "[[rules]]", "[[groups]]", "[[agents]]", "[automation]", "[survey]"):
        assert section in text


def test_survey_durations_are_checked_by_key(tmp_path):
    message = error_of(tmp_path, '[survey]\nenabled = true\ndelay = "tomorrow"')
    assert "survey.delay" in message and "24h" not in message and "30m" in message
    assert "survey.cooldown" in error_of(tmp_path, '[survey]\ncooldown = "0s"')
    assert "survey.nope" in error_of(tmp_path, '[survey]\nnope = 1')


def test_survey_delay_accepts_seconds(tmp_path):
    loaded = config.from_dict({"survey": {"enabled": True, "delay": "2s"}})
    assert loaded.survey.enabled and loaded.survey.delay == "2s" and loaded.survey.cooldown == "30d"


@pytest.mark.parametrize("text", ["[rules]\npage_on_urgent = true", "[rules]\nautomate_min_uses = 5"])
def test_the_old_rules_table_names_the_new_keys(tmp_path, text):
    message = error_of(tmp_path, text)
    assert "rules:" in message and "[[rules]]" in message and "[templates]" in message


def test_unknown_key_names_the_key_and_the_known_ones(tmp_path):
    message = error_of(tmp_path, """
        [desk]
        timezon = "UTC"
    """)
    assert "desk.timezon: unknown key" in message and "timezone" in message


def test_wrong_type_says_what_is_expected(tmp_path):
    message = error_of(tmp_path, """
        [[channels]]
        name = "mail"
        kind = "imap"
        host = "127.0.0.1"
        username = "u"
        port = "993"
    """)
    assert "channels[0].port: expected an integer, got '993' (a string)" in message


def test_missing_required_key(tmp_path):
    message = error_of(tmp_path, """
        [[channels]]
        name = "mail"
        kind = "maildir"
    """)
    assert "channels[0].path: required key is missing" in message


def test_unknown_channel_kind_lists_the_kinds(tmp_path):
    message = error_of(tmp_path, """
        [[channels]]
        name = "x"
        kind = "fax"
    """)
    assert "channels[0].kind" in message and "maildir" in message and "'fax'" in message


def test_invalid_toml(tmp_path):
    assert "not valid TOML" in error_of(tmp_path, "[desk\nname = 1")


def test_literal_choices(tmp_path):
    message = error_of(tmp_path, """
        [[channels]]
        name = "m"
        kind = "imap"
        host = "127.0.0.1"
        username = "u"
        tls = "tls13"
    """)
    assert "channels[0].tls: expected one of 'ssl' | 'starttls' | 'none'" in message


def test_plain_text_login_refused_for_remote_hosts(tmp_path):
    message = error_of(tmp_path, """
        [[channels]]
        name = "m"
        kind = "imap"
        host = "mail.example.com"
        username = "u"
        tls = "none"
    """)
    assert "channels[0].tls" in message and "loopback" in message


def test_two_forms_of_one_secret(tmp_path):
    message = error_of(tmp_path, """
        [[channels]]
        name = "m"
        kind = "imap"
        host = "127.0.0.1"
        username = "u"
        password = "a"
        password_env = "B"
    """)
    assert "password_env" in message and "only one" in message


def test_duplicate_channel_names(tmp_path):
    message = error_of(tmp_path, """
        [[channels]]
        name = "m"
        kind = "maildir"
        path = "a"
        [[channels]]
        name = "m"
        kind = "jsonl"
        path = "b"
    """)
    assert "channels[1].name: duplicate channel name 'm'" in message


@pytest.mark.parametrize("hours, expected", [
    ('business_hours = ["weekdays 9-5"]', "business_hours"),
    ('business_hours = ["mon 18:00-09:00"]', "closes before it opens"),
    ('timezone = "Mars/Olympus"', "unknown timezone"),
    ('holidays = ["25.12.2026"]', "holidays"),
])
def test_desk_hours_and_zone_mistakes(tmp_path, hours, expected):
    assert expected in error_of(tmp_path, f"[desk]\n{hours}\n")


def test_missing_explicit_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        config.load(tmp_path / "nope.toml")


def test_no_file_anywhere_gives_defaults():
    loaded = config.load(None)
    assert loaded.channels == [] and loaded.agent.name == "tester"


def test_discovery_order(tmp_path, monkeypatch):
    xdg = tmp_path / "xdg-config" / "tui-desk" / "config.toml"
    xdg.parent.mkdir(parents=True)
    xdg.write_text('[desk]\nname = "from xdg"\n')
    env = tmp_path / "env.toml"
    env.write_text('[desk]\nname = "from env"\n')
    flag = tmp_path / "flag.toml"
    flag.write_text('[desk]\nname = "from flag"\n')
    assert config.load(None).desk.name == "from xdg"
    monkeypatch.setenv("TUI_DESK_CONFIG", str(env))
    assert config.load(None).desk.name == "from env"
    assert config.load(flag).desk.name == "from flag"


def test_database_location_order(tmp_path):
    loaded = load_text(tmp_path, '[storage]\ndatabase = "queue.db"\n')
    assert loaded.database_path() == tmp_path / "queue.db", "relative to the config file"
    assert loaded.database_path(tmp_path / "other.db") == tmp_path / "other.db", "--db wins"
    assert config.Config().database_path().name == "desk.db"


def test_secrets_are_not_in_the_repr(tmp_path):
    loaded = load_text(tmp_path, """
        [[channels]]
        name = "m"
        kind = "imap"
        host = "127.0.0.1"
        username = "u"
        password = "hunter2-very-secret"
    """)
    assert "hunter2-very-secret" not in repr(loaded)
    assert loaded.channels[0].secret().reveal() == "hunter2-very-secret"


def test_secret_from_env_and_command(tmp_path, monkeypatch):
    monkeypatch.setenv("DESK_PW", "from-env")
    assert config.Secret(env="DESK_PW").reveal() == "from-env"
    assert config.Secret(cmd="printf 'from-cmd\\nsecond'").reveal() == "from-cmd"
    with pytest.raises(ConfigError) as caught:
        config.Secret(cmd="sh -c 'echo leaked-secret >&2; exit 3'", owner="channel m").reveal()
    assert "exited with 3" in str(caught.value) and "leaked-secret" not in str(caught.value)
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE"):
        config.Secret(env="NOT_SET_ANYWHERE").reveal()


def test_cli_reports_config_errors_in_one_line_with_exit_2(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[agent]\nnmae = "x"\n')
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(path), "config", "check"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == f"tui-desk: config error in {path}: agent.nmae: unknown key (known keys here: display_name, email, name, signature, signature_file)"


def config_check(path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(path), "config", "check", *extra],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("keys, key, problem", [
    ('replyy = "r"', "keys.replyy", "unknown action"),
    ('reply = "a"', "keys.reply", "'a' is also assign_to_me (Assign to me) on the Conversation screen"),
    ('templates = "#"', "keys.templates", "'#' is also tags"),
])
def test_config_check_refuses_the_keys_the_console_refuses(tmp_path, db_path, keys, key, problem):
    from tui_desk.tui.app import make_app
    path = tmp_path / "config.toml"
    path.write_text(f"[keys]\n{keys}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as console:
        make_app(config.load(path), db_path)
    assert console.value.key == key and problem in console.value.problem
    done = config_check(path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == f"tui-desk: {console.value}"
    shown = json.loads(config_check(path, "--json").stdout)
    assert shown["ok"] is False and shown["errors"] == [{"file": str(path), "key": key, "problem": console.value.problem}]


def test_config_check_accepts_a_rebinding_that_clashes_with_nothing(tmp_path, db_path):
    from tui_desk.tui.app import make_app
    path = tmp_path / "config.toml"
    path.write_text('[keys]\ntags = "t"\ntemplates = "P"\nreply = "r,W"\n', encoding="utf-8")
    make_app(config.load(path), db_path)
    done = config_check(path, "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["ok"] is True


def test_config_check_json_on_a_broken_config_says_why_on_stdout(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[agent]\nnmae = "x"\n[keys]\nreplyy = "r"\n', encoding="utf-8")
    done = config_check(path, "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout) == {"ok": False, "config": str(path), "errors": [
        {"file": str(path), "key": "agent.nmae", "problem": "unknown key (known keys here: display_name, email, name, signature, signature_file)"}]}
    missing = config_check(tmp_path / "nowhere.toml", "--json")
    assert missing.returncode == 2 and json.loads(missing.stdout)["errors"][0]["key"] is None


SECRETS_INLINE = """\
    [[channels]]
    name = "mail"
    kind = "imap"
    host = "imap.example.com"
    username = "support@example.com"
    password = "hunter2-inline"
    smtp_password = "hunter3-inline"

    [[channels]]
    name = "chat"
    kind = "matrix"
    homeserver = "https://matrix.example.org"
    user_id = "@desk:example.org"
    access_token = "syt_inline_token"

    [oncall.smtp]
    host = "smtp.example.com"
    password = "hunter4-inline"
"""


def test_inline_passwords_in_a_file_others_can_read_are_warned_about(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(SECRETS_INLINE))
    path.chmod(0o644)
    [warning] = config.load(path).warnings
    assert str(path) in warning and "mode 0644" in warning and f"chmod 600 {path}" in warning
    for key in ("channels[0].password", "channels[0].smtp_password", "channels[1].access_token",
                "oncall.smtp.password"):
        assert key in warning
    assert "password_env" in warning and "_cmd" in warning
    assert "hunter" not in warning and "syt_inline" not in warning, "never the secret itself"
    for mode in (0o640, 0o604):
        path.chmod(mode)
        assert config.load(path).warnings, oct(mode)
    path.chmod(0o600)
    assert config.load(path).warnings == []


def test_secrets_by_env_or_command_need_no_private_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent("""\
        [[channels]]
        name = "mail"
        kind = "imap"
        host = "imap.example.com"
        username = "support@example.com"
        password_env = "SUPPORT_PW"
        smtp_password_cmd = "pass show smtp"
    """))
    path.chmod(0o644)
    assert config.load(path).warnings == []


def test_cli_prints_the_warning_on_stderr_and_still_runs(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(SECRETS_INLINE))
    path.chmod(0o644)
    env = {"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path / "data")}
    for args in (["config", "check"], ["conversations", "list", "--json"]):
        done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(path), *args],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith(f"tui-desk: warning: {path} holds channels[0].password") and "chmod 600" in line
        assert "hunter" not in done.stderr + done.stdout
    path.chmod(0o600)
    quiet = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(path), "config", "check"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert (quiet.returncode, quiet.stderr) == (0, "")


@pytest.mark.anyio
async def test_console_shows_the_warning_too(tmp_path, db_path):
    from tests.helpers.tui import frozen_app, settle
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(SECRETS_INLINE))
    path.chmod(0o644)
    loaded = config.load(path)
    app = frozen_app(loaded, db_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert any("chmod 600" in str(n.message) and n.title == "Config" for n in app._notifications)


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_smtp_password_env_gives_smtp_its_own_password(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text('[[channels]]\nname = "mail"\nkind = "imap"\nhost = "imap.example.com"\nusername = "u"\n'
                    'password_env = "IMAP_PW"\nsmtp_password_env = "SMTP_PW"\n')
    monkeypatch.setenv("IMAP_PW", "imap-secret")
    monkeypatch.setenv("SMTP_PW", "smtp-secret")
    channel = config.load(path).channels[0]
    assert channel.secret().reveal() == "imap-secret" and channel.smtp_secret().reveal() == "smtp-secret"
    path.write_text(path.read_text().replace('smtp_password_env = "SMTP_PW"\n', ""))
    assert config.load(path).channels[0].smtp_secret().reveal() == "imap-secret"  # the IMAP one unless set

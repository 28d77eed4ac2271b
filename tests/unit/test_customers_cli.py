"""`tui-desk customers …` and `conversations unmerge`: JSON shapes, exit codes, undo."""

from __future__ import annotations

import json

import pytest

from tests.helpers.desk import config_text
from tests.unit.test_cli import cli
from tests.store.test_customers import chat, desk


@pytest.fixture
def env(tmp_path):
    _, store = desk(tmp_path, [("Grace Whitfield <grace@whitfield-design.example>", "Boots", 10),
                               ("Zoe Adams <zoe.adams@example.net>", "Refund", 5)],
                    [chat("@grace:chat", "Grace Whitfield", "me again", "room-g", hours=2)])
    store.close()
    (tmp_path / "config.toml").write_text(config_text(tmp_path, tmp_path / "desk.db"), encoding="utf-8")
    return {"TUI_DESK_CONFIG": str(tmp_path / "config.toml")}


def run_json(env, *args):
    return json.loads(cli(*args, "--json", env=env).stdout)


def test_list_show_link_unlink(env):
    rows = run_json(env, "customers", "list")
    assert [r["name"] for r in rows] == ["Grace Whitfield", "Zoe Adams", "Grace Whitfield"]
    shown = run_json(env, "customers", "show", "grace@whitfield-design.example")
    assert shown["organization"] == "whitfield-design.example"
    assert shown["conversations"][0]["subject"] == "Boots"
    chat_grace = run_json(env, "customers", "show", "@grace:chat")["id"]
    assert [m["id"] for m in shown["likely_matches"]] == [chat_grace]
    assert run_json(env, "customers", "show", "zoe.adams@example.net")["organization"] == "", "free mail names no one"
    linked = run_json(env, "customers", "link", str(shown["id"]), "Grace@Studio.example")
    assert ("email", "grace@studio.example") in [(i["kind"], i["address"]) for i in linked["identities"]]
    assert cli("customers", "unlink", str(shown["id"]), "grace@studio.example", env=env).stdout.strip() == \
        f"customer {shown['id']} now has 1 identity"
    assert len(run_json(env, "customers", "show", str(shown["id"]))["identities"]) == 1


def test_merge_dry_run_merge_and_unmerge(env):
    before = run_json(env, "customers", "list")
    preview = run_json(env, "customers", "merge", "grace@whitfield-design.example", "@grace:chat", "--dry-run")
    assert preview["merge"] is None and preview["moves"]["conversations"] == 1
    assert run_json(env, "customers", "list") == before, "a dry run changes nothing"
    done = run_json(env, "customers", "merge", "grace@whitfield-design.example", "@grace:chat")
    shown = run_json(env, "customers", "show", "@grace:chat")
    assert shown["id"] == done["keep"] and {c["channel"] for c in shown["conversations"]} == {"mail", "chat"}
    assert len(run_json(env, "customers", "list")) == 2
    undone = run_json(env, "customers", "unmerge", str(done["keep"]))
    assert undone["merge"] == done["merge"] and run_json(env, "customers", "list") == before
    again = cli("customers", "unmerge", str(done["keep"]), env=env, check=False)
    assert again.returncode == 2 and "no merge to undo" in again.stderr


@pytest.mark.parametrize("args, said", [
    (["customers", "show", "nobody@x.example"], "no customer known as 'nobody@x.example'"),
    (["customers", "link", "1", "x", "--kind", "fax"], "--kind: unknown identity kind 'fax'"),
    (["customers", "link", "2", "grace@whitfield-design.example"], "belongs to customer 1"),
    (["customers", "merge", "1", "1"], "already the same customer"),
    (["customers", "unlink", "1", "grace@whitfield-design.example"], "came from grace@whitfield-design.example"),
    (["conversations", "unmerge", "1"], "conversation 1 has no merge to undo"),
    (["conversations", "unmerge", "999"], "no conversation 999"),
])
def test_bad_input_is_a_clear_error_and_exit_2(env, args, said):
    done = cli(*args, env=env, check=False)
    assert done.returncode == 2 and said in done.stderr and done.stdout == ""


def test_conversations_unmerge_after_a_merge(env, tmp_path):
    from tui_desk.store import Store
    with Store.open(tmp_path / "desk.db") as store:
        zoe, grace = store.conversations()[1]["id"], store.conversations()[2]["id"]
        assert store.conversation(zoe)["subject"] == "Refund"
        store.merge(zoe, grace, "ana", across_customers=True)
    done = run_json(env, "conversations", "unmerge", str(zoe))
    assert (done["source"], done["target"], done["messages"]) == (zoe, grace, 1)
    text = cli("conversations", "show", str(zoe), env=env).stdout
    assert "about Refund" in text

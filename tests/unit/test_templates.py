"""Template files, rendering (variables, fallbacks, slots), the sandbox, `check`."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from tui_desk.config import from_dict
from tui_desk.templates import (Template, TemplateError, TemplateLibrary, check_library, parse_template, render,
                                variables_for)

HERE = Path(__file__).parents[1] / "templates"
NOW = dt.datetime(2026, 3, 7, 20, 30, tzinfo=dt.timezone.utc)  # a Saturday evening


def tpl(body: str, id: str = "t") -> Template:
    return Template(id=id, title="T", body=body, path=Path(f"{id}.md"))


@pytest.fixture
def library(tmp_path) -> TemplateLibrary:
    folder = tmp_path / "templates"
    shutil.copytree(HERE, folder)
    return TemplateLibrary(folder)


@pytest.fixture
def variables():
    config = from_dict({"desk": {"company": "Northwind", "name": "Desk", "timezone": "Europe/Berlin",
                                 "business_hours": ["mon-fri 09:00-17:00"]}})
    conversation = {"id": 42, "subject": "Where is\r\nmy order", "channel": "mail"}
    customer = {"name": "Mike Jones", "timezone": "America/New_York",
                "identities": [{"kind": "email", "address": "mike@example.com", "display_name": "Mike"}]}
    return variables_for(config, conversation, customer, agent="ana", on_call="Bo", now=NOW)


def test_every_variable(variables):
    body = ("{{ customer.name }}|{{ customer.first_name }}|{{ customer.email }}|{{ customer.local_time }}|"
            "{{ agent.name }}|{{ conversation.id }}|{{ conversation.subject }}|{{ conversation.ticket }}|"
            "{{ conversation.channel }}|{{ desk.company }}|{{ desk.hours }}|{{ desk.next_opening }}|{{ on_call.name }}")
    result = render(tpl(body), variables)
    assert result.ok, result.problems
    assert result.text.split("|") == [
        "Mike Jones", "Mike", "mike@example.com", "15:30", "ana", "42", "Where is my order", "[#42]", "mail",
        "Northwind", "mon-fri 09:00-17:00 (Europe/Berlin)", "Monday 04:00 (America/New_York)", "Bo"]


def test_fallback_and_missing_variable():
    bare = {"customer": {"name": "", "first_name": None}, "conversation": {"id": 1}}
    ok = render(tpl('Hi {{ customer.first_name | default("there") }}{% if customer.local_time %}!{% endif %}'), bare)
    assert (ok.ok, ok.text) == (True, "Hi there")
    missing = render(tpl("Hi {{ customer.first_name }}"), bare)
    assert not missing.ok and missing.text == ""
    assert missing.problems == ['customer.first_name is not known here (add | default("…"))']


def test_slots_are_asked_and_filled():
    t = tpl('Order {{ ask("order number") }}, {{ ask("amount") }}; again {{ ask("order number") }}')
    empty = render(t, {})
    assert empty.slots == ["order number", "amount"] and empty.missing == ["order number", "amount"]
    assert not empty.ok and "⟨amount⟩" in empty.text
    half = render(t, {}, {"order number": "A-1"})
    assert half.missing == ["amount"] and not half.ok
    full = render(t, {}, {"order number": "A-1", "amount": "{{ 7*7 }}"})
    assert full.ok and full.text == "Order A-1, {{ 7*7 }}; again A-1"  # answers are data, never code


def test_customer_text_is_data_not_code():
    evil = {"customer": {"name": "{{ 7*7 }}{% raw %}"}}
    assert render(tpl("{{ customer.name }}"), evil).text == "{{ 7*7 }}{% raw %}"


def test_syntax_error_never_sends_braces():
    result = render(tpl("Hi {{ customer.name "), {"customer": {"name": "x"}})
    assert not result.ok and result.text == "" and "syntax error" in result.problems[0]


@pytest.mark.parametrize("body", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ customer.__class__.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ ask.__call__.__globals__ }}",
    "{{ customer._label }}",
    "{% set x = customer.update({'name': 'pwned'}) %}{{ customer.name }}",
    "{{ range(10**9) | list }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}",
    "{{ config }}{{ request }}",
    "{{ ''.format.__self__ }}",
    "{{ '{0.__class__}'.format(customer) }}",
])
def test_sandbox_escapes_are_refused(body):
    result = render(tpl(body), {"customer": {"name": "Mike"}})
    assert not result.ok, result.text
    assert "uid=" not in result.text and "root:" not in result.text and "pwned" not in result.text


def test_parse_front_matter():
    t = parse_template(Path("x.md"), '+++\ntitle = "X"\ntags = ["a"]\nkey = 3\nauto = true\n+++\nBody\n')
    assert (t.id, t.title, t.tags, t.key, t.auto, t.body) == ("x", "X", ("a",), 3, True, "Body")
    for text, problem in [
        ("Body only", "does not start"),
        ('+++\ntitle = "X"\nBody', "not closed"),
        ('+++\ntitle = "X"\ncolour = 1\n+++\nB', "unknown front matter key 'colour'"),
        ('+++\ntitle = "X"\nkey = 12\n+++\nB', "key must be a digit"),
        ('+++\ntags = ["a"]\n+++\nB', "no title"),
        ('+++\ntitle = "X"\ntags = "a"\n+++\nB', "should be list"),
    ]:
        with pytest.raises(TemplateError, match=problem):
            parse_template(Path("x.md"), text)


def test_fits_media_names_and_kinds(library):
    t = library.get("password-reset")
    assert t.fits("mail", "maildir") and t.fits("support", "imap") and not t.fits("chat", "jsonl")
    assert library.get("refund-issued").fits("anything", "matrix")


def test_edited_file_takes_effect_and_check_finds_problems(library):
    assert check_library(library) == {}
    assert library.pinned()[1].id == "order-status"
    path = library.folder / "password-reset.md"
    text = path.read_text().replace('channels = ["email"]', 'key = 1\nchannels = ["email"]')
    path.write_text(text.replace("use the", "{{ customer.shoe_size }} {{ basket }} use the"))
    (library.folder / "filtered.md").write_text('+++\ntitle = "F"\n+++\n{{ agent.name | nosuchfilter }}')
    os.utime(path, ns=(1, 1))  # a different mtime even within the same clock tick
    (library.folder / "broken.md").write_text("no front matter")
    problems = check_library(library)
    assert set(problems) == {"password-reset.md", "order-status.md", "broken.md", "filtered.md"}
    joined = " ".join(problems["password-reset.md"])
    assert "customer.shoe_size" in joined and "'basket'" in joined
    assert problems["filtered.md"] == ["template error: No filter named 'nosuchfilter'."]
    assert problems["broken.md"] == ["does not start with a +++ front matter line"]
    assert "key 1 is also pinned by password-reset" in problems["order-status.md"]
    assert library.get("password-reset").key == 1  # the edit is seen without a restart


def test_replies_sign_as_the_agent_with_their_display_name_and_signature(tmp_path):
    from tui_desk import config as config_mod
    from tui_desk.templates.render import variables_for
    (tmp_path / "sig.txt").write_text("Bo Lindqvist\nNight shift\n", encoding="utf-8")
    config = config_mod.from_dict({
        "agent": {"name": "ana", "display_name": "Ana Souza", "signature": "Ana · Support"},
        "agents": [{"name": "bo", "signature_file": "sig.txt"}, {"name": "chen"}]}, tmp_path / "config.toml")
    conversation = {"id": 1, "subject": "x", "channel": "mail"}
    assert variables_for(config, conversation, None, agent="ana")["agent"] == {
        "name": "Ana Souza", "signature": "Ana · Support", "id": "ana"}
    assert variables_for(config, conversation, None, agent="bo")["agent"] == {
        "name": "bo", "signature": "Bo Lindqvist\nNight shift", "id": "bo"}
    assert variables_for(config, conversation, None, agent="chen")["agent"]["name"] == "chen"

"""The FAQ site: entries from templates with faq = true, customer-facing rendering,
refusals at build time, links from replies, valid and accessible pages, and no
customer data from the demo desk in the output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import store_api
from tests.helpers.a11y import accessibility_problems, validation_errors
from tests.helpers.mail import deliver, make_email, make_maildir
from tests.unit.test_cli import cli
from tui_desk import demo, outbox, sync
from tui_desk.config import from_dict
from tui_desk.errors import ConfigError, UsageError
from tui_desk.faq import FaqBuildError, build
from tui_desk.store import Store
from tui_desk.templates import TemplateError, TemplateLibrary, check_library, parse_template, render, variables_for

TEMPLATES = {
    "refund.md": """+++
title = "Refund"
keywords = ["refund", "money back"]
language = "en"
faq = true
question = "When do I get my refund?"
+++
{% if faq %}Refunds reach your account 3–5 days after we get your parcel. Sending one? See {{ faq.url("returns") }}
{%- else %}Hi {{ customer.first_name | default("there") }}, your refund is on its way. {{ agent.name }}{% endif %}
""",
    "returns.md": """+++
title = "Returns"
keywords = ["return", "send back"]
language = "en"
faq = true
question = "How do I return something?"
+++
{% if not faq %}Hi {{ customer.name }},

{% endif %}Reply to your order email and we send a label (details: https://shop.example/returns).

- Pack it <b>well</b>
- Drop it off
""",
    "tuihuo.md": """+++
title = "退货"
keywords = ["退货"]
language = "zh"
faq = true
question = "如何退货？"
+++
{% if not faq %}{{ customer.name }}，您好！{% endif %}请回复订单邮件申请退货，我们会发给您退货标签。{{ desk.company }}
""",
    "bestellung.md": """+++
title = "Bestellung"
language = "de"
faq = true
question = "Wo ist meine Bestellung?"
+++
Den Link zur Sendungsverfolgung finden Sie in der Versandbestätigung.
""",
    "private.md": """+++
title = "Internal"
+++
Hi {{ customer.first_name | default("there") }}, only for replies.
""",
}
CUSTOMERS = [("Mike Jones", "mike@customer.example"), ("Wang Fang", "wang@customer.example"),
             ("Zoe Park", "zoe@customer.example")]


def write_templates(folder: Path, templates: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in templates.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def desk(tmp_path, store):
    mail = make_maildir(tmp_path / "mail")
    for name, address in CUSTOMERS:
        deliver(mail, make_email(sender=f"{name} <{address}>", subject=f"Question from {name}",
                                 body=f"Hello, this is {name}, my refund has not arrived."))
    write_templates(tmp_path / "templates", TEMPLATES)
    config = from_dict({
        "desk": {"name": "Acme help", "company": "Acme", "support_address": "help@acme.example"},
        "agent": {"name": "ana"},
        "templates": {"dir": "templates"},
        "faq": {"base_url": "https://help.acme.example/faq/"},
        "channels": [{"name": "mail", "kind": "maildir", "path": str(mail)}],
    }, tmp_path / "config.toml")
    sync.run(config, store)
    return config, store


def used(store: Store, template_id: str, times: int) -> None:
    """`times` replies sent from the template, each in its own conversation, as the outbox writes them."""
    for row in store.conversations()[:times]:
        outbox.queue_reply(store, row["id"], f"reply from {template_id}", agent="ana", template_id=template_id)


def test_entries_are_customer_facing_and_the_most_used_come_first(desk, tmp_path):
    config, store = desk
    used(store, "returns", 2)
    used(store, "refund", 1)
    entries, files, broken = build(config, store, tmp_path / "site")
    assert broken == {}
    assert [(e.id, e.language, e.uses) for e in entries] == [
        ("returns", "en", 2), ("refund", "en", 1), ("bestellung", "de", 0), ("tuihuo", "zh", 0)]
    assert "private" not in {e.id for e in entries}
    site = tmp_path / "site"
    assert sorted(p.name for p in files) == sorted(["index.html", "en.html", "de.html", "zh.html", "faq.css",
                                                    "search.js", "search-index.json"])
    english = (site / "en.html").read_text(encoding="utf-8")
    assert (site / "index.html").read_text(encoding="utf-8") == english  # English: [faq] language
    # the page's order is the use count's order
    assert english.index("How do I return something?") < english.index("When do I get my refund?")
    # agent-only parts left out; the site's wording in; template text is text, not HTML
    assert "Hi " not in english and "ana" not in english and "your refund is on its way" not in english
    assert "Refunds reach your account" in english
    assert "&lt;b&gt;well&lt;/b&gt;" in english and "<b>" not in english
    assert "<ul><li>Pack it" in english
    assert '<a href="https://shop.example/returns">https://shop.example/returns</a>)' in english
    assert 'See <a href="#returns">How do I return something?</a>' in english  # faq.url on the site
    chinese = (site / "zh.html").read_text(encoding="utf-8")
    assert '<html lang="zh"' in chinese and "请回复订单邮件申请退货" in chinese and "Acme" in chinese
    assert "<h2>How do I return" not in chinese  # each page shows its own language (the index has all)
    index = json.loads((site / "search-index.json").read_text(encoding="utf-8"))
    assert [(e["id"], e["page"]) for e in index["entries"]] == [
        ("returns", "en.html"), ("refund", "en.html"), ("bestellung", "de.html"), ("tuihuo", "zh.html")]
    assert index["entries"][1]["text"].endswith("See How do I return something?")  # no link marks in the index
    # the same index is in each page, for file:// (where a page may not fetch a file)
    embedded = re.search(r'<script type="application/json" id="_index">(.*?)</script>', chinese).group(1)
    assert json.loads(embedded) == index


def test_the_reply_is_unchanged_and_links_to_the_entry(desk):
    config, store = desk
    library = TemplateLibrary.for_config(config)
    row = store.conversations()[0]
    variables = variables_for(config, row, store.customer(row["customer_id"]), agent="ana")
    reply = render(library.get("refund"), variables)
    assert reply.ok and reply.text.startswith("Hi ") and reply.text.endswith("your refund is on its way. ana")
    linking = parse_template(Path("link.md"), '+++\ntitle = "Link"\n+++\nSee {{ faq.url("tuihuo") }}')
    assert render(linking, variables).text == "See https://help.acme.example/faq/zh.html#tuihuo"
    config.faq.base_url = ""
    unset = render(linking, variables_for(config, row, None, agent="ana"))
    assert not unset.ok and "faq.url needs [faq] base_url" in unset.problems[0]
    guarded = parse_template(Path("g.md"), '+++\ntitle = "G"\n+++\nOk.{% if faq.base_url %} {{ faq.url("x") }}{% endif %}')
    assert render(guarded, variables_for(config, row, None, agent="ana")).text == "Ok."


def test_templates_check_names_unpublishable_faq_templates(tmp_path):
    folder = write_templates(tmp_path / "templates", {
        **TEMPLATES,
        "greeting.md": '+++\ntitle = "G"\nfaq = true\nquestion = "Q?"\n+++\nHi {{ customer.first_name | default("there") }}!',
        "links.md": '+++\ntitle = "L"\n+++\nSee {{ faq.url("private") }} and {{ faq.url("refund") }}',
    })
    problems = check_library(TemplateLibrary(folder))
    assert set(problems) == {"greeting.md", "links.md"}
    assert problems["greeting.md"] == ["on the FAQ site: customer.first_name needs a conversation, and a FAQ page"
                                       " has none: keep it inside {% if not faq %}…{% endif %}"]
    assert problems["links.md"] == ['faq.url("private"): there is no template \'private\' with faq = true']


@pytest.mark.parametrize(("body", "problem"), [
    ('Dear {{ customer.name | default("customer") }}', "customer.name needs a conversation"),
    ("{% if customer.local_time %}x{% endif %}y", "customer.local_time needs a conversation"),
    ('Order {{ ask("order number") }}', 'ask("order number") needs an agent\'s answer'),
    ("{{ agent.name }}", "agent.name needs a conversation"),
    ("Ticket {{ conversation.ticket }}", "conversation.ticket needs a conversation"),
    ("Back {{ desk.next_opening }}", "desk.next_opening is not shown on the FAQ site"),
    ('{{ faq.url("private") }}', "there is no template 'private' with faq = true"),
    ("{% if not faq %}Only for replies{% endif %}", "its FAQ text is empty"),
])
def test_what_needs_a_conversation_is_refused_at_build_time(desk, tmp_path, body, problem):
    config, store = desk
    (tmp_path / "templates" / "bad.md").write_text(
        f'+++\ntitle = "Bad"\nfaq = true\nquestion = "Bad?"\n+++\n{body}\n', encoding="utf-8")
    with pytest.raises(FaqBuildError) as caught:
        build(config, store, tmp_path / "site")
    assert list(caught.value.problems) == ["bad.md"]
    assert problem in caught.value.problems["bad.md"][0]
    assert "bad.md: " in str(caught.value)
    assert not (tmp_path / "site").exists()  # nothing is written


def test_the_cli_builds_and_refuses_with_exit_2(desk, tmp_path):
    config, _ = desk
    text = (f'[desk]\nname = "Acme help"\n[templates]\ndir = "templates"\n'
            f'[storage]\ndatabase = {json.dumps(str(tmp_path / "desk.db"))}\n')
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    env = {"TUI_DESK_CONFIG": str(tmp_path / "config.toml")}
    done = json.loads(cli("faq", "build", str(tmp_path / "out"), "--json", env=env).stdout)
    assert done["entries"] == 4 and done["languages"] == ["de", "en", "zh"]
    assert done["index"] == str(tmp_path / "out" / "index.html")
    again = cli("faq", "build", str(tmp_path / "out"), env=env)  # an earlier build is replaced
    assert "4 entries in 3 languages" in again.stdout
    (tmp_path / "templates" / "bestellung.md").unlink()
    cli("faq", "build", str(tmp_path / "out"), env=env)
    assert not (tmp_path / "out" / "de.html").exists()  # a language gone is gone from the site
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "notes.txt").write_text("mine")
    refused = cli("faq", "build", str(tmp_path / "elsewhere"), env=env, check=False)
    assert refused.returncode == 2 and "holds other files (notes.txt)" in refused.stderr
    (tmp_path / "templates" / "refund.md").write_text(
        '+++\ntitle = "R"\nfaq = true\nquestion = "R?"\n+++\nHi {{ customer.first_name }}', encoding="utf-8")
    bad = cli("faq", "build", str(tmp_path / "out2"), env=env, check=False)
    assert bad.returncode == 2
    assert bad.stderr.startswith("tui-desk: cannot build the FAQ: refund.md: customer.first_name needs a conversation")
    assert len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path / "out2").exists()


def test_template_text_stays_text_on_the_site(desk, tmp_path):
    config, store = desk
    (tmp_path / "templates" / "hostile.md").write_text(
        '+++\ntitle = "H"\nfaq = true\nkeywords = ["</script><script>alert(2)</script>"]\n'
        'question = "</script><script>alert(1)</script>"\n+++\n'
        '<img src=x onerror=alert(3)> javascript:alert(4) https://x.example/"><script>\n', encoding="utf-8")
    build(config, store, tmp_path / "site")
    page = (tmp_path / "site" / "en.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img" not in page and 'href="javascript' not in page
    assert page.count("<script") == 2  # the index and search.js, nothing else
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in page
    assert validation_errors(page) == [] and accessibility_problems(page) == []
    printed = parse_template(Path("p.md"), '+++\ntitle = "P"\n+++\nx {{ faq }}')
    assert "faq is not text" in render(printed, {}).problems[0]


def test_the_shipped_templates_have_no_problems_and_link_in_the_demo(demo_site):
    from tui_desk import config as config_mod, paths
    assert check_library(TemplateLibrary(paths.shipped_data() / "templates")) == {}
    db, site = demo_site
    config = config_mod.load(db.parent / "desk-source" / "config.toml")
    with Store.open(db) as store:
        row = store.conversations()[0]
        variables = variables_for(config, row, store.customer(row["customer_id"]), agent="demo")
    reply = render(TemplateLibrary.for_config(config).get("size-exchange"), variables)
    assert reply.ok and f"How returns work: {site.resolve().as_uri()}/en.html#return-label" in reply.text
    assert (site / "en.html").is_file() and 'id="return-label"' in (site / "en.html").read_text(encoding="utf-8")


def test_front_matter_and_config_are_checked():
    with pytest.raises(TemplateError, match="faq = true needs a question"):
        parse_template(Path("a.md"), '+++\ntitle = "A"\nfaq = true\n+++\nText')
    with pytest.raises(TemplateError, match="'question' should be str"):
        parse_template(Path("a.md"), '+++\ntitle = "A"\nquestion = 3\n+++\nText')
    assert parse_template(Path("a.md"), '+++\ntitle = "A"\nfaq = true\nquestion = " Why  now? "\n+++\nT').question \
        == "Why now?"
    with pytest.raises(ConfigError, match="faq.base_url: expected an https://"):
        from_dict({"faq": {"base_url": "help.example.com"}})
    with pytest.raises(ConfigError, match="faq.language"):
        from_dict({"faq": {"language": "english please"}})
    with pytest.raises(ConfigError, match=r"faq.title: unknown key"):
        from_dict({"faq": {"title": "x"}})


def test_no_template_marked_is_a_clear_error(tmp_path, store):
    write_templates(tmp_path / "templates", {"private.md": TEMPLATES["private.md"]})
    config = from_dict({"templates": {"dir": "templates"}}, tmp_path / "config.toml")
    with pytest.raises(UsageError, match="no template in .* has faq = true"):
        build(config, store, tmp_path / "site")


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory):
    """The demo desk and the FAQ `tui-desk demo` built beside it."""
    folder = tmp_path_factory.mktemp("demo")
    demo.build(folder / "desk.db")
    return folder / "desk.db", demo.faq_dir(folder / "desk.db")


def test_the_demo_ships_a_faq_in_its_languages(demo_site):
    _, site = demo_site
    index = json.loads((site / "search-index.json").read_text(encoding="utf-8"))
    assert set(index["languages"]) == {"en", "de", "zh"}
    by_id = {e["id"]: e for e in index["entries"]}
    assert "refund" in by_id["refund-issued"]["text"] and by_id["returns-zh"]["lang"] == "zh"
    assert "退货" in by_id["returns-zh"]["question"] + by_id["returns-zh"]["text"]


def test_every_page_validates_and_passes_the_accessibility_checks(demo_site):
    _, site = demo_site
    pages = sorted(site.glob("*.html"))
    assert [p.name for p in pages] == ["de.html", "en.html", "index.html", "zh.html"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert validation_errors(text) == [], page.name
        assert accessibility_problems(text) == [], page.name
        expected = "en" if page.name == "index.html" else page.stem
        assert f'<html lang="{expected}" dir="ltr">' in text
        # nothing is loaded from elsewhere: every src and href stays in the folder (or is a data: URL)
        for target in re.findall(r'(?:src|href)="([^"]*)"', text):
            assert not re.match(r"(?i)^(https?:)?//", target) or "northwind.example" in target, target
    css = (site / "faq.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert "max-width" in css and "overflow-wrap" in css  # one column that wraps long words at 360 px
    script = (site / "search.js").read_text(encoding="utf-8")
    assert "fetch(" not in script and "XMLHttpRequest" not in script and "innerHTML" not in script


def test_no_customer_name_or_address_reaches_the_site(demo_site):
    db, site = demo_site
    with Store.open(db) as store:
        names = set()
        for listed in store.customers_list(limit=100_000):
            customer = store.customer(listed["id"])
            names |= {customer["name"]} | {i["address"] for i in customer["identities"]}
            names |= {i["display_name"] for i in customer["identities"]}
        # and whatever a customer signed with (a customer merged into another among them)
        names |= {m[key] for m in store_api.messages(store) if m["direction"] == "in"
                  for key in ("author", "author_address")}
        names.discard("")
        names.discard(None)
    assert len(names) > 60  # the demo's 50 mail customers and 15 chat visitors, with their addresses
    output = "\n".join(p.read_text(encoding="utf-8") for p in sorted(site.iterdir()) if p.is_file())
    folded = output.casefold()
    found = []
    for name in sorted(names):
        needle = name.casefold().strip()
        if needle.isascii():  # a word of its own, so "Ana" does not match "banana"
            if re.search(rf"(?<![\w@.]){re.escape(needle)}(?![\w@])", folded):
                found.append(name)
        elif needle in folded:
            found.append(name)
    assert found == []

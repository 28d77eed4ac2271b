"""Templates cannot take the desk's CPU or memory: every template in HOSTILE_TEMPLATES
(huge powers, repeats, widths, joins, loops, output) is refused with an error naming
what was refused, normal templates still render, and `templates check` and
`templates show` report the refusal. The hostile renders run in a bounded child
process: before the limits, they computed for hours or asked for gigabytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers.bounded import run_child
from tests.helpers.desk import build_desk, config_text, conversation_id
from tests.helpers.hostile import HOSTILE_TEMPLATES
from tui_desk import paths
from tui_desk.store import Store
from tui_desk.templates import Template, TemplateLibrary, render
from tui_desk.templates import sandbox
from tui_desk.templates.render import SAMPLE

RENDER_ALL = """
import json
from pathlib import Path
from tests.helpers.hostile import HOSTILE_TEMPLATES
from tui_desk.templates import Template, render
out = {}
for name, (body, _) in HOSTILE_TEMPLATES.items():
    result = render(Template(id=name, title=name, body=body, path=Path(name + ".md")), {})
    out[name] = {"text": result.text, "problems": result.problems, "ok": result.ok}
print(json.dumps(out))
"""


def tpl(body: str, id: str = "t") -> Template:
    return Template(id=id, title="T", body=body, path=Path(f"{id}.md"))


@pytest.fixture(scope="module")
def refusals() -> dict:
    done = run_child(RENDER_ALL)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", list(HOSTILE_TEMPLATES))
def test_each_hostile_template_is_refused_clearly(refusals, name):
    result = refusals[name]
    _, says = HOSTILE_TEMPLATES[name]
    assert not result["ok"] and result["text"] == ""
    [problem] = result["problems"]
    assert says in problem, problem
    assert "Traceback" not in problem and "internal error" not in problem


def test_normal_templates_still_render():
    variables = {"customer": {"name": "Mike Jones", "first_name": "Mike"},
                 "conversation": {"id": 41, "subject": "Where is my order"}}
    body = ('Hi {{ customer.first_name }}, #{{ conversation.id + 1 }}: {{ "%s!" % customer.name }} '
            '{{ "{:>6}|".format(2**10) }}{{ customer.name | upper | replace("J", "j") }} '
            '{% for word in customer.name.split() %}[{{ loop.index }}{{ word }}]{% endfor %} '
            '{{ customer.name ~ "!" }} {{ [1, 2, 3] | join(",") }} {{ "-" * 5 }} {{ "ab" | center(6) }}|'
            '{{ 2**100 }} {{ ("x" * 1000) | length }} {{ "a\nb" | indent(2, true) }}')
    result = render(tpl(body), variables)
    assert result.ok, result.problems
    assert result.text == ("Hi Mike, #42: Mike Jones!   1024|MIKE jONES [1Mike][2Jones] Mike Jones! 1,2,3 -----"
                           "   ab  |1267650600228229401496703205376 1000   a\n  b")


def test_every_shipped_template_renders_within_the_limits():
    library = TemplateLibrary(paths.shipped_data() / "templates")
    assert library.templates()
    for template in library.templates():
        slots = render(template, SAMPLE).slots
        result = render(template, SAMPLE, {label: "x" for label in slots})
        assert result.ok, (template.id, result.problems)


def test_the_time_limit_stops_a_render(monkeypatch):
    loop = "{% for c in 'abc' %}{{ c }}{% endfor %}"
    assert render(tpl(loop), {}).text == "abc"
    monkeypatch.setattr(sandbox, "TIME_LIMIT", 0)  # every render is over its time at the first step
    assert render(tpl(loop), {}).problems == ["too much for a template: rendering took longer than 0 s"]


def test_a_refused_render_leaves_the_next_one_its_whole_budget():
    done = run_child("""
import json
from pathlib import Path
from tests.helpers.hostile import HOSTILE_TEMPLATES
from tui_desk.templates import Template, render
refused = render(Template(id="a", title="a", body=HOSTILE_TEMPLATES["nested-loops"][0], path=Path("a.md")), {})
loop = "{% for c in 'x' * 90000 %}{% endfor %}done"  # 90,000 of the 100,000 steps
after = render(Template(id="b", title="b", body=loop, path=Path("b.md")), {})
print(json.dumps([refused.problems, after.text, after.problems]))
""")
    assert done.returncode == 0, done.stderr[-2000:]
    refused, text, problems = json.loads(done.stdout)
    assert refused and refused[0].startswith("too much for a template: more than 100,000 steps")
    assert (text, problems) == ("done", [])


def test_check_and_show_report_hostile_templates(tmp_path):
    db = tmp_path / "desk.db"
    build_desk(tmp_path, db)
    folder = tmp_path / "templates"
    shutil.copytree(paths.shipped_data() / "templates", folder)
    chosen = ["power", "repeat-float", "repeat-text", "nested-loops"]
    for name in chosen:
        (folder / f"{name}.md").write_text(f'+++\ntitle = "{name}"\n+++\n{HOSTILE_TEMPLATES[name][0]}\n',
                                           encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(config_text(tmp_path, db) + f"\n[templates]\ndir = {json.dumps(str(folder))}\n",
                      encoding="utf-8")
    with Store.open(db) as store:
        cid = conversation_id(store, "Where is my order")
    cli = "from tui_desk.cli import main; main()"

    checked = run_child(cli, "--config", str(config), "templates", "check", "--json")
    assert checked.returncode == 1, checked.stderr
    problems = json.loads(checked.stdout)["problems"]
    assert set(problems) == {f"{name}.md" for name in chosen}  # the shipped ones stay clean
    for name in chosen:
        [problem] = problems[f"{name}.md"]
        assert HOSTILE_TEMPLATES[name][1] in problem

    shown = run_child(cli, "--config", str(config), "templates", "show", "power", "-C", str(cid))
    assert shown.returncode == 0, shown.stderr
    assert "problem: too much for a template: 9 ** 999999999 would have over 3,000 digits" in shown.stdout
    assert "Traceback" not in shown.stderr

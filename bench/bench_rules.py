"""The rules engine's cost: 50 rules on the ingest of 20,000 messages, and `rules test`.

The same Maildir is synced into fresh databases without rules and with 50, twice
each, alternating (this machine is shared: the ratio of the two is the figure).
The rules are what a small team writes: subject and text words, sender domains,
a regex, classes, hours; about one message in ten matches one of them and is
tagged, routed or noted.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import corpus
from bench.figure import Figure
from tui_desk import config as config_mod, sync
from tui_desk.rules.runner import dry_run_conversation
from tui_desk.rules.spec import load_rules
from tui_desk.store import Store

OUT = Path(__file__).resolve().parent / "out"
SIZES = {"small": 4_000, "full": 20_000}
ROOT = Path(__file__).resolve().parent.parent


def fifty_rules() -> list[dict]:
    rules = []
    for i in range(20):  # subject words, mostly not found
        rules.append({"id": f"subject-{i}", "on": ["conversation.new"],
                      "any": [{"field": "subject", "contains_any": [corpus.VOCABULARY[1000 + 7 * i], f"code{i}x"]}],
                      "actions": [{"tag": f"+topic{i}"}]})
    for i in range(10):  # sender domains
        rules.append({"id": f"domain-{i}", "on": ["message.new"],
                      "all": [{"field": "from.domain", "is": f"partner{i}.example"}],
                      "actions": [{"priority": "high"}]})
    for i in range(10):  # text regexes
        rules.append({"id": f"text-{i}", "on": ["conversation.new"],
                      "all": [{"field": "text", "matches": rf"(?i)\b{corpus.VOCABULARY[3000 + 11 * i]}\b"}],
                      "none": [{"field": "class", "is": "bulk"}],
                      "actions": [{"assign": "group:team"}]})
    for i in range(10):  # classes, hours, statuses
        rules.append({"id": f"misc-{i}", "on": ["message.new", "customer.reply"],
                      "all": [{"field": "class", "is": ["auto", "bulk", "bounce", "self", "agent"][i % 5]},
                              {"field": "hours", "is": "closed" if i % 2 else "open"}],
                      "actions": [{"tag": f"+misc{i}"}]})
    return rules


def _config(maildir: Path, rules: list[dict]) -> config_mod.Config:
    return config_mod.from_dict({
        "channels": [{"name": "mail", "kind": "maildir", "path": str(maildir)}],
        "groups": [{"name": "team", "members": ["ana", "bo", "cy"], "assign": "least-open"}],
        "rules": rules,
    }, OUT / "bench-rules.toml")


def _ingest(conf: config_mod.Config, db_path: Path) -> tuple[float, dict]:
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    with Store.open(db_path) as store:
        started = time.perf_counter()
        result = sync.run(conf, store)
        return time.perf_counter() - started, result.rules.as_json()


def run(size: str) -> list[Figure]:
    count = SIZES[size]
    maildir = corpus.build(OUT / f"maildir-{count}", count)
    plain, ruled = _config(maildir, []), _config(maildir, fifty_rules())
    times: dict[str, list[float]] = {"none": [], "fifty": []}
    counts = {}
    for _ in range(2):
        for name, conf in (("none", plain), ("fifty", ruled)):
            seconds, counts[name] = _ingest(conf, OUT / f"rules-{name}.db")
            times[name].append(seconds)
    base, with_rules = min(times["none"]), min(times["fifty"])
    overhead = with_rules / base - 1
    with Store.open(OUT / "rules-fifty.db") as store:
        ruleset = load_rules(ruled)
        samples = []
        for conversation_id in range(1, 41):
            t = time.perf_counter()
            dry_run_conversation(ruled, store, ruleset, conversation_id)
            samples.append((time.perf_counter() - t) * 1000)
    test_ms = statistics.median(samples)
    (OUT / "bench-rules-cli.toml").write_text(
        f'[storage]\ndatabase = "{OUT / "rules-fifty.db"}"\n'
        + "".join(_toml_rule(r) for r in fifty_rules()[:5]))
    command = [sys.executable, "-m", "cli", "--config", str(OUT / "bench-rules-cli.toml"), "rules", "test",
               "--conversation", "1"]
    command_ms = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        command_ms.append((time.perf_counter() - t) * 1000)
    fired = counts["fifty"]
    return [
        Figure("rules", f"ingest {count:,} messages, no rules", f"{count / base:,.0f} msg/s ({base:.1f} s)"),
        Figure("rules", f"ingest {count:,} messages, 50 rules ({fired['fired']:,} firings)",
               f"{count / with_rules:,.0f} msg/s ({with_rules:.1f} s): +{overhead:.0%}", "≤ +10%", overhead <= 0.10),
        Figure("rules", "rules test, evaluation (median of 40 conversations)", f"{test_ms:.1f} ms", "≤ 100 ms",
               test_ms <= 100),
        Figure("rules", "`tui-desk rules test` as a command (median of 5, Python start included)",
               f"{statistics.median(command_ms):.0f} ms"),
    ]


def _toml_rule(rule: dict) -> str:
    import json
    lines = ["\n[[rules]]"] + [f"{k} = {json.dumps(v)}" for k, v in rule.items() if k not in ("any", "all", "none", "actions")]
    for key in ("any", "all", "none", "actions"):
        if key in rule:
            items = ", ".join("{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in item.items()) + " }"
                              for item in rule[key])
            lines.append(f"{key} = [{items}]")
    return "\n".join(lines) + "\n"

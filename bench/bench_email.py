"""IMAP sync against a local Dovecot: our full sync, our no-change sync, and mbsync.

One mailbox of 20,000 generated support mails (2,000 with --size small) is served by a
private Dovecot (tests/helpers/dovecot.py; needs root and dovecot-imapd). Our full sync
fetches, parses, threads, indexes and stores everything into a fresh database; mbsync
(Debian isync) pulls the same mailbox into a Maildir as the reference. Both run after
Dovecot has indexed the mailbox once, so neither pays for that.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.dovecot import Dovecot, available, toml_config  # noqa: E402
from tests.helpers.mail import make_email  # noqa: E402

SIZES = {"small": 2_000, "full": 20_000}
WORDS = ("order invoice refund login password delivery parcel broken screen account upgrade plan "
         "billing card charge twice cancel subscription shipping address change export report").split()


def mailbox_messages(count: int, seed: int = 7):
    """Support mail as it comes: customers, follow-ups in threads, some HTML, some auto-replies."""
    rng = random.Random(seed)
    for i in range(count):
        customer = rng.randrange(count // 4 + 1)
        subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).capitalize()
        body = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40))) for _ in range(rng.randint(1, 4)))
        headers = {"Auto-Submitted": "auto-replied"} if rng.random() < 0.03 else None
        follow = rng.random() < 0.3 and i > 0
        yield make_email(
            sender=f"Customer {customer} <c{customer}@customers.example>",
            subject=("Re: " if follow else "") + subject,
            body=body + ("\n\nOn Mon, someone wrote:\n> earlier text\n> more" if follow else ""),
            message_id=f"<bench-{i}@customers.example>",
            in_reply_to=f"<bench-{rng.randrange(i)}@customers.example>" if follow else None,
            headers=headers,
        )


def _mbsync_config(server: Dovecot, user: str, password: str, target: Path) -> Path:
    conf = target.parent / "mbsyncrc"
    conf.write_text(
        f"IMAPAccount bench\nHost 127.0.0.1\nPort {server.port}\nUser {user}\nPass {password}\n"
        "SSLType None\nAuthMechs LOGIN\n\n"
        "IMAPStore remote\nAccount bench\n\n"
        f"MaildirStore local\nPath {target}/\nInbox {target}/INBOX\n\n"
        "Channel pull\nFar :remote:INBOX\nNear :local:INBOX\nCreate Near\nSync Pull\nSyncState *\n"
    )
    return conf


def run(size: str) -> list[Figure]:
    why = available() or (None if os.geteuid() == 0 else "needs root to start the test Dovecot")
    if why:
        return [Figure("email", "IMAP sync", f"skipped: {why}")]
    count = SIZES[size]
    root = Path(tempfile.mkdtemp(prefix="tui-desk-bench-email-"))
    os.chmod(root, 0o755)
    server = Dovecot(root / "dovecot")
    figures: list[Figure] = []
    try:
        server.start()
        box = server.add_user()
        box.deliver_many(mailbox_messages(count))
        assert len(box.uids()) == count  # Dovecot indexes the new mail here, before anything is timed

        from tui_desk import config as config_mod
        from tui_desk import sync
        from tui_desk.store import Store

        db = root / "desk.db"
        config = config_mod.load(toml_config(root / "config.toml", [box.config()], database=db))
        with Store.open(db) as store:
            started = time.perf_counter()
            result = sync.run(config, store)
            ours = time.perf_counter() - started
            assert result.ok and result.channels["support"].new == count, result.channels
            started = time.perf_counter()
            again = sync.run(config, store)
            idle = time.perf_counter() - started
            assert again.channels["support"].fetched == 0
        started = time.perf_counter()
        cli = subprocess.run([sys.executable, "-c", "from tui_desk.cli import main; main()", "--config", str(root / "config.toml"),
                              "sync", "--quiet"], cwd=ROOT, capture_output=True, timeout=120)
        idle_cli = time.perf_counter() - started
        figures.append(Figure("email", f"full sync, {count:,} mails (fetch+parse+thread+index)",
                              f"{count / ours:,.0f} msg/s ({ours:.1f} s)"))
        figures.append(Figure("email", "no-change sync (in process)", f"{idle:.3f} s", "≤ 0.3 s", idle <= 0.3))
        figures.append(Figure("email", "no-change `tui-desk sync` (whole process)",
                              f"{idle_cli:.2f} s" + ("" if cli.returncode == 0 else " (failed)")))

        if shutil.which("mbsync"):
            target = root / "mbsync-maildir"
            target.mkdir()
            conf = _mbsync_config(server, box.user, box.password, target)
            started = time.perf_counter()
            done = subprocess.run(["mbsync", "-q", "-c", str(conf), "pull"], capture_output=True, timeout=600)
            reference = time.perf_counter() - started
            pulled = sum(1 for _ in (target / "INBOX" / "new").iterdir()) + sum(
                1 for _ in (target / "INBOX" / "cur").iterdir()) if done.returncode == 0 else 0
            figures.append(Figure("email", f"mbsync pull of the same mailbox ({pulled:,} mails)",
                                  f"{count / reference:,.0f} msg/s ({reference:.1f} s)"))
            ratio = ours / reference
            figures.append(Figure("email", "full sync time / mbsync time", f"{ratio:.2f}", "≤ 1.0", ratio <= 1.0))
        else:
            figures.append(Figure("email", "mbsync reference", "skipped: mbsync not installed (apt-get install isync)"))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return figures

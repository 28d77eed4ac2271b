"""A deterministic mail corpus for benchmarks: N messages in a Maildir.

About N/5 customers; a third of the messages are replies in threads (In-Reply-To,
References, quoted history); charsets UTF-8, Latin-1, GB2312, Shift_JIS and Thai in
quoted-printable, base64 and 8bit; some HTML-only; bodies 1–20 KB; dates spread over
90 days. Built from string templates (fast); the same seed gives the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import os
import quopri
import random
from pathlib import Path

WORDS = ("order parcel refund tracking delivery jacket tent boots stove size exchange invoice "
         "password login account discount code warranty broken zipper colour wrong late courier "
         "address payment card paypal thanks please help question return label weeks days").split()
SENTENCES = {
    "gb2312": "您好，我的订单还没有到，请帮我查一下物流信息。谢谢！",
    "shift_jis": "こんにちは。注文した商品がまだ届いていません。確認をお願いします。",
    "tis-620": "สวัสดีครับ สินค้าที่สั่งยังไม่ได้รับ ช่วยตรวจสอบให้หน่อยครับ",
    "iso-8859-1": "Bonjour, ma commande n'est pas arrivée. Pouvez-vous vérifier s'il vous plaît? Merci.",
}
FIRST = "Mike Anna Jorge Li Yuki Somchai Fatima Lars Chloe Ravi Ines Tom Mei Omar Nora Paul".split()
LAST = "Jones Souza Garcia Wei Tanaka Chai Khan Berg Martin Patel Costa Smith Lin Haddad Olsen Roy".split()


def _paragraph(rng: random.Random, size: int) -> str:
    out, length = [], 0
    while length < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14))).capitalize() + "."
        out.append(line)
        length += len(line) + 1
    return "\n".join(out)


def _encode(rng: random.Random, text: str, charset: str) -> tuple[str, bytes]:
    data = text.encode(charset, errors="replace")
    cte = rng.choice(["quoted-printable", "base64", "8bit"]) if charset != "us-ascii" else "7bit"
    if cte == "base64":
        body = base64.encodebytes(data)
    elif cte == "quoted-printable":
        body = quopri.encodestring(data)
    else:
        body = data
    return cte, body


def build(target: Path, count: int, seed: int = 7) -> Path:
    """Write `count` messages into the Maildir `target` (skipped if already complete)."""
    marker = target / f".complete-{count}-{seed}"
    if marker.exists():
        return target
    rng = random.Random(seed)
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    customers = [(f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"customer{i}@mail{i % 97}.example")
                 for i in range(max(count // 5, 1))]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    threads: list[tuple[str, str, int]] = []  # (subject, message-id, customer index)
    stamps = sorted(rng.uniform(0, 90 * 86400) for _ in range(count))
    for n in range(count):
        when = start + dt.timedelta(seconds=stamps[n])
        reply = threads and rng.random() < 0.33
        if reply:
            subject, parent, who = rng.choice(threads[-2000:])
            subject = "Re: " + subject
        else:
            who = rng.randrange(len(customers))
            subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).capitalize()
            parent = None
        name, address = customers[who]
        message_id = f"<bench-{seed}-{n}@mail{who % 97}.example>"
        size = int(1000 * 20 ** rng.random())  # 1–20 KB, log-uniform
        charset = rng.choices(["utf-8", "iso-8859-1", "gb2312", "shift_jis", "tis-620", "us-ascii"],
                              [50, 15, 8, 8, 4, 15])[0]
        text = _paragraph(rng, size)
        if charset in SENTENCES:
            text = SENTENCES[charset] + "\n\n" + text
        elif charset == "utf-8":
            text = "Hi team 👋, " + rng.choice(list(SENTENCES.values())) + "\n\n" + text
        if parent:
            quoted = "\n".join("> " + line for line in _paragraph(rng, 600).splitlines())
            text += f"\n\nOn {email.utils.format_datetime(when - dt.timedelta(days=1))} Support wrote:\n{quoted}\n"
        html_only = rng.random() < 0.1
        if html_only:
            body_text = "<html><body>" + "".join(f"<p>{p}</p>" for p in text.split("\n")) + "</body></html>"
            ctype = "text/html"
        else:
            body_text, ctype = text, "text/plain"
        cte, body = _encode(rng, body_text, charset)
        head = [
            f"From: {name} <{address}>",
            "To: support@northwind.example",
            f"Subject: {subject}",
            f"Date: {email.utils.format_datetime(when)}",
            f"Message-ID: {message_id}",
            "MIME-Version: 1.0",
            f"Content-Type: {ctype}; charset=\"{charset}\"",
            f"Content-Transfer-Encoding: {cte}",
        ]
        if parent:
            head += [f"In-Reply-To: {parent}", f"References: {parent}"]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        sub = "cur" if n % 3 else "new"
        name_on_disk = f"{int(when.timestamp())}.B{n}.bench" + (":2,S" if sub == "cur" else "")
        path = target / sub / name_on_disk
        path.write_bytes(raw)
        epoch = when.timestamp()
        os.utime(path, (epoch, epoch))
        if not parent:
            threads.append((subject, message_id, who))
    marker.touch()
    return target

"""Hostile and broken emails, made here (no external corpus): every one must be stored,
none may crash sync, and nothing shown to an agent may carry a live escape sequence.

`hostile_messages()` returns (name, raw bytes) pairs; each has a unique Message-ID (or
none at all) so that each is a distinct message for the store.
"""

from __future__ import annotations

import base64
import itertools

ESC = "\x1b"
NASTY = [
    "[bold red]ALERT[/]", "[link=https://evil.example]click[/link]", "[@click=app.quit]quit[/]",
    f"{ESC}]8;;https://evil.example{ESC}\\link{ESC}]8;;{ESC}\\", f"{ESC}[2J{ESC}[H", f"{ESC}[31mred{ESC}[0m",
    "\x9b31mC1 CSI", "\u202eevil\u202c", f"{ESC}P+q544e{ESC}\\", "\x07bell\x08\x08",
]
_n = itertools.count(1)


def _hdr(subject: str = "Hello", sender: str = "Customer <c@customer.example>", extra: str = "",
         msgid: bool = True, ctype: str = "text/plain; charset=utf-8") -> str:
    lines = [f"From: {sender}", "To: support@desk.example", f"Subject: {subject}",
             "Date: Mon, 23 Nov 2026 10:00:00 +0000"]
    if msgid:
        lines.append(f"Message-ID: <hostile-{next(_n)}@customer.example>")
    lines.append("MIME-Version: 1.0")
    if ctype:
        lines.append(f"Content-Type: {ctype}")
    if extra:
        lines.append(extra.rstrip("\n"))
    return "\r\n".join(lines) + "\r\n\r\n"


def _simple(body: str | bytes, **kw) -> bytes:
    head = _hdr(**kw).encode("utf-8", errors="surrogateescape")
    return head + (body if isinstance(body, bytes) else body.encode("utf-8"))


def _multipart(parts: list[tuple[str, str | bytes]], boundary: str = "XYZ", subtype: str = "mixed",
               **kw) -> bytes:
    out = [_hdr(ctype=f'multipart/{subtype}; boundary="{boundary}"', **kw).encode()]
    for headers, body in parts:
        out.append(f"--{boundary}\r\n{headers.rstrip()}\r\n\r\n".encode())
        out.append(body if isinstance(body, bytes) else body.encode("utf-8"))
        out.append(b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def nested(depth: int) -> bytes:
    """Multiparts `depth` levels deep around one text part ("deep inside")."""
    head = _hdr(subject=f"nested {depth}", sender="Bo Deep <bo@customer.example>",
                ctype='multipart/mixed; boundary="b0"').encode()
    body = "".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\r\n\r\n" for i in range(depth))
    body += f"--b{depth}\r\nContent-Type: text/plain\r\n\r\ndeep inside\r\n"
    body += "".join(f"--b{i}--\r\n" for i in reversed(range(depth + 1)))
    return head + body.encode()


def eight_bit_attachment(encoding: str = "utf-8") -> bytes:
    """A mail from Ana whose attachment name is raw 8-bit bytes, unencoded (as many
    mailers write it): compat32 gives such a part header back as a Header object."""
    head = _hdr(subject=f"My CV ({encoding})", sender="Ana Lopez <ana@customer.example>",
                ctype='multipart/mixed; boundary="XYZ"').encode()
    name = "résumé.pdf".encode(encoding)
    return (head + b"--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, my CV is attached.\r\n"
            b'--XYZ\r\nContent-Type: application/pdf; name="' + name + b'"\r\n'
            b'Content-Disposition: attachment; filename="' + name + b'"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XYZ--\r\n")


def _tnef() -> bytes:
    blob = base64.b64encode(b"\x78\x9f\x3e\x22" + bytes(range(256)) * 8).decode()
    return _multipart([("Content-Type: text/plain", "See attached."),
                       ('Content-Type: application/ms-tnef; name="winmail.dat"\r\n'
                        "Content-Transfer-Encoding: base64\r\n"
                        'Content-Disposition: attachment; filename="winmail.dat"', blob)],
                      subject="Outlook rich text")


ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
       "UID:1@customer.example\r\nDTSTART:20261124T100000Z\r\nDTEND:20261124T110000Z\r\n"
       "SUMMARY:Onboarding call\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def hostile_messages() -> list[tuple[str, bytes]]:
    big = base64.encodebytes(bytes(range(256)) * (5 * 1024 * 1024 // 256)).decode()
    m: list[tuple[str, bytes]] = []
    add = lambda name, raw: m.append((name, raw))  # noqa: E731

    # terminal escapes and markup, in subject, display name and body
    for i, nasty in enumerate(NASTY):
        add(f"nasty-subject-{i}", _simple(f"body {i}", subject=f"Help {nasty} please"))
        add(f"nasty-name-{i}", _simple(f"hello {nasty} world", sender=f'"{nasty}" <n{i}@customer.example>'))
    add("escape-encoded-subject", _simple("x", subject="=?utf-8?b?" + base64.b64encode(
        f"Re: hi {ESC}[2J\r\nBcc: victim@example.com".encode()).decode() + "?="))
    add("escape-encoded-name", _simple("x", sender="=?utf-8?q?=1B=5B2J_Evil?= <evil@customer.example>"))
    add("escape-in-html", _simple(f"<p>hi {ESC}[2J <b>[bold]x[/bold]</b></p>", ctype="text/html; charset=utf-8"))
    add("escape-in-filename", _multipart([("Content-Type: text/plain", "see file"),
                                          (f'Content-Type: text/plain; name="a{ESC}[2J.txt"\r\n'
                                           f'Content-Disposition: attachment; filename="a{ESC}[2J.txt"', "data")]))
    # structure
    add("broken-boundary", _multipart([("Content-Type: text/plain", "part one")], boundary="XYZ")
        .replace(b"--XYZ--", b"--XY"))
    add("missing-boundary-param", _simple("--abc\r\nContent-Type: text/plain\r\n\r\nhi\r\n--abc--",
                                          ctype="multipart/mixed"))
    add("boundary-never-used", _simple("just text, no parts", ctype='multipart/alternative; boundary="nope"'))
    add("nested-60", nested(60))
    add("nested-5000", nested(5000))
    add("8bit-attachment-name-utf8", eight_bit_attachment("utf-8"))
    add("8bit-attachment-name-latin1", eight_bit_attachment("latin-1"))
    add("nested-3-alternative", _multipart([
        ('Content-Type: multipart/alternative; boundary="ALT"',
         "--ALT\r\nContent-Type: text/plain\r\n\r\nplain inner\r\n--ALT\r\nContent-Type: text/html\r\n\r\n"
         "<p>html inner</p>\r\n--ALT--\r\n")], subject="nested alternative"))
    add("no-headers-at-all", b"\r\njust a body with no headers\r\n")
    add("headers-only", _hdr(subject="no body").encode())
    add("empty", b"")
    add("missing-from-date-msgid", b"Subject: anonymous\r\n\r\nwho am I\r\n")
    add("garbage-bytes", bytes(range(256)) * 4)
    add("no-message-id", _simple("no id here", msgid=False, subject="no id"))
    add("bad-date", _simple("x", extra="Date: yesterday-ish"))
    add("huge-message-id", _simple("x", extra="Message-ID: <" + "a" * 5000 + "@x>", msgid=False))
    add("broken-message-id", _simple("x", extra="Message-ID: <<>>@@", msgid=False))
    add("address-group", _simple("x", sender="undisclosed-recipients:;"))
    add("crlf-in-address", _simple("x", sender="=?utf-8?q?a=0D=0ABcc=3A_x=40y=2Ez?= <a@customer.example>"))
    add("folded-header-garbage", _simple("x", extra="X-Long: a\r\n\tb\r\n \r\n c"))
    # charsets
    add("8bit-headers-latin1", _simple("Grüße", subject="Gr\xfc\xdfe aus M\xfcnchen".encode("latin-1")
                                       .decode("ascii", "surrogateescape")))
    add("8bit-headers-utf8", _simple("x", subject="Привет мир".encode().decode("ascii", "surrogateescape"),
                                     sender="Jürgen Ä <j@customer.example>".encode().decode("ascii", "surrogateescape")))
    add("wrong-charset-label", _simple("Größe und Übermaß".encode("latin-1"), ctype="text/plain; charset=utf-8"))
    add("unknown-charset", _simple("hello", ctype="text/plain; charset=x-unknown-42"))
    add("missing-charset-cp1251", _simple("Добрый день, заказ не пришёл".encode("cp1251"), ctype="text/plain"))
    add("rfc2047-bad-charset", _simple("x", subject="=?x-bogus?q?caf=E9?= and =?utf-8?b?!!notbase64?="))
    add("bad-base64-body", _simple(b"!!!! not base64 ####", extra="Content-Transfer-Encoding: base64"))
    add("bad-qp-body", _simple(b"=ZZ=\r\nsoft=\r\nbreak=E9", extra="Content-Transfer-Encoding: quoted-printable",
                               ctype="text/plain; charset=latin-1"))
    add("utf16-body", _simple("hello in utf-16".encode("utf-16"), ctype="text/plain; charset=utf-16"))
    # content
    add("html-only", _simple("<html><body><table><tr><td>Order</td><td>42</td></tr></table>"
                             "<script>alert(1)</script><p>Thanks</p></body></html>",
                             ctype="text/html; charset=utf-8"))
    add("broken-html", _simple("<div><p>unclosed <b>bold <table><tr><td>x", ctype="text/html"))
    add("long-line-100k", _simple("x" * 100_000 + "\r\n> quoted\r\n", subject="long line"))
    add("many-quote-markers", _simple("On Mon someone wrote:\r\n" + "> " * 2000 + "x\r\n" * 50))
    add("tnef-winmail", _tnef())
    add("calendar-invite", _multipart([("Content-Type: text/plain", "Invitation"),
                                       ("Content-Type: text/calendar; method=REQUEST; charset=utf-8", ICS)],
                                      subtype="alternative", subject="Invitation: Onboarding call"))
    add("calendar-only", _simple(ICS, ctype="text/calendar; method=REQUEST"))
    add("attachment-5mb", _multipart([("Content-Type: text/plain", "big file attached"),
                                      ('Content-Type: application/octet-stream; name="big.bin"\r\n'
                                       "Content-Transfer-Encoding: base64\r\n"
                                       'Content-Disposition: attachment; filename="big.bin"', big)],
                                     subject="5 MB attachment"))
    add("forwarded-rfc822", _multipart([("Content-Type: text/plain", "forwarding this"),
                                        ("Content-Type: message/rfc822", _simple("inner body", subject="inner"))]))
    add("bounce-dsn", _multipart([("Content-Type: text/plain", "Delivery failed"),
                                  ("Content-Type: message/delivery-status", "Reporting-MTA: dns; x\r\n\r\n"
                                   "Final-Recipient: rfc822; a@b\r\nAction: failed\r\nStatus: 5.0.0\r\n")],
                                 subtype='report; report-type=delivery-status',
                                 sender="MAILER-DAEMON@mx.customer.example", subject="Undelivered Mail"))
    add("rfc2047-filename", _multipart([("Content-Type: text/plain", "file"),
                                        ('Content-Type: application/pdf; name="=?utf-8?q?R=C3=A9sum=C3=A9.pdf?="\r\n'
                                         'Content-Disposition: attachment; filename="=?utf-8?q?R=C3=A9sum=C3=A9.pdf?="',
                                         "%PDF-1.4")]))
    add("rfc2231-filename", _multipart([("Content-Type: text/plain", "file"),
                                        ("Content-Type: application/pdf\r\nContent-Disposition: attachment;"
                                         " filename*=utf-8''%E2%80%AEfdp.exe", "MZ")]))
    add("null-bytes", _simple(b"nul\x00in\x00body", subject="nul"))
    add("bidi-subject", _simple("x", subject="invoice \u202egpj.exe"))
    add("mixed-line-endings", _simple(b"line1\rline2\nline3\r\n\r\r\n"))
    return m


# -- templates that ask for unbounded work: each must be refused quickly and clearly ---

HOSTILE_TEMPLATES: dict[str, tuple[str, str]] = {
    # name: (body, what the refusal says)
    "power": ("{{ 9**999999999 }}", "9 ** 999999999 would have over 3,000 digits"),
    "repeat-float": ('{{ "x"*3e9 }}', "can't multiply sequence by non-int of type 'float'"),
    "repeat-text": ('{{ "x"*3000000000 }}', "repeating 'x' 3,000,000,000 times would be over 100,000 characters"),
    "repeat-list": ("{{ [1, 2] * 10**9 }}", "repeating [1, 2] 1,000,000,000 times"),
    "repeat-reversed": ("{{ 10**9 * 'ab' }}", "repeating 'ab' 1,000,000,000 times"),
    "product": ("{% set a = 2**9000 %}{{ a * a }}", "a product with over 3,000 digits"),
    "range": ("{{ range(10**9) | list }}", "range is not defined"),
    "center-filter": ('{{ "x" | center(10**9) }}', "center(1,000,000,000) would be over"),
    "center-method": ('{{ "x".center(10**9) }}', "center(1,000,000,000) would be over"),
    "ljust-method": ('{{ "x".ljust(10**9) }}', "ljust(1,000,000,000) would be over"),
    "percent-width": ('{{ "%999999999d" % 1 }}', "a format width of 999,999,999 characters"),
    "percent-star": ('{{ "%*d" % (999999999, 1) }}', "a format width of 999,999,999 characters"),
    "format-width": ('{{ "{:>999999999}".format(1) }}', "a format width of 999,999,999 characters"),
    "format-nested-width": ('{{ "{:>{}}".format(1, 999999999) }}', "a format width of 999,999,999 characters"),
    "format-filter": ('{{ "%999999999s" | format("x") }}', "a format width of 999,999,999 characters"),
    "indent": ('{{ "x\ny" | indent(10**9, true) }}', "indent would be over"),
    "replace": ('{% set s = "x" * 100000 %}{{ s | replace("", s) }}', "replace would be over"),
    "expandtabs": ('{{ ("\t" * 1000).expandtabs(100000) }}', "expandtabs would be over"),
    "join": ('{{ ("x" * 50000) | join("y" * 10) }}', "join would be over"),
    "join-method": ('{{ ("y" * 10).join("x" * 50000) }}', "join would be over"),
    "print-nested": ('{% set a = "x" * 90000 %}{{ [a, a, a] }}', "a value would be over 100,000 characters"),
    "pprint-nested": ('{% set a = "x" * 90000 %}{% set b = [a, a, a, a, a, a, a, a, a, a] %}'
                      "{% set c = [b, b, b, b, b, b, b, b, b, b] %}{% set d = [c, c, c, c, c, c, c, c, c, c] %}"
                      "{{ d | pprint | length }}", "an argument would be over 100,000 characters"),
    "sum-lists": ('{% set s = ["x"] * 1000 %}{{ [s, s, s] | sum(start=[]) }}', "sum adds numbers only"),
    "batch": ('{{ "ab" | batch(10**9, "x") | list }}', "batch(1,000,000,000)"),
    "nested-loops": ('{% set s = "xy" * 50000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}',
                     "more than 100,000 steps"),
    "doubling": ('{% set s = "x" * 100000 %}{% set s = s ~ s %}{{ s }}', "the joined text would be over"),
    "recursion": ("{% macro m(n) %}{{ m(n) }}{{ m(n) }}{% endmacro %}{{ m(1) }}", "calls nested too deep"),
    "long-output": ('{% set s = "x" * 60000 %}{{ s }}{{ s }}', "the text would be over 100,000 characters"),
    "loop-of-literals": ("{% set t %}{% for c in 'x' * 100000 %}" + "y" * 50 + "{% endfor %}{% endset %}{{ t | length }}",
                         "more than 2,000,000 characters of text in all"),
}

"""One customer across channels: naming a customer, their organization, likely matches.

Automatic links are made at sync on exact evidence only (store.ingest.customer_for: a
chat profile's email address). What is merely likely (the same name at the same email
domain, the same display name on two channels within days) is suggested here for an
agent to confirm, never linked by itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .errors import NotFound, UsageError
from .store import Store, parse_stamp

FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "ymail.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "t-online.de",
    "mail.ru", "yandex.ru", "yandex.com", "proton.me", "protonmail.com", "posteo.de", "zoho.com", "qq.com",
    "163.com", "126.com", "sina.com", "naver.com", "orange.fr", "free.fr", "laposte.net", "libero.it",
    # the reserved stand-ins the demo and tests use for free-mail providers
    "example.com", "example.net", "example.org", "mail.example", "qq.example", "mail163.example",
    "correo.example", "courriel.example", "posteo.example",
})
"""Domains anyone can have an address at: they name no organization, and two people
of the same name there are not likely one person."""

MATCH_DAYS = 3
"""The same display name on two channels counts as a likely match within this many days."""


def domain_of(address: str) -> str:
    """The email domain of an address ('' for a chat handle)."""
    local, at, domain = address.rpartition("@")
    return domain.lower() if at and local and "." in domain and ":" not in domain else ""


def organization(identities: list[dict]) -> str:
    """The organization a customer's email domain names, leaving out free-mail domains."""
    for identity in identities:
        if identity["kind"] == "email":
            domain = domain_of(identity["address"])
            if domain and domain not in FREE_MAIL:
                return domain
    return ""


def resolve(store: Store, text: str) -> int:
    """The customer a command-line argument names: a number, '#conversation' or an
    identity. UsageError (exit 2) when nobody is known by it."""
    found = store.find_customer(text)
    if found is None:
        raise UsageError(f"no customer known as {text!r} (a customer number, #conversation or an identity)")
    return found


@dataclass(frozen=True)
class Match:
    """Another customer record that is likely the same person, and why."""

    customer_id: int
    name: str
    reason: str
    identities: tuple[str, ...]


def likely_matches(store: Store, customer_id: int) -> list[Match]:
    """Customers who are likely `customer_id` too, to be confirmed by an agent: the same
    name with an email address at the same (not free-mail) domain, or the same display
    name on another channel with activity within MATCH_DAYS days. A name alone never is."""
    me = store.customer_profile(customer_id)
    if me is None:
        raise NotFound(f"no customer {customer_id}")
    my_domains = {domain_of(i["address"]) for i in me["identities"] if i["kind"] == "email"} - FREE_MAIL - {""}
    my_kinds = {i["kind"] for i in me["identities"]}
    my_last = max((c["last_message_at"] for c in me["conversations"]), default=None)
    out = []
    for other in store.same_name_customers(customer_id):
        domains = {domain_of(i["address"]) for i in other["identities"] if i["kind"] == "email"} & my_domains
        kinds = {i["kind"] for i in other["identities"]}
        reason = ""
        if domains:
            reason = f"same name, email at {sorted(domains)[0]}"
        elif kinds - my_kinds and my_last and other["last_message_at"] and \
                abs(parse_stamp(my_last) - parse_stamp(other["last_message_at"])) <= dt.timedelta(days=MATCH_DAYS):
            reason = f"same name on {'/'.join(sorted(kinds - my_kinds))} within {MATCH_DAYS} days"
        if reason:
            out.append(Match(other["id"], other["name"], reason,
                             tuple(f"{i['kind']}: {i['address']}" for i in other["identities"])))
    return out


def language(store: Store, customer_id: int) -> str:
    """The language the customer writes in, from their latest messages ("" when unsure)."""
    from .survey.language import detect  # the survey's own small guess, one rule for both
    return detect(store.customer_texts(customer_id))

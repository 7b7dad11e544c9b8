"""Repeat contacts and first-contact resolution (FCR).

A call is a *repeat* when the same customer (``customer_id`` in the call's metadata, or a hash of
its phone number) called within ``window_days`` before it about the same matter (``matter``/
``topic`` in the metadata, when both calls have one). The earlier call then was not resolved at
first contact, and it counts against its agent's first-contact resolution (FCR): FCR = calls not
followed by a repeat / calls, over the calls in the window. Customers are never kept as a phone
number: a number becomes a hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from qc.report.redact import find_numbers

__all__ = ["Contact", "contact_of", "find_repeats", "first_contact_resolution", "FCR_TARGET"]

FCR_TARGET = 0.85
_CUSTOMER_KEYS = ("customer_id", "customer", "customer_hash", "phone_hash", "caller_hash")
_PHONE_KEYS = ("phone", "caller", "caller_number", "ani", "customer_phone")
_MATTER_KEYS = ("matter", "topic", "issue", "business_type", "category", "queue")
_TIME_KEYS = ("start_time", "started_at", "call_time", "datetime", "time", "date")


@dataclass(frozen=True)
class Contact:
    """One call as repeat-contact detection sees it."""

    call_id: str
    agent_id: str | None
    team: str
    customer: str
    matter: str | None
    time: datetime
    complaint: bool = False


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not value:
        return None
    try:
        # wall-clock time at the call centre; offsets are dropped so that all times compare
        return datetime.fromisoformat(str(value).strip().replace("/", "-").replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def contact_of(result: Any, night: str, team: str) -> Contact | None:
    """The call as a contact, or None when its metadata does not identify the customer."""
    meta = result.transcript.meta
    customer = next((str(meta[k]) for k in _CUSTOMER_KEYS if meta.get(k)), None)
    if customer is not None and find_numbers(customer):  # a phone or ID number used as the customer id
        customer = "h:" + hashlib.sha256("".join(c for c in customer if c.isdigit()).encode()).hexdigest()[:16]
    if customer is None:
        phone = next((str(meta[k]) for k in _PHONE_KEYS if meta.get(k)), None)
        if phone is None:
            return None
        digits = "".join(c for c in phone if c.isdigit())
        customer = "h:" + hashlib.sha256(digits.encode()).hexdigest()[:16]  # never store the number
    matter = next((str(meta[k]) for k in _MATTER_KEYS if meta.get(k)), None)
    when = next((t for t in (parse_time(meta.get(k)) for k in _TIME_KEYS) if t is not None), None)
    if when is None:
        when = parse_time(night) or datetime(1970, 1, 1)
    complaint = result.emotion is not None and result.emotion.complaint is not None
    return Contact(result.call_id, result.transcript.agent_id, team, customer, matter, when, complaint)


def find_repeats(contacts: Iterable[Contact], window_days: int = 7) -> dict[str, Contact]:
    """Map each repeat call's id to the earlier contact it repeats (the latest one in the window).

    The window counts calendar days: a call on the 20th repeats one on the 13th with ``window_days=7``.
    """
    by_customer: dict[str, list[Contact]] = {}
    for c in contacts:
        by_customer.setdefault(c.customer, []).append(c)
    repeats: dict[str, Contact] = {}
    for calls in by_customer.values():
        calls.sort(key=lambda c: (c.time, c.call_id))
        for i, later in enumerate(calls):
            for earlier in reversed(calls[:i]):
                if (later.time.date() - earlier.time.date()).days > window_days:
                    break
                if later.matter and earlier.matter and later.matter != earlier.matter:
                    continue
                repeats[later.call_id] = earlier
                break
    return repeats


def first_contact_resolution(contacts: Iterable[Contact], repeats: dict[str, Contact], key: str = "agent_id") -> dict[str, tuple[float, int, int]]:
    """FCR per agent (``key="agent_id"``) or team (``key="team"``): ``{name: (fcr, resolved, calls)}``."""
    not_resolved = {c.call_id for c in repeats.values()}
    counts: dict[str, list[int]] = {}
    for c in contacts:
        name = getattr(c, key) or "未知"
        n = counts.setdefault(str(name), [0, 0])
        n[1] += 1
        if c.call_id not in not_resolved:
            n[0] += 1
    return {k: (v[0] / v[1], v[0], v[1]) for k, v in sorted(counts.items())}

"""One-time codes that link a customer's identities on two chat apps: shown in one app,
sent from the other, then confirmed."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

#: How long a code is valid.
LINK_CODE_TTL = timedelta(minutes=10)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{4})-?([A-Za-z0-9]{4})(?![A-Za-z0-9])")


@dataclass(frozen=True)
class LinkOffer:
    """What a link code leads to: ``invalid`` (unknown, used, expired or not here),
    ``already`` (the same person) or ``ok`` with the other identity's channel and name."""

    status: str
    channel: str = ""
    name: str = ""


def new_link_code() -> str:
    """Eight characters with at least one digit and one letter (about 40 bits)."""
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
        if any(c.isdigit() for c in code) and any(c.isalpha() for c in code):
            return code


def code_in(text: str) -> str | None:
    """A link code in what the customer wrote (``link K7P2Q9XM``, ``k7p2-q9xm``), if any."""
    for match in _CODE.finditer(text or ""):
        code = (match.group(1) + match.group(2)).upper()
        digits = sum(c.isdigit() for c in code)
        if set(code) <= set(_CODE_ALPHABET) and 0 < digits < len(code):
            return code
    return None

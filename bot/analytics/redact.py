"""Removes personal data from texts before they leave the tracker store.

Every export and report passes customer and agent texts through :func:`redact`. It
replaces e-mail addresses, phone numbers (UK and US forms, international prefixes),
payment card numbers (13-19 digits that pass the Luhn check), street addresses and
postcodes (UK postcodes, US ZIP codes after a state) with a ``[kind]`` marker. Order
numbers, dates, times, amounts and card-like numbers that fail the Luhn check stay.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
PHONE = re.compile(
    r"""(?<![\w+])(?:
        \+\d{1,3}[ .-]?(?:\(0\)[ .-]?)?\(?\d{1,4}\)?(?:[ .-]?\d{2,4}){2,4}  # +44 20 7946 0958
      | 0\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}                        # 020 7946 0958, 07700 900123
      | \(\d{3}\)[ ]?\d{3}[-. ]\d{4}                             # (415) 555-0100
      | \d{3}[-.]\d{3}[-.]\d{4}                                  # 415-555-0100
      | \d{3}[ ]\d{3}[ ]\d{4}                                    # 415 555 0100
    )(?![\w-])""",
    re.VERBOSE,
)
_ANY_CASE_STREETS = r"street|st|road|rd|avenue|ave|lane|ln|boulevard|blvd|terrace|crescent|gardens"
_TITLE_STREETS = r"Way|Drive|Dr|Close|Court|Ct|Place|Pl|Hill|Square|Sq|Grove|Parkway|Row|Mews"
ADDRESS = re.compile(
    rf"(?<!\w)\d{{1,5}}[A-Za-z]?,?\s+(?:[A-Za-z'-]+\s+){{1,3}}"
    rf"(?:(?i:{_ANY_CASE_STREETS})|{_TITLE_STREETS})\b\.?"
    rf"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
)
UK_POSTCODE = re.compile(r"(?<!\w)(?i:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})(?!\w)")
US_ZIP = re.compile(
    r"(?<=\b[A-Z]{2}\s)\d{5}(?:-\d{4})?(?!\d)|(?<=\b[A-Z]{2},\s)\d{5}(?:-\d{4})?(?!\d)"
)


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[card]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def redact(text: str) -> str:
    """``text`` with personal data replaced by ``[email]``, ``[card]``, ``[phone]``,
    ``[address]`` and ``[postcode]``."""
    if not text:
        return text
    text = EMAIL.sub("[email]", text)
    text = CARD.sub(_card, text)
    text = PHONE.sub("[phone]", text)
    text = ADDRESS.sub("[address]", text)
    text = UK_POSTCODE.sub("[postcode]", text)
    return US_ZIP.sub("[postcode]", text)

"""Secrets in a customer's message, found and masked before the message is stored.

``mask_secrets`` is pure: it returns the text with every secret replaced by a fixed
placeholder (the placeholders are constants, never derived from the secret) and the kinds
it removed, in order of appearance. The inbound gate calls it on every customer message,
on every channel, before the message reaches Rasa, so only masked text is ever stored in
the tracker store, logs, transcripts and agent pings (docs/personalisation.md).

What counts as a secret, and how each is told apart from the numbers customers write
every day (prices, phone numbers, dates, order ids):

- ``card_number``: 13-19 digits, optionally grouped by spaces or dashes, starting with a
  card network's digit (2-6) and passing the Luhn check.
- ``cvv``: 3-4 digits after a security-code word (CVV, CVC, security code), or right after
  a card number.
- ``card_expiry``: MM/YY or MM/YYYY when the message has a card number or an expiry word
  just before the date.
- ``password`` / ``pin``: the value after "password is", "pw:", "pin 1234" and the like;
  descriptions of a password ("my password is wrong") are not values.
- ``one_time_code``: 4-8 digits the customer calls a one-time, verification or security
  code, or the code we sent.
- ``iban`` (mod-97 checksum) and ``bank_account`` (a sort code, an ABA routing number with
  its checksum, or the number after "bank account number").
- ``api_key``: tokens of well-known shapes (Stripe, OpenAI, GitHub, AWS, Slack, Google,
  Telegram bot tokens, JWTs, bearer tokens).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: What replaces each kind of secret in the stored text.
PLACEHOLDERS: dict[str, str] = {
    "card_number": "[card number removed]",
    "cvv": "[security code removed]",
    "card_expiry": "[expiry date removed]",
    "password": "[password removed]",
    "pin": "[PIN removed]",
    "one_time_code": "[code removed]",
    "iban": "[bank details removed]",
    "bank_account": "[bank details removed]",
    "api_key": "[key removed]",
}
CARD_MIN_DIGITS, CARD_MAX_DIGITS = 13, 19
#: Card numbers start with a network's digit: 2 and 5 Mastercard, 3 Amex/JCB/Diners,
#: 4 Visa, 6 Discover/UnionPay/Maestro. Phone numbers (0, 1, 7-9 or a "+") never pass.
CARD_FIRST_DIGITS = frozenset("23456")
#: How far (characters) after a card number a bare 3-4 digit group is read as its CVV.
CVV_AFTER_CARD_CHARS = 25
#: How far (characters) before a date an expiry word makes it a card's expiry date.
EXPIRY_WORD_WINDOW = 30
#: How far (characters) before a number an order/reference word marks it as an id.
REFERENCE_WORD_WINDOW = 25
IBAN_MIN_CHARS, IBAN_MAX_CHARS = 15, 34

#: Words that describe a password rather than being one: "my password is wrong".
_NOT_A_VALUE = frozenset(
    re.findall(
        r"\w+",
        "a an the not no wrong incorrect invalid expired blocked locked too very same correct"
        " right still being rejected reset changed different case sensitive missing lost gone"
        " forgotten broken weak strong long short definitely probably just only also already"
        " now saved stored required needed what that this it mine my your our their"
        " there here in on for of to and or but if so then when where why how which who"
        " working accepted stuck disabled set unknown empty blank fine ok okay good bad",
    )
)
_SEP = r"[ \-]"
_CARD = re.compile(
    rf"(?<![\d+])\d(?:{_SEP}?\d){{{CARD_MIN_DIGITS - 1},{CARD_MAX_DIGITS - 1}}}(?!\d)"
)
_CVV = re.compile(
    r"\b(?:cvv2?|cvc2?|cv2|csc|security\s+code|security\s+number|card\s+code"
    r"|(?:3|4|three|four)[\s-]digit\s+(?:code|number)|(?:code|number)\s+on\s+the\s+back)"
    r"(?:\s+(?:is|was|number|code))?\s*[:=\-]?\s*(\d{3,4})(?!\d)",
    re.IGNORECASE,
)
#: What may stand between a card number and its CVV: "4111..., cvv 123", "4111... 12/27 123".
_CARD_TAIL = re.compile(
    r"(?:[\s,;:\-]|cvv|cvc|cv2|code|security|and|exp\w*|(?:0?[1-9]|1[0-2])\s?/\s?\d{2,4})*",
    re.IGNORECASE,
)
_CARD_WORDS = re.compile(r"\b(?:card|visa|mastercard|amex|debit|credit|cvv|cvc)\b", re.I)
_REFERENCE_WORDS = re.compile(
    r"\b(?:order|reference|ref|ticket|invoice|tracking|case|account|customer)\b", re.I
)
_BARE_CVV = re.compile(r"(?<![\d/])\d{3,4}(?![\d/])")
_EXPIRY = re.compile(r"(?<![\d/])(?:0?[1-9]|1[0-2])\s?[/\-]\s?(?:\d{2}|20\d{2})(?![\d/])")
_EXPIRY_WORDS = re.compile(
    r"\b(?:exp(?:iry|iration|ires|ired)?|valid\s+(?:thru|through|until|till)|card|cvv|cvc)\b",
    re.IGNORECASE,
)
_PASSWORD = re.compile(
    r"\b(?:password|passwd|pass\s?word|pwd|pw|passcode|pass\s+code|passphrase|login)"
    r"(?:\s+(?:for|to|of|on)\s+[\w\- ]{1,25}?)?"
    r"(?:\s*[:=]\s*|\s+(?:is|was|=)\s*(?:now\s+|still\s+|set\s+to\s+)?(?:[:=]\s*)?"
    r"|\s+(?=\S*\d)(?!(?:is|was)\b))"
    # "[": a placeholder; "(": an aside in brackets ("reset my password (urgent)")
    r"[\"'\u201c\u2018]?(?P<value>(?![\[(])[^\s\"'\u201d\u2019]{3,})",
    re.IGNORECASE,
)
_PIN = re.compile(
    r"\b(?:pin|pin\s+(?:number|code)|passcode)(?:\s+(?:is|was|number|code))?"
    r"(?:\s+(?:is|was))?\s*[:=\-]?\s*[\"'“]?(?P<value>\d{4,8})(?!\d)",
    re.IGNORECASE,
)
_ONE_TIME_CODE = re.compile(
    r"\b(?:(?:one[\s-]time|verification|verify|security|sms|text|otp|2fa|two[\s-]factor"
    r"|auth(?:entication)?|login|access|confirmation)\s+(?:code|pin|number)|otp|2fa\s+code"
    r"|code\s+(?:you|u|that\s+you|which\s+you)\s+(?:sent|texted|emailed)(?:\s+me)?"
    r"|code\s+(?:i|I)\s+(?:got|received|was\s+sent))"
    r"(?:\s+(?:is|was|it's|its|says))?\s*[:=\-]?\s*(?P<value>\d{4,8})(?!\d)",
    re.IGNORECASE,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]){11,30}\b", re.IGNORECASE)
_SORT_CODE = re.compile(
    r"\bsort\s*code\s*(?:is|was)?\s*[:=\-]?\s*(?P<value>\d{2}[\s\-]?\d{2}[\s\-]?\d{2})(?!\d)",
    re.IGNORECASE,
)
_BANK_ACCOUNT = re.compile(
    r"\b(?:bank\s+account|account)\s*(?:number|no\.?|num|#)?\s*(?:is|was)?\s*[:=\-]?\s*"
    r"(?P<value>\d{6,17})(?!\d)",
    re.IGNORECASE,
)
_BANK_CONTEXT = re.compile(r"\b(?:bank|sort\s*code|routing|direct\s+debit|iban)\b", re.I)
_ROUTING = re.compile(
    r"\b(?:routing|aba)(?:\s+(?:number|no\.?|#))?\s*(?:is|was)?\s*[:=\-]?\s*(?P<value>\d{9})(?!\d)",
    re.IGNORECASE,
)
_API_KEYS = re.compile(
    r"\b(?:sk|pk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"
    r"|\bsk-(?:proj-)?[A-Za-z0-9_\-]{20,}"
    r"|\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|\bxox[abprs]-[A-Za-z0-9\-]{10,}"
    r"|\bAIza[0-9A-Za-z_\-]{35}"
    r"|\b\d{8,10}:[A-Za-z0-9_\-]{35}\b"
    r"|\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
    r"|(?<=bearer )[A-Za-z0-9._\-]{20,}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Masked:
    """A message with its secrets replaced by placeholders."""

    text: str
    kinds: tuple[str, ...]  # in order of appearance, deduplicated; () when none


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str


def mask_secrets(text: str) -> Masked:
    """``text`` with every secret replaced by its kind's placeholder."""
    spans = _resolve(sorted(_find(text), key=lambda s: (s.start, -(s.end - s.start))))
    if not spans:
        return Masked(text, ())
    parts: list[str] = []
    position = 0
    for span in spans:
        parts += [text[position : span.start], PLACEHOLDERS[span.kind]]
        position = span.end
    parts.append(text[position:])
    return Masked("".join(parts), tuple(dict.fromkeys(s.kind for s in spans)))


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check (card numbers)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """Whether ``candidate`` (spaces allowed) is an IBAN with a valid mod-97 checksum."""
    compact = candidate.replace(" ", "").upper()
    if not IBAN_MIN_CHARS <= len(compact) <= IBAN_MAX_CHARS or not compact[:2].isalpha():
        return False
    if not compact[2:4].isdigit() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def routing_valid(digits: str) -> bool:
    """Whether nine digits are an ABA routing number (its weighted checksum)."""
    weights = (3, 7, 1) * 3
    if len(digits) != len(weights):
        return False
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def _find(text: str) -> Iterator[_Span]:
    cards = list(_cards(text))
    yield from cards
    for match in _CVV.finditer(text):
        yield _Span(match.start(1), match.end(1), "cvv")
    for card in cards:
        window = text[card.end : card.end + CVV_AFTER_CARD_CHARS]
        for match in _BARE_CVV.finditer(window):
            if _CARD_TAIL.fullmatch(window[: match.start()]):
                yield _Span(card.end + match.start(), card.end + match.end(), "cvv")
    for match in _EXPIRY.finditer(text):
        before = text[max(0, match.start() - EXPIRY_WORD_WINDOW) : match.start()]
        if cards or _EXPIRY_WORDS.search(before):
            yield _Span(match.start(), match.end(), "card_expiry")
    for match in _PIN.finditer(text):
        yield _Span(match.start("value"), match.end("value"), "pin")
    for match in _PASSWORD.finditer(text):
        value = match.group("value")
        if value.lower().strip(".,!?;") not in _NOT_A_VALUE:
            end = match.end("value")
            while end > match.start("value") and text[end - 1] in ".,!?;)":
                end -= 1
            yield _Span(match.start("value"), end, "password")
    for match in _ONE_TIME_CODE.finditer(text):
        yield _Span(match.start("value"), match.end("value"), "one_time_code")
    for match in _IBAN.finditer(text):
        candidate = match.group(0)
        # the IBAN may run into the next word ("GB29 NWBK ... 26819 thanks"): trim groups
        while candidate and not iban_valid(candidate) and " " in candidate:
            candidate = candidate.rsplit(" ", 1)[0]
        if iban_valid(candidate):
            yield _Span(match.start(), match.start() + len(candidate), "iban")
    for match in _SORT_CODE.finditer(text):
        yield _Span(match.start("value"), match.end("value"), "bank_account")
    for match in _ROUTING.finditer(text):
        if routing_valid(match.group("value")):
            yield _Span(match.start("value"), match.end("value"), "bank_account")
    if _BANK_CONTEXT.search(text):
        for match in _BANK_ACCOUNT.finditer(text):
            yield _Span(match.start("value"), match.end("value"), "bank_account")
    for match in _API_KEYS.finditer(text):
        yield _Span(match.start(), match.end(), "api_key")


def _cards(text: str) -> Iterator[_Span]:
    card_words = _CARD_WORDS.search(text)
    for match in _CARD.finditer(text):
        before = text[max(0, match.start() - REFERENCE_WORD_WINDOW) : match.start()]
        if not card_words and _REFERENCE_WORDS.search(before):
            continue  # "order 4539 1488 0343 6467": an id that happens to pass Luhn
        yield from _card_in(match.start(), match.group(0))


def _card_in(offset: int, run: str) -> Iterator[_Span]:
    """Card numbers in a run of digit groups: "5555-5555-5555-4444 12" holds one, followed
    by the start of an expiry date. The longest valid run of whole groups wins."""
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
    first = 0
    while first < len(groups):
        for last in range(len(groups), first, -1):
            digits = "".join(run[a:b] for a, b in groups[first:last])
            if (
                CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS
                and digits[0] in CARD_FIRST_DIGITS
                and luhn_valid(digits)
            ):
                yield _Span(offset + groups[first][0], offset + groups[last - 1][1], "card_number")
                first = last
                break
        else:
            first += 1


def _resolve(spans: list[_Span]) -> list[_Span]:
    """Non-overlapping spans: the earliest wins, then the longest."""
    kept: list[_Span] = []
    for span in spans:
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept

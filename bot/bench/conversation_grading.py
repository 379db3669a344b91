"""Grading a conversation scenario: what the bot did in each turn against what it must do.

Pure functions: the runner observes each turn (from Rasa's tracker) and this module turns
the observations into a verdict with reasons a designer can read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.bench.conversation_set import ANY_ENTRY, Expectation, Scenario

#: A reply paragraph at least this long, said again in a later turn, is a repeated answer
#: (shorter ones are stock lines such as "Did that solve it?").
REPEAT_MIN_CHARS = 60
#: A secret in ``never_say`` is also found with its spaces and dashes removed (a card number
#: echoed as 4111111111111111) when it has at least this many letters and digits.
SECRET_MIN_ALNUM = 6

_MARKUP = re.compile(r"\*\*|__|`|<[^>]+>")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_SPACE = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Observed:
    """What the bot did in one turn."""

    intent: str | None = None  # how the customer's message was read
    entries: tuple[str, ...] = ()  # FAQ entries answered, in order
    texts: tuple[str, ...] = ()  # the bot's messages
    buttons: tuple[str, ...] = ()  # the titles of the buttons it offered
    handoff: bool = False  # it handed the conversation to a person
    menu: bool = False  # it answered with the "Did you mean ...?" menu of entries
    delivered: bool = True  # the messages reached the platform (Slack, Telegram)
    error: str | None = None  # the turn could not be run (no answer, no such button)
    stored: tuple[str, ...] = ()  # the customer's message as the tracker stored it


@dataclass
class TurnVerdict:
    turn: int  # 1-based
    said: str
    reasons: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.reasons


@dataclass
class ScenarioVerdict:
    scenario: Scenario
    turns: list[TurnVerdict]
    observed: list[Observed | None] = field(default_factory=list)  # what the bot did

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.turns)

    def reasons(self) -> list[str]:
        return [f"turn {t.turn} ({t.said!r}): {r}" for t in self.turns for r in t.reasons]


def normalise(text: str) -> str:
    """Case-folded, markup removed (markdown, HTML), curly quotes straightened, one space."""
    text = _LINK.sub(r"\1", text)
    text = _MARKUP.sub("", text).replace("\u2019", "'").replace("\u2018", "'")
    return _SPACE.sub(" ", text).strip().casefold()


def paragraphs(texts: Sequence[str]) -> list[str]:
    """The normalised paragraphs of a reply that are long enough to count as an answer."""
    found = [normalise(p) for text in texts for p in re.split(r"\n\s*\n", text)]
    return [p for p in found if len(p) >= REPEAT_MIN_CHARS]


def grade(scenario: Scenario, observed: Sequence[Observed | None]) -> ScenarioVerdict:
    """The verdict on a scenario; ``observed[i]`` is turn i, None if it was not reached."""
    verdicts: list[TurnVerdict] = []
    earlier: set[str] = set()
    handed_over_at: int | None = None
    for number, turn in enumerate(scenario.turns, start=1):
        verdict = TurnVerdict(number, turn.label)
        verdicts.append(verdict)
        seen = observed[number - 1] if number - 1 < len(observed) else None
        if seen is None:
            verdict.reasons.append(
                f"not reached: the bot handed the conversation to a person at turn {handed_over_at}"
                if handed_over_at
                else "not reached"
            )
            continue
        verdict.reasons += check_turn(turn.expect, seen, earlier, scenario.never_say)
        if stored := [
            s for s in scenario.never_store if _leaks(s, normalise(" ".join(seen.stored)))
        ]:
            verdict.reasons.append(
                f"the customer's message is stored with {', '.join(repr(s) for s in stored)}"
            )
        earlier.update(paragraphs(seen.texts))
        if seen.handoff and handed_over_at is None:
            handed_over_at = number
    return ScenarioVerdict(scenario, verdicts, list(observed))


def check_turn(
    expect: Expectation, seen: Observed, earlier: set[str], never_say: Sequence[str] = ()
) -> list[str]:
    """Why one turn fails its expectation (empty: it passes)."""
    if seen.error:
        return [seen.error]
    reasons: list[str] = []
    answered = ", ".join(seen.entries) or "no FAQ entry"
    if expect.entry and not set(expect.entry) & set(seen.entries):
        reasons.append(f"expected entry {' or '.join(expect.entry)}, answered {answered}")
    if expect.entries and not _in_order(expect.entries, seen.entries):
        reasons.append(
            f"expected entries {', '.join(expect.entries)} in order, answered {answered}"
        )
    if ANY_ENTRY in expect.not_entry and seen.entries:
        reasons.append(f"expected no FAQ answer, answered {answered}")
    if wrong := [e for e in expect.not_entry if e in seen.entries]:
        reasons.append(f"must not answer {', '.join(wrong)}")
    if expect.intent and seen.intent not in expect.intent:
        reasons.append(f"expected intent {' or '.join(expect.intent)}, read as {seen.intent}")
    reply = normalise("\n".join([*seen.texts, *seen.buttons]))
    for group in expect.contains:
        if not any(normalise(phrase) in reply for phrase in group):
            reasons.append(f"reply lacks {' / '.join(repr(p) for p in group)}")
    if said := [p for p in expect.not_contains if normalise(p) in reply]:
        reasons.append(f"reply contains {', '.join(repr(p) for p in said)}")
    if leaked := [s for s in never_say if _leaks(s, reply)]:
        reasons.append(f"reply repeats the secret {', '.join(repr(s) for s in leaked)}")
    if seen.handoff != expect.handoff:
        reasons.append(
            "expected a handoff to a person"
            if expect.handoff
            else "handed to a person unexpectedly"
        )
    if expect.menu is not None and seen.menu != expect.menu:
        reasons.append(
            "expected the 'Did you mean ...?' menu" if expect.menu else "answered with a menu"
        )
    if not expect.repeat_ok and (again := [p for p in paragraphs(seen.texts) if p in earlier]):
        reasons.append(f"repeats an earlier reply: {again[0][:60]!r}...")
    if not seen.texts:
        reasons.append("no reply")
    elif not seen.delivered:
        reasons.append("the reply did not reach the platform")
    return reasons


def _in_order(expected: Sequence[str], answered: Sequence[str]) -> bool:
    position = 0
    for entry in answered:
        if position < len(expected) and entry == expected[position]:
            position += 1
    return position == len(expected)


def _leaks(secret: str, reply: str) -> bool:
    if normalise(secret) in reply:
        return True
    bare = _NOT_ALNUM.sub("", secret.casefold())
    return len(bare) >= SECRET_MIN_ALNUM and bare in _NOT_ALNUM.sub("", reply)

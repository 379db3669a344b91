"""Whether an unclear message is in English and about the bot's subjects at all.

Used before a "Did you mean ...?" menu: a menu of unrelated FAQ entries helps nobody, so
the bot says what it can help with instead (``utter_out_of_scope``), or that it only
speaks English (``utter_english_only``).

Both checks are cheap heuristics, chosen over a language-identification model on purpose:
they run only on messages the NLU model was already unsure about, they must never flag
English (the held-out FAQ paraphrases keep their answers, tests/test_e2e_faq.py), and a
wrong "not English" costs only a reply that still lists what the bot can do.
- Not English: most letters outside ASCII (Cyrillic, Greek, Arabic, CJK...), or at least
  ``MIN_FOREIGN_WORDS`` common function words of Spanish, French, German, Italian,
  Portuguese or Dutch and more of them than English ones.
- Off-topic: the message has content words and none of them shares a 4-letter stem with
  the text of the FAQ entries the model suggested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.faq.knowledge_base import FaqEntry

MIN_ASCII_SHARE = 0.5  # below: another script (Cyrillic, CJK, Arabic...)
MIN_FOREIGN_WORDS = 2  # function words of another Latin-script language
STEM = 4  # letters compared between the message and an entry
_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ENGLISH_FUNCTION_WORDS = _words(
    "a an the and or but if of to in on at by for with from about as into over after "
    "before is are was were be been being am do does did have has had i you he she it we "
    "they me my your our their this that these those there here what which who whom whose "
    "when where why how not no yes can could would should will shall may might must"
)
# function words of other languages that are not English words
FOREIGN_FUNCTION_WORDS = _words(
    # Spanish
    "el la los las del que y en por para con una mi mis es está estoy pero como cómo qué "
    "porque muy también hola gracias factura "
    # French
    "le les et est je mon ma mes pas une des du pour avec qui sur dans vous nous bonjour "
    "merci ça c'est "
    # German
    "der die das und ist nicht ich mein meine ein eine mit für wie kann ist habe hallo "
    "danke bitte warum funktioniert "
    # Italian
    "il di che non sono della perché ciao grazie "
    # Portuguese
    "um uma não com olá obrigado você "
    # Dutch
    "het een niet ik mijn hoe waarom"
)
# words that say nothing about the subject (requests, fillers)
_GENERIC = _words(
    "please help want need know tell like get got give make let thanks thank hello just "
    "really also still some any anything something thing things stuff question questions "
    "problem issue way time today now again hmm umm huh hey well okay yeah yep nope"
)


def is_probably_not_english(text: str) -> bool:
    """Whether ``text`` looks written in another language (see the module docstring)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    if sum(c.isascii() for c in letters) / len(letters) < MIN_ASCII_SHARE:
        return True
    words = _WORD.findall(text.lower())
    foreign = sum(w in FOREIGN_FUNCTION_WORDS for w in words)
    english = sum(w in ENGLISH_FUNCTION_WORDS for w in words)
    return foreign >= MIN_FOREIGN_WORDS and foreign > english


def content_stems(text: str) -> set[str]:
    """The first ``STEM`` letters of each word that says something about the subject."""
    return {
        w[:STEM]
        for w in _WORD.findall(text.lower())
        if len(w) >= 3 and w not in ENGLISH_FUNCTION_WORDS and w not in _GENERIC
    }


def related(text: str, entry: FaqEntry) -> bool:
    """Whether ``text`` shares a stem with the entry's question, examples or answer
    (``pay`` matches ``payment``: a shorter stem may be the start of a longer one)."""
    mine = content_stems(text)
    theirs = content_stems(" ".join([entry.question, *entry.examples, entry.answer]))
    return any(a.startswith(b) or b.startswith(a) for a in mine for b in theirs)


def off_topic(text: str, entries: Iterable[FaqEntry]) -> bool:
    """A message with content words, none related to any of ``entries``."""
    return bool(content_stems(text)) and not any(related(text, e) for e in entries)

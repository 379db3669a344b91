"""Personal data masked in log records before any handler sees them.

Masks what :func:`bot.analytics.redact.redact` finds (e-mail addresses, phone numbers, card
numbers that pass the Luhn check, street addresses, postcodes) and the display names of
known customers: each name as a whole, word for word and case-sensitive (``Ana`` becomes
``[name]``, ``banana`` stays; a customer called "Traceback http" masks that phrase, never
the word ``Traceback`` alone). The message is formatted with its arguments first, so
``logger.info("from %s", email)`` is masked too; so are exception tracebacks and stack
traces. Every line is also cut to :data:`MAX_LOG_LINE_CHARS`, so no record carries more
than a bounded excerpt of what a customer typed.

:func:`install` puts the filter into the log record factory: every record the process
creates passes through it, whatever handlers Rasa or Sanic configure later.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from bot.analytics.redact import redact

NAME_MASK = "[name]"
#: the longest log line kept whole; longer ones are cut, saying how much was cut
MAX_LOG_LINE_CHARS = 2000
_WORD = re.compile(r"[^\W\d_][\w'-]*")
_Name = tuple[str, ...]


class KnownNames:
    """Customers' display names, each masked as a whole, shared by the threads of one
    process."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        # first word -> the names starting with it, as words, longest first
        self._by_first: dict[str, tuple[_Name, ...]] = {}
        self.add(*names)

    def add(self, *names: str) -> None:
        """Adds names; a name with fewer than two letters is never masked."""
        found = {tuple(_WORD.findall(name or "")) for name in names}
        new = {n for n in found if n and sum(map(len, n)) >= 2} - set(self._names())
        if not new:
            return
        with self._lock:
            by_first = {first: list(known) for first, known in self._by_first.items()}
            for name in new:
                by_first.setdefault(name[0], []).append(name)
            self._by_first = {
                first: tuple(sorted(set(known), key=len, reverse=True))
                for first, known in by_first.items()
            }

    def _names(self) -> list[_Name]:
        return [name for known in self._by_first.values() for name in known]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and tuple(_WORD.findall(name)) in self._names()

    def mask(self, text: str) -> str:
        """``text`` with every known name (all its words, in order, separated by white space
        only) replaced by ``[name]``."""
        by_first = self._by_first
        if not by_first or not text:
            return text
        words = list(_WORD.finditer(text))
        parts: list[str] = []
        done = index = 0
        while index < len(words):
            length = _match(by_first.get(words[index].group(), ()), words, index, text)
            if length:
                parts += [text[done : words[index].start()], NAME_MASK]
                done = words[index + length - 1].end()
                index += length
            else:
                index += 1
        return "".join(parts) + text[done:] if parts else text


def _match(names: tuple[_Name, ...], words: list[re.Match[str]], start: int, text: str) -> int:
    """How many words of ``words`` from ``start`` spell one of ``names`` (0: none)."""
    for name in names:
        end = start + len(name)
        if end > len(words):
            continue
        if all(words[start + k].group() == part for k, part in enumerate(name)) and all(
            text[words[k - 1].end() : words[k].start()].isspace() for k in range(start + 1, end)
        ):
            return len(name)
    return 0


def bounded(text: str, limit: int = MAX_LOG_LINE_CHARS) -> str:
    """``text`` with each line cut to ``limit`` characters (noting how many were cut)."""
    if len(text) <= limit:
        return text
    return "\n".join(line if len(line) <= limit else _cut(line, limit) for line in text.split("\n"))


def _cut(line: str, limit: int) -> str:
    # at a space when there is one: no half e-mail address or phone number is left to leak
    kept = line[:limit]
    if " " in kept[limit // 2 :]:
        kept = kept[: kept.rindex(" ")]
    return f"{kept} ... [{len(line) - len(kept)} characters cut]"


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a record's message, traceback and stack (never drops one)."""

    def __init__(self, names: KnownNames) -> None:
        super().__init__()
        self.names = names

    def masked(self, text: str) -> str:
        return self.names.mask(redact(bounded(text)))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record to logging's own report
            return True
        record.msg, record.args = self.masked(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.masked(record.exc_text)
        if record.stack_info:
            record.stack_info = self.masked(record.stack_info)
        return True


_installed: list[PersonalDataFilter] = []


def install(names: KnownNames | None = None) -> PersonalDataFilter:
    """Masks personal data in every log record this process creates from now on (once per
    process; later calls return the installed filter)."""
    if not _installed:
        redacting = PersonalDataFilter(names or known_names())
        create: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = create(*args, **kwargs)
            redacting.filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed.append(redacting)
    return _installed[0]


@lru_cache(maxsize=1)
def known_names() -> KnownNames:
    """This process's known names (the profile service adds the names it records)."""
    return KnownNames()

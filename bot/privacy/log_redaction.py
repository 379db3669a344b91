"""Personal data masked in log records before any handler sees them.

Masks what :func:`bot.analytics.redact.redact` finds (e-mail addresses, phone numbers, card
numbers that pass the Luhn check, street addresses, postcodes) and the display names of
known customers (whole words, case-sensitive: ``Ana`` becomes ``[name]``, ``banana`` stays).
The message is formatted with its arguments first, so ``logger.info("from %s", email)`` is
masked too; so are exception tracebacks and stack traces.

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
_WORD = re.compile(r"[^\W\d_][\w'-]*")


class KnownNames:
    """Customers' display names (each word of a name is masked on its own), shared by the
    threads of one process."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._words: frozenset[str] = frozenset()
        self.add(*names)

    def add(self, *names: str) -> None:
        """Adds names; words shorter than two letters are never masked."""
        words = {w for name in names for w in _WORD.findall(name or "") if len(w) >= 2}
        if words - self._words:
            with self._lock:
                self._words = self._words | words

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def mask(self, text: str) -> str:
        """``text`` with every known name replaced by ``[name]``."""
        words = self._words
        if not words or not text:
            return text
        return _WORD.sub(lambda m: NAME_MASK if m.group() in words else m.group(), text)


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a record's message, traceback and stack (never drops one)."""

    def __init__(self, names: KnownNames) -> None:
        super().__init__()
        self.names = names

    def masked(self, text: str) -> str:
        return self.names.mask(redact(text))

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

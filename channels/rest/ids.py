"""REST conversation ids: every REST sender lives under ``rest:``.

A REST client names itself freely (``sender``); the conversation it reaches is always
``rest:<sender>``, so it can never address a ``slack:...`` or ``telegram:...`` conversation.
"""

from __future__ import annotations

PREFIX = "rest:"


def conversation_id(sender: str) -> str:
    """The conversation a REST ``sender`` speaks in."""
    return f"{PREFIX}{sender}"

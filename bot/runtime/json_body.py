"""Request bodies checked before any handler sees them: JSON, bounded, answered briefly.

Shared by the Rasa API guard, the action server and the REST channel. A refused body gets
a 400 with a short JSON error: never a traceback, never an echo of what was sent.
"""

from __future__ import annotations

import json
from typing import Any

from sanic import response
from sanic.response import HTTPResponse

#: deepest JSON nesting accepted (Rasa's own events nest about six levels)
MAX_JSON_DEPTH = 64
#: the body of every 5xx answer: what went wrong stays in the log
INTERNAL_ERROR = {"error": "internal error"}


class BadBody(ValueError):
    """A body that is not acceptable JSON; the message is short and safe to answer."""


def parse_json(body: bytes | None) -> Any:
    """The JSON value of ``body``; :class:`BadBody` when empty, malformed or too deep."""
    if not body or not body.strip():
        raise BadBody("empty body")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested beyond Python's stack
        raise BadBody("malformed JSON") from None
    if depth(value) > MAX_JSON_DEPTH:
        raise BadBody("JSON nested too deep")
    return value


def parse_json_object(body: bytes | None) -> dict[str, Any]:
    """:func:`parse_json` for a body that must be a JSON object."""
    value = parse_json(body)
    if not isinstance(value, dict):
        raise BadBody("expected a JSON object")
    return value


def depth(value: Any) -> int:
    """How deep ``value`` nests lists and objects (a scalar is 0), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        pending.extend((child, level + 1) for child in children)
    return deepest


def bad_request(error: BadBody | str) -> HTTPResponse:
    """400 with the short reason."""
    return response.json({"error": str(error)}, status=400)


def declared_too_large(content_length: str | None, limit: int) -> bool:
    """Whether a ``Content-Length`` announces more than ``limit`` bytes.

    Sanic refuses such a body with 413 before reading it, but (21.12) then runs the request
    middleware again on the error: a middleware checks this first so the 413 stands.
    """
    try:
        return content_length is not None and int(content_length) > limit
    except ValueError:
        return True


def too_large() -> HTTPResponse:
    """413 for a body beyond the limit."""
    return response.json({"error": "body too large"}, status=413)


def unauthorised() -> HTTPResponse:
    """401 without detail."""
    return response.json({"error": "unauthorised"}, status=401)


def internal_error(status: int = 500) -> HTTPResponse:
    """A 5xx whose body says nothing about the cause."""
    return response.json(INTERNAL_ERROR, status=status)

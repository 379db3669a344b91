"""Rasa's HTTP server hardened without changing Rasa: bounded, well-formed requests only.

Added to the Sanic app Rasa builds (``rasa.core.run.configure_app``), by the launcher
(:mod:`bot.privacy.launch`) before it starts ``rasa``:

- a request body limit (:data:`MAX_BODY_BYTES`; larger requests get 413 before anything
  reads them);
- the JSON API routes that take a body get it checked first: empty, malformed, nested too
  deep or of the wrong shape answers 400 with a short JSON error;
- no 5xx answer carries exception text (the cause stays in the log), and a long 400 answer
  (Rasa's event validation quotes the refused body) becomes its short reason.

Authentication is Rasa's own: ``--auth-token`` on every API route except ``/`` and
``/version`` (:mod:`bot.runtime.services`), its comparison made constant-time here.
"""

from __future__ import annotations

import functools
import hmac
import inspect
import json
import re
import secrets
from collections.abc import Callable
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

from bot.runtime.json_body import (
    BadBody,
    bad_request,
    declared_too_large,
    internal_error,
    parse_json,
    too_large,
)

#: the largest request Rasa accepts: messages and event lists are small (1 MB took Rasa
#: tens of seconds before this limit)
MAX_BODY_BYTES = 256 * 1024

#: a longer 400 answer is replaced by its short reason: Rasa's quote the body they refuse
MAX_ERROR_BODY_BYTES = 400

_CONVERSATION = r"/conversations/.+"
#: (method, path pattern, the body's JSON type, the string fields it must carry)
_BODY_SHAPES: tuple[tuple[str, re.Pattern[str], tuple[type, ...], tuple[str, ...]], ...] = (
    ("POST", re.compile(_CONVERSATION + r"/tracker/events"), (dict, list), ()),
    ("PUT", re.compile(_CONVERSATION + r"/tracker/events"), (list,), ()),
    ("POST", re.compile(_CONVERSATION + r"/trigger_intent"), (dict,), ("name",)),
    ("POST", re.compile(_CONVERSATION + r"/execute"), (dict,), ("name",)),
    ("POST", re.compile(_CONVERSATION + r"/messages"), (dict,), ("text", "sender")),
    ("POST", re.compile(r"/model/parse"), (dict,), ("text",)),
    ("POST", re.compile(r"/model/predict"), (list,), ()),
    ("PUT", re.compile(r"/model"), (dict,), ()),
)


def check_body(method: str, path: str, body: bytes | None) -> None:
    """Raises :class:`BadBody` when ``body`` does not fit the route's expected JSON."""
    for shape_method, pattern, types, fields in _BODY_SHAPES:
        if method == shape_method and pattern.fullmatch(path):
            value = parse_json(body)
            if not isinstance(value, types):
                names = " or ".join("a JSON object" if t is dict else "a JSON list" for t in types)
                raise BadBody(f"expected {names}")
            for field in fields:
                if not isinstance(value, dict) or not isinstance(value.get(field), str):
                    raise BadBody(f"'{field}' must be a string")
            return


async def _check_request(request: Request) -> HTTPResponse | None:
    if declared_too_large(request.headers.get("content-length"), MAX_BODY_BYTES):
        return too_large()
    try:
        check_body(request.method, request.path, request.body)
    except BadBody as error:
        return bad_request(error)
    return None


async def _hide_failures(request: Request, answer: BaseHTTPResponse) -> HTTPResponse | None:
    # a channel's own 503 ("not started", "try again", a revoked token) says why on purpose
    own_answer = request.path.startswith(CHANNEL_PATHS) and answer.status != 500
    if answer.status >= 500 and not own_answer:
        return internal_error(answer.status)
    if answer.status == 400 and len(answer.body or b"") > MAX_ERROR_BODY_BYTES:
        return bad_request(short_reason(answer.body or b""))
    return None


#: Paths of the channels' webhooks, whose handlers write their own answers.
CHANNEL_PATHS = "/webhooks/"


def short_reason(body: bytes) -> str:
    """The ``reason`` of one of Rasa's long 400 answers (they quote the request body)."""
    try:
        reason = json.loads(body).get("reason")
    except (ValueError, AttributeError):
        reason = None
    return reason if isinstance(reason, str) and len(reason) < 80 else "bad request"


def guard(app: Sanic) -> Sanic:
    """Adds the body limit, the body checks and the quiet 5xx answers to ``app``."""
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.register_middleware(_check_request, "request")
    app.register_middleware(_hide_failures, "response")
    return app


def constant_time_requires_auth(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rasa's ``requires_auth`` with the ``?token=`` compared in constant time (Rasa's own
    uses ``==``); JWT and the 401 answer stay Rasa's."""

    def requires_auth(app: Sanic, token: str | None = None) -> Callable[[Any], Any]:
        def decorator(handler: Any) -> Any:
            # a wrong or missing token goes on to Rasa's own check against a random value
            # nobody knows: JWT still works, anything else gets Rasa's 401. (Passing None
            # would mean "authentication disabled" to Rasa.)
            unmatchable = None if token is None else secrets.token_urlsafe(32)
            without_token = original(app, unmatchable)(handler)

            @functools.wraps(handler)
            async def decorated(request: Request, *args: Any, **kwargs: Any) -> Any:
                provided = request.args.get("token")
                if token and provided and hmac.compare_digest(provided.encode(), token.encode()):
                    result = handler(request, *args, **kwargs)
                    return await result if inspect.isawaitable(result) else result
                return await without_token(request, *args, **kwargs)

            return decorated

        return decorator

    requires_auth.bot_guarded = True  # type: ignore[attr-defined]
    return requires_auth


def install() -> None:
    """Makes Rasa's ``configure_app`` return guarded apps and its API token checks constant
    time (once; later calls do nothing)."""
    import rasa.core.run
    import rasa.server

    if getattr(rasa.core.run.configure_app, "bot_guarded", False):
        return
    rasa.server.requires_auth = constant_time_requires_auth(rasa.server.requires_auth)
    original: Callable[..., Sanic] = rasa.core.run.configure_app

    @functools.wraps(original)
    def configure_app(*args: Any, **kwargs: Any) -> Sanic:
        return guard(original(*args, **kwargs))

    configure_app.bot_guarded = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app

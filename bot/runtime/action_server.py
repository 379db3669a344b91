"""``python -m bot.runtime.action_server``: rasa_sdk's action server, guarded.

The app is rasa_sdk's own (``rasa_sdk.endpoint.create_app``: the same ``/webhook``,
``/actions`` and ``/health``), run on ``BOT_BIND_HOST`` with:

- every route but ``/health`` requiring ``Authorization: Bearer $BOT_ACTION_SERVER_TOKEN``
  (constant-time comparison; 401 otherwise). Rasa sends it from the ``headers`` of the
  ``action_endpoint`` (:func:`bot.runtime.secrets.authenticated_action_endpoint`);
- a request body limit (:data:`MAX_BODY_BYTES`, also after deflate decompression);
- an action call checked before rasa_sdk reads it: empty, malformed or wrongly typed
  bodies get 400 with a short JSON error (rasa_sdk answered 500 echoing the body);
- 5xx answers without exception text; the cause is logged, the request body is not.

Arguments are rasa_sdk's (``--actions``, ``--port``, ...). Started by `bot run` through
:mod:`bot.privacy.launch` (:mod:`bot.runtime.services`).
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
import zlib
from collections.abc import Sequence
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import BaseHTTPResponse, HTTPResponse

from bot.runtime.json_body import (
    BadBody,
    bad_request,
    declared_too_large,
    internal_error,
    parse_json_object,
    too_large,
    unauthorised,
)
from bot.runtime.secrets import ACTION_SERVER_TOKEN, bind_host

logger = logging.getLogger(__name__)

#: the largest action call accepted: it carries the conversation's whole tracker
MAX_BODY_BYTES = 8 * 1024 * 1024
#: routes answered without the token (readiness checks)
OPEN_PATHS = frozenset({"/health"})


def authorised(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant time)."""
    return hmac.compare_digest((header or "").encode(), f"Bearer {token}".encode())


def decompressed(body: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """A deflate body inflated to at most ``limit`` bytes; :class:`BadBody` beyond it."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise BadBody("malformed compressed body") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise BadBody("body too large")
    return data


def action_call(body: bytes) -> dict[str, Any]:
    """The action call in ``body`` when it has the shape rasa_sdk reads; else :class:`BadBody`."""
    call = parse_json_object(body)
    if not isinstance(call.get("next_action"), str):
        raise BadBody("'next_action' must be a string")
    for field in ("tracker", "domain"):
        if field in call and not isinstance(call[field], dict):
            raise BadBody(f"'{field}' must be a JSON object")
    tracker = call.get("tracker")
    if not isinstance(tracker, dict):
        raise BadBody("'tracker' must be a JSON object")
    if not isinstance(tracker.get("sender_id"), str):
        raise BadBody("'tracker.sender_id' must be a string")
    for field in ("events", "slots"):
        expected = list if field == "events" else dict
        if field in tracker and not isinstance(tracker[field], expected):
            raise BadBody(f"'tracker.{field}' has the wrong type")
    return call


def guard(app: Sanic, token: str) -> Sanic:
    """Adds the token check, the body limit and checks, and quiet 5xx answers to ``app``."""
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES

    async def check_request(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if not authorised(request.headers.get("authorization"), token):
            return unauthorised()
        if declared_too_large(request.headers.get("content-length"), MAX_BODY_BYTES):
            return too_large()
        if request.path == "/webhook":
            try:
                body = request.body or b""
                if request.headers.get("content-encoding") == "deflate":
                    body = decompressed(body)
                call = action_call(body)
            except BadBody as error:
                return bad_request(error)
            if request.headers.get("content-encoding") != "deflate":
                request.parsed_json = call  # type: ignore[assignment]  # rasa_sdk reads it from here, not again
        return None

    async def hide_failures(_request: Request, answer: BaseHTTPResponse) -> HTTPResponse | None:
        return internal_error(answer.status) if answer.status >= 500 else None

    async def on_exception(request: Request, error: Exception) -> HTTPResponse:
        # rasa_sdk's handler answered str(error) and the whole request body
        logger.error("action server failed on %s %s", request.method, request.path, exc_info=error)
        return internal_error()

    app.register_middleware(check_request, "request")
    app.register_middleware(hide_failures, "response")
    app.error_handler.add(Exception, on_exception)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    from rasa_sdk import utils
    from rasa_sdk.endpoint import create_app, create_argument_parser
    from rasa_sdk.plugin import plugin_manager

    args = create_argument_parser().parse_args(argv)
    token = os.environ.get(ACTION_SERVER_TOKEN)
    if not token:
        sys.exit(f"error: {ACTION_SERVER_TOKEN} is not set; start the bot with `bot run`.")
    utils.configure_colored_logging(args.loglevel or os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    app = guard(create_app(args.actions, cors_origins=args.cors), token)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    host = bind_host()
    logger.info("Action endpoint is up and running on http://%s:%s", host, args.port)
    app.run(host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()

"""A fake Slack for tests: the Web API over HTTP and Socket Mode over WebSocket, on 127.0.0.1.

Every Web API call it receives is checked against Slack's OpenAPI spec and every event
it sends against the event wrapper schema (:mod:`bot.testing.slack_spec`); problems are
recorded in ``violations`` and the ``fake_slack`` fixture fails the test on any.

Pytest plugin ``bot.testing.fake_slack``: fixtures ``fake_slack_server`` (one per session)
and ``fake_slack`` (reset per test, asserts no violations at teardown).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bot.testing.slack_events import Workspace
from bot.testing.slack_spec import (
    block_kit_violations,
    event_violations,
    specs_available,
    web_api_violations,
)
from bot.testing.slack_web_api import METHODS


@dataclass
class ApiCall:
    """One Web API request the fake received, and the fake's answer."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)
    result: dict[str, Any] | None = None
    peer: str = ""  # the client's TCP address and port: one per connection


class FakeSlack:
    """The fake server; ``workspace`` holds the ids it uses."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-fake-bot-token",
        app_token: str = "xapp-1-fake-app-token",
        signing_secret: str = "fake-signing-secret",
    ) -> None:
        self.bot_token, self.app_token, self.signing_secret = bot_token, app_token, signing_secret
        self.workspace = Workspace()
        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._planned: dict[str, list[tuple[str, float]]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._ack_waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_get("/link/", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        await self.drop_sockets()
        if self._runner is not None:
            await self._runner.cleanup()

    def reset(self) -> None:
        """Forgets calls, violations, acks, messages and planned failures; the workspace's
        people and channel members are the defaults again."""
        fresh = Workspace()
        self.workspace.people.clear()
        self.workspace.people.update(fresh.people)
        self.workspace.members.clear()
        self.workspace.members.update(fresh.members)
        self.calls.clear()
        self.violations.clear()
        self.acks.clear()
        self.messages.clear()
        self._planned.clear()

    # --- Web API ---------------------------------------------------------------------

    def fail_next(
        self, method: str, kind: str = "ratelimited", retry_after: float = 1, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``method`` fail: ``ratelimited`` (429 + Retry-After),
        ``server_error`` (500) or ``disconnect`` (connection closed without a response)."""
        self._planned.setdefault(method, []).extend([(kind, retry_after)] * times)

    def posted(self, call: ApiCall) -> dict[str, Any]:
        """The message (as stored, with later updates) that a chat.postMessage call created."""
        assert call.result and call.result.get("ok"), call.result
        return self.messages[(call.result["channel"], call.result["ts"])]

    def calls_of(self, method: str, **params: Any) -> list[ApiCall]:
        """The calls of ``method`` (whose parameters include ``params``, when given)."""
        return [
            call
            for call in self.calls
            if call.method == method and all(call.params.get(k) == v for k, v in params.items())
        ]

    async def wait_until(
        self, method: str, count: int = 1, timeout: float = 60, **params: Any
    ) -> list[ApiCall]:
        """Polls until ``method`` was called ``count`` times with ``params``; returns them."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls_of(method, **params)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} {method} call(s) with {params}, got {len(found)}: "
                    + repr([c.params.get("text", "")[:80] for c in self.calls_of(method)])
                )
            await asyncio.sleep(0.05)
        return found

    async def wait_for(self, method: str, count: int = 1, timeout: float = 60) -> list[ApiCall]:
        """Polls until ``method`` was called at least ``count`` times (bolt-python's test style)."""
        deadline = time.monotonic() + timeout
        while len(self.calls_of(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} {method} call(s), got {len(self.calls_of(method))}"
                )
            await asyncio.sleep(0.05)
        return self.calls_of(method)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()  # before the spec checks: when the platform had it
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        authorization = request.headers.get("Authorization")
        token = (
            authorization[7:]
            if authorization and authorization.startswith("Bearer ")
            else params.get("token")
        )
        self.violations += web_api_violations(method, params, authorization)
        if "blocks" in params:
            self.violations += block_kit_violations(method, params["blocks"])
        peername = request.transport.get_extra_info("peername") if request.transport else None
        peer = f"{peername[0]}:{peername[1]}" if peername else ""
        call = ApiCall(method, params, token, arrived, peer=peer)
        self.calls.append(call)
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            self.violations.append(f"{method}: called with the wrong token")
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if planned := self._planned.get(method):
            kind, retry_after = planned.pop(0)
            if kind == "ratelimited":
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(int(retry_after))},
                )
            if kind == "disconnect" and request.transport is not None:
                request.transport.close()
                return web.Response(status=500)
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        if method == "apps.connections.open":
            call.result = {
                "ok": True,
                "url": f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}",
            }
        elif method in METHODS:
            call.result = METHODS[method](self.workspace, self.messages, params)
        else:
            self.violations.append(f"{method}: not implemented by the fake")
            call.result = {"ok": False, "error": "unknown_method"}
        return web.json_response(call.result)

    # --- Socket Mode -----------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                "connection_info": {"app_id": self.workspace.app_id},
            }
        )
        try:
            async for frame in socket:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    ack = json.loads(frame.data)
                    envelope_id = ack.get("envelope_id", "")
                    self.acks[envelope_id] = ack
                    if (waiter := self._ack_waiters.pop(envelope_id, None)) and not waiter.done():
                        waiter.set_result(ack)
        finally:
            self._sockets.remove(socket)
        return socket

    @property
    def socket_connected(self) -> bool:
        return bool(self._sockets)

    async def wait_socket(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self._sockets:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode connection to the fake Slack")
            await asyncio.sleep(0.05)

    async def drop_sockets(self) -> None:
        for socket in list(self._sockets):
            await socket.close()

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], *, retry_attempt: int = 0, timeout: float = 5
    ) -> dict[str, Any]:
        """Sends a Socket Mode envelope (``events_api`` or ``interactive``); returns the ack."""
        if kind == "events_api":
            self.violations += event_violations(payload)
        await self.wait_socket()
        envelope_id = str(uuid.uuid4())
        waiter = self._ack_waiters[envelope_id] = asyncio.get_running_loop().create_future()
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind == "interactive",
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
            }
        )
        return await asyncio.wait_for(waiter, timeout)

    # --- Events API over HTTP --------------------------------------------------------

    def sign(
        self, body: str, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Slack's request signature headers (v0 HMAC-SHA256 of ``v0:<ts>:<body>``)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(
            (secret or self.signing_secret).encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}

    async def post_event(
        self,
        url: str,
        body: dict[str, Any],
        *,
        retry_num: int | None = None,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[int, str]:
        """Delivers a signed Events API request to ``url``; returns (status, body)."""
        if body.get("type") == "event_callback":
            self.violations += event_violations(body)
        raw = json.dumps(body)
        signed = {"Content-Type": "application/json", **self.sign(raw, timestamp, secret)}
        if retry_num is not None:
            signed.update(
                {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
            )
        return await _post(url, raw, {**signed, **(headers or {})})

    async def post_command(self, url: str, fields: dict[str, str]) -> tuple[int, str]:
        """Delivers a signed slash command (form fields, see ``Workspace.slash_command``)."""
        raw = urlencode(fields)
        return await _post(
            url, raw, {"Content-Type": "application/x-www-form-urlencoded", **self.sign(raw)}
        )

    async def post_interaction(self, url: str, payload: dict[str, Any]) -> tuple[int, str, float]:
        """Delivers a signed interaction (form field ``payload``); (status, body, seconds)."""
        raw = urlencode({"payload": json.dumps(payload)})
        started = time.monotonic()
        status, text = await _post(
            url, raw, {"Content-Type": "application/x-www-form-urlencoded", **self.sign(raw)}
        )
        return status, text, time.monotonic() - started


async def _post(url: str, raw: str, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url, data=raw.encode(), headers=headers, timeout=aiohttp.ClientTimeout(total=30)
        ) as response,
    ):
        return response.status, await response.text()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def fake_slack_server() -> AsyncIterator[FakeSlack]:
    """One fake Slack for the session (skips when ``../shared/specs/slack`` is absent)."""
    if not specs_available():
        pytest.skip("../shared/specs/slack is absent: the fake Slack validates against those specs")
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


@pytest_asyncio.fixture(loop_scope="session")
async def fake_slack(fake_slack_server: FakeSlack) -> AsyncIterator[FakeSlack]:
    """The session's fake Slack, reset; the test fails if any request or event broke the spec."""
    fake_slack_server.reset()
    yield fake_slack_server
    violations = list(fake_slack_server.violations)
    fake_slack_server.reset()
    assert not violations, "Slack spec violations:\n" + "\n".join(violations)

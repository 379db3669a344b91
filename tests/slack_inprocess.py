"""The Slack channel in-process over the Events API (HTTP), Rasa replaced by a recorder.

Requests are signed like Slack's and dispatched straight into the channel's bolt app, so
a test sees the exact HTTP status Slack would get; the answers go to the fake Slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from rasa.core.channels.channel import UserMessage
from slack_bolt import BoltResponse
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.delivery.store import SqliteDeliveryStore
from bot.testing.slack_spec import event_violations
from channels.slack.channel import _Runtime
from channels.slack.config import settings_from

if TYPE_CHECKING:
    from bot.testing.fake_slack import FakeSlack

Answer = Callable[[UserMessage], dict[str, Any] | None]


class Recorder:
    """Stands in for Rasa: records messages and answers through the message's output channel."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.messages: list[UserMessage] = []
        self.answer = answer or (lambda m: {"text": f"You said: **{m.text}**"})

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        reply = self.answer(message)
        if reply is not None:
            await message.output_channel.send_response(message.sender_id, reply)


@contextlib.asynccontextmanager
async def http_runtime(fake: FakeSlack, db: Path, recorder: Recorder) -> AsyncIterator[_Runtime]:
    """The channel's runtime on the HTTP transport, talking to ``fake``."""
    settings = settings_from(
        {
            "bot_token": fake.bot_token,
            "signing_secret": fake.signing_secret,
            "transport": "http",
            "api_url": fake.api_url,
        },
        {},
    )
    runtime = _Runtime(settings, SqliteDeliveryStore(db), recorder, server=None)
    await runtime.start()
    try:
        yield runtime
    finally:
        await asyncio.sleep(0.2)  # listeners run after the ack: let them finish first
        await runtime.stop()


async def deliver(
    fake: FakeSlack, runtime: _Runtime, body: Mapping[str, Any], *, form: str | None = None
) -> BoltResponse:
    """One signed request as Slack sends it: JSON for events, the form field ``payload`` for
    interactions (``form="payload"``), plain form fields for slash commands (``form="fields"``)."""
    if form == "payload":
        raw, content_type = (
            urlencode({"payload": json.dumps(body)}),
            "application/x-www-form-urlencoded",
        )
    elif form == "fields":
        raw, content_type = urlencode(body), "application/x-www-form-urlencoded"
    else:
        raw, content_type = json.dumps(body), "application/json"
        if body.get("type") == "event_callback":
            fake.violations += event_violations(body)
    headers = {"content-type": content_type, **fake.sign(raw)}
    return await runtime.app.async_dispatch(AsyncBoltRequest(body=raw, headers=headers))


async def eventually(check: Callable[[], Any], timeout: float = 10) -> Any:
    """Waits until ``check()`` is truthy (the work after an ack is asynchronous)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
    return value

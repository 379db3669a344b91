"""The real bot (Rasa + actions) wired to the fake Slack, for end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.runtime.settings import REST_CHANNEL
from bot.testing.servers import PROJECT_ROOT, RunningBot, running_bot
from channels.slack.render import ZWSP, to_mrkdwn

if TYPE_CHECKING:
    from bot.testing.fake_slack import ApiCall, FakeSlack


def slack_credentials(fake: FakeSlack, transport: str) -> dict[str, Any]:
    """credentials.yml content: the REST channel and Slack pointed at ``fake``."""
    slack = {
        "bot_token": fake.bot_token,
        "signing_secret": fake.signing_secret,
        "transport": transport,
        "api_url": fake.api_url,
    }
    if transport == "socket":
        slack["app_token"] = fake.app_token
    return {REST_CHANNEL: None, "channels.slack.SlackInput": slack}


@contextlib.asynccontextmanager
async def running_slack_bot(
    fake: FakeSlack,
    transport: str,
    state: Path | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[RunningBot]:
    """Starts the bot with the Slack channel; for Socket Mode, waits for its connection.
    ``env`` adds to the servers' environment (e.g. :func:`agent_env`)."""
    # the channel must never fall back to real Slack settings from the developer's shell
    safe = {
        "SLACK_BOT_TOKEN": "",
        "SLACK_APP_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
        "SLACK_API_URL": "",
        "SLACK_AGENT_CHANNEL": "",
        **(env or {}),
    }
    async with running_bot(slack_credentials(fake, transport), state=state, env=safe) as bot:
        if transport == "socket":
            await fake.wait_socket(60)
        yield bot


def agent_env(fake: FakeSlack) -> dict[str, str]:
    """The environment of Slack agents (both servers): the agents' channel and the fake's
    token and URL (the action server posts the pings, the Rasa server updates them)."""
    return {
        "SLACK_AGENT_CHANNEL": fake.workspace.agent_channel,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_API_URL": fake.api_url,
    }


def events_url(bot: RunningBot) -> str:
    """The Events API request URL of a running bot."""
    return f"{bot.rasa_url}/webhooks/slack/events"


def rendered_variants(response: str) -> set[str]:
    """The mrkdwn each text variant of a domain.yml response renders to."""
    variants = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["responses"][response]
    return {to_mrkdwn(v["text"]) for v in variants if v.get("text")}


def is_rendered_variant(text: str, response: str) -> bool:
    """Whether ``text`` is one of the response's variants as rendered, its ``{slots}`` filled
    with anything (a returning customer's greeting carries their name)."""
    for variant in rendered_variants(response):
        parts = re.split(r"\{\w+\}", visible(variant))
        if re.fullmatch(".+?".join(re.escape(part) for part in parts), visible(text), re.S):
            return True
    return False


def text_of(call: ApiCall) -> str:
    """The mrkdwn of all sections of a posted message."""
    return "\n\n".join(
        b["text"]["text"] for b in call.params.get("blocks", []) if b["type"] == "section"
    )


def visible(text: str) -> str:
    """Text as the reader sees it (without the zero-width spaces that fence * _ ~ `)."""
    return text.replace(ZWSP, "")


async def settle(fake: FakeSlack, expected: int, seconds: float = 3.0) -> None:
    """Waits ``seconds``, then checks that exactly ``expected`` messages were posted."""
    await asyncio.sleep(seconds)
    posted = fake.calls_of("chat.postMessage")
    assert len(posted) == expected, [text_of(c)[:80] for c in posted]

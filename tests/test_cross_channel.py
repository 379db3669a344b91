"""One assistant on every channel: the same conversations through Slack and through Telegram
give the same answers, content for content (formatting aside)."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from bot.bench.project import project_bot
from bot.testing.fake_slack import FakeSlack
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.servers import PROJECT_ROOT, RunningBot
from bot.testing.slack_bot import text_of, visible

pytestmark = pytest.mark.e2e

SCRIPTS = [
    ["how do I reset my password", "are you a bot?", "what can you do"],
    ["is there an outage in my area", "qwzx vbnm plok", "thanks, bye"],
    ["my wifi keeps dropping out every evening", "how much does the tv add-on cost"],
]
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


def words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\w+", text.lower()))


#: Every response variant's words -> the response name (variants are chosen at random).
VARIANTS = {
    words(re.sub(r"\*\*|_|\[([^\]]+)\]\([^)]+\)", r"\1", v["text"])): name
    for name, variants in DOMAIN["responses"].items()
    for v in variants
    if v.get("text")
}


def content(text: str, buttons: list[str]) -> tuple[Any, tuple[str, ...]]:
    """What the customer got, formatting aside: a response name for a domain response with
    several variants, else the words; and the button titles."""
    found = words(text)
    return VARIANTS.get(found, found), tuple(buttons)


def slack_plain(mrkdwn: str) -> str:
    """What a Slack client shows: link labels, and &lt; &gt; &amp; unescaped."""
    text = re.sub(r"<[^|>]+\|([^>]+)>", r"\1", visible(mrkdwn))
    return html.unescape(re.sub(r"<(https?://[^>]+)>", r"\1", text))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def both(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[RunningBot, FakeSlack, FakeTelegram]]:
    folder: Path = tmp_path_factory.mktemp("cross-channel")
    async with project_bot(folder) as (bot, slack, telegram, _):
        yield bot, slack, telegram


async def quiet(count: Any, seconds: float = 2.0, timeout: float = 60.0) -> None:
    """Waits until at least one new message arrived and then nothing more for ``seconds``."""
    start, last, loop = count(), count(), asyncio.get_running_loop()
    deadline, settled_at = loop.time() + timeout, loop.time() + seconds
    while loop.time() < deadline:
        await asyncio.sleep(0.1)
        if count() != last:
            last, settled_at = count(), loop.time() + seconds
        elif count() > start and loop.time() >= settled_at:
            return
    raise AssertionError("no answer arrived")


async def slack_turn(
    bot: RunningBot, slack: FakeSlack, channel: str, user: str, text: str
) -> list[Any]:
    def posted() -> list[Any]:
        return [c for c in slack.calls_of("chat.postMessage") if c.params.get("channel") == channel]

    before = len(posted())
    event = slack.workspace.wrap(slack.workspace.message(text, channel=channel, user=user))
    status, _ = await slack.post_event(f"{bot.rasa_url}/webhooks/slack/events", event)
    assert status == 200
    await quiet(lambda: len(posted()))
    turn = []
    for call in posted()[before:]:
        buttons = [
            e["text"]["text"]
            for b in call.params.get("blocks", [])
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        turn.append(content(slack_plain(text_of(call)), buttons))
    return turn


async def telegram_turn(telegram: FakeTelegram, chat_id: int, text: str) -> list[Any]:
    before = len(telegram.messages_to(chat_id))
    assert await telegram.inject(telegram.make.text(text, user_id=chat_id)) == 200
    await quiet(lambda: len(telegram.messages_to(chat_id)))
    turn = []
    for message in telegram.messages_to(chat_id)[before:]:
        keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        turn.append(
            content(message.get("text") or "", [b["text"] for row in keyboard for b in row])
        )
    return turn


@pytest.mark.parametrize("script", SCRIPTS, ids=[s[0][:20] for s in SCRIPTS])
async def test_the_same_conversation_gets_the_same_answers_on_slack_and_telegram(
    both: tuple[RunningBot, FakeSlack, FakeTelegram], script: list[str]
) -> None:
    bot, slack, telegram = both
    number = 7000 + SCRIPTS.index(script)
    channel, user = f"D0CROSS{number}", f"U0CROSS{number}"
    for text in script:
        on_slack = await slack_turn(bot, slack, channel, user, text)
        on_telegram = await telegram_turn(telegram, number, text)
        assert on_slack == on_telegram, f"{text!r}:\nSlack:    {on_slack}\nTelegram: {on_telegram}"
    assert not slack.violations and not telegram.violations

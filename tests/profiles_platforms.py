"""The personalisation end-to-end tests' bot: the real Rasa and action servers serving the
fake Slack (Events API) and the fake Telegram (webhook) at once, and what a customer does
on them; plus reading every row of every store."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa  # type: ignore[import-untyped]

from bot.runtime.settings import REST_CHANNEL
from bot.testing.fake_slack import ApiCall, FakeSlack
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.servers import DEFAULT_MODEL, RunningBot, free_port, running_bot
from bot.testing.slack_bot import text_of, visible
from bot.testing.slack_spec import specs_available
from bot.testing.telegram_spec import load_spec, spec_available

WAIT = 60.0
WEBHOOK_PATH = "/webhooks/telegram/webhook"


@dataclass
class Platforms:
    """The running bot and both fake platforms, with what a customer does on them."""

    bot: RunningBot
    slack: FakeSlack
    telegram: FakeTelegram
    databases: tuple[str, ...]  # SQLAlchemy URLs of every database the stores use

    # -- Telegram -------------------------------------------------------------------------
    async def telegram_says(
        self, text: str, user: int, chat: int | None = None, expect: int = 1
    ) -> list[dict[str, Any]]:
        """``user`` writes ``text`` (in their private chat unless ``chat``); the replies."""
        where = chat or user
        before = len(self.telegram.messages_to(where))
        assert (
            await self.telegram.inject(self.telegram.make.text(text, user_id=user, chat_id=chat))
            == 200
        )
        return (await self.telegram.wait_for_messages(where, before + expect, WAIT))[before:]

    async def telegram_presses(
        self, message: dict[str, Any], title: str, user: int, expect: int = 1
    ) -> list[dict[str, Any]]:
        """``user`` presses the button ``title`` of ``message``; the replies."""
        rows = (self.telegram.sent[message["message_id"]].get("reply_markup") or {}).get(
            "inline_keyboard"
        ) or (message.get("reply_markup") or {}).get("inline_keyboard", [])
        [button] = [b for row in rows for b in row if b["text"] == title]
        chat = message["chat"]["id"]
        before = len(self.telegram.messages_to(chat))
        press = self.telegram.make.callback(message, button["callback_data"], user_id=user)
        assert await self.telegram.inject(press) == 200
        return (await self.telegram.wait_for_messages(chat, before + expect, WAIT))[before:]

    async def telegram_restarts(self, user: int) -> None:
        """/restart in the private chat: the next message starts a new conversation."""
        assert await self.telegram.inject(self.telegram.make.text("/restart", user_id=user)) == 200
        await self.saved(f"telegram:{user}", "restart")

    # -- Slack ----------------------------------------------------------------------------
    async def slack_restarts(self, user: str, dm: str) -> None:
        """/restart in the DM: the next message starts a new conversation."""
        w = self.slack.workspace
        status, _ = await self.slack.post_event(
            self.events_url, w.wrap(w.message("/restart", channel=dm, user=user))
        )
        assert status == 200
        await self.saved(f"slack:{dm}", "restart")

    def slack_replies(self, channel: str) -> list[ApiCall]:
        return self.slack.calls_of("chat.postMessage", channel=channel)

    async def slack_says(
        self,
        text: str,
        user: str,
        channel: str,
        *,
        mention: bool = False,
        thread_ts: str | None = None,
        expect: int = 1,
    ) -> list[ApiCall]:
        """``user`` writes in a DM (or mentions the bot in a channel); the replies."""
        w = self.slack.workspace
        if mention:
            event = w.message(f"<@{w.bot_user_id}> {text}", channel=channel, user=user)
            event["type"] = "app_mention"
            event.pop("channel_type")
        elif thread_ts:
            event = w.message(
                text, channel=channel, user=user, channel_type="channel", thread_ts=thread_ts
            )
        else:
            event = w.message(text, channel=channel, user=user)
        before = len(self.slack_replies(channel))
        status, _ = await self.slack.post_event(self.events_url, w.wrap(event))
        assert status == 200
        replies = await self.slack.wait_until("chat.postMessage", before + expect, channel=channel)
        return replies[before:]

    async def slack_clicks(
        self, call: ApiCall, title: str, user: str, expect: int = 1
    ) -> list[ApiCall]:
        """``user`` clicks the button ``title`` of the posted message; the replies."""
        posted = self.slack.posted(call)
        [(row, element)] = [
            (b, e)
            for b in posted["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"] == title
        ]
        click = self.slack.workspace.block_actions(
            posted, {**element, "block_id": row["block_id"]}, user=user
        )
        channel = call.params["channel"]
        before = len(self.slack_replies(channel))
        status, _, _ = await self.slack.post_interaction(self.events_url, click)
        assert status == 200
        replies = await self.slack.wait_until("chat.postMessage", before + expect, channel=channel)
        return replies[before:]

    async def link_accounts(self, slack_user: str, dm: str, telegram_user: int) -> dict[str, Any]:
        """Links a Slack customer's account to a Telegram chat: the code asked for on Slack,
        sent and confirmed on Telegram. Returns Telegram's question, naming the account."""
        [code_call] = await self.slack_says("link my accounts", slack_user, dm)
        code = re.search(r"link ([A-Z0-9]{8})", slack_text([code_call]))
        assert code, slack_text([code_call])
        await self.telegram_says("hello", telegram_user)
        [ask] = await self.telegram_says(f"/link {code.group(1)}", telegram_user)
        [linked] = await self.telegram_presses(ask, "Yes, link them", telegram_user)
        assert linked["text"].startswith("Done: your accounts are linked"), linked["text"]
        return ask

    @property
    def events_url(self) -> str:
        return f"{self.bot.rasa_url}/webhooks/slack/events"

    # -- the stores -----------------------------------------------------------------------
    async def saved(self, conversation: str, kind: str) -> None:
        """Waits until the conversation's tracker holds an event of ``kind`` (a /restart)."""
        url = f"{self.bot.rasa_url}/conversations/{conversation}/tracker"
        params = {"include_events": "ALL", **self.bot.api_params}
        deadline = time.monotonic() + WAIT
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                async with session.get(url, params=params) as response:
                    events = (await response.json())["events"] or []
                if any(e["event"] == kind for e in events):
                    return
                await asyncio.sleep(0.2)
        pytest.fail(f"no {kind} event in {conversation}")

    def every_row(self) -> list[str]:
        """Every row of every table of every store (the bot's database, the tracker store)."""
        rows = []
        for url in self.databases:
            engine = sa.create_engine(url)
            with engine.connect() as db:
                for table in sa.inspect(engine).get_table_names():
                    for row in db.execute(sa.text(f'SELECT * FROM "{table}"')):
                        rows.append(f"{table}: {tuple(row)}")
            engine.dispose()
        return rows

    def logs(self) -> str:
        return "".join((self.bot.state / f).read_text() for f in ("rasa.log", "actions.log"))


def slack_text(calls: Sequence[ApiCall]) -> str:
    return "\n".join(visible(text_of(c)) for c in calls)


def buttons(call: ApiCall) -> list[str]:
    return [
        e["text"]["text"]
        for b in call.params.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def traces(rows: list[str], needles: Sequence[str]) -> list[str]:
    return [row[:160] for row in rows if any(n in row for n in needles)]


async def until(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


@asynccontextmanager
async def serving_both(
    folder: Path,
    *,
    endpoints: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    databases: tuple[str, ...] = (),
) -> AsyncIterator[Platforms]:
    """The bot for both fake platforms (stores in ``folder`` unless ``endpoints`` and
    ``env`` say otherwise); fails on any spec violation of either platform."""
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train`")
    if not specs_available() or not spec_available():
        pytest.skip("the Slack and Telegram specs in ../shared/specs are absent")
    slack = FakeSlack()
    await slack.start()
    try:
        async with FakeTelegram(load_spec()) as telegram:
            port, secret = free_port(), secrets.token_urlsafe(24)
            credentials: dict[str, Any] = {
                REST_CHANNEL: None,
                "channels.slack.SlackInput": {
                    "bot_token": slack.bot_token,
                    "signing_secret": slack.signing_secret,
                    "transport": "http",
                    "api_url": slack.api_url,
                },
                "channels.telegram.TelegramInput": {
                    "token": telegram.token,
                    "base_url": telegram.base_url,
                    "mode": "webhook",
                    "secret_token": secret,
                    "webhook_url": f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
                },
            }
            settings = {
                "SLACK_BOT_TOKEN": "",
                "SLACK_APP_TOKEN": "",
                "SLACK_SIGNING_SECRET": "",
                "SLACK_API_URL": "",
                "SLACK_AGENT_CHANNEL": "",
                "BOT_PERSONALISATION": "full",
                "BOT_LOG_NAMES_REFRESH_SECONDS": "1",
                **(env or {}),
            }
            async with running_bot(
                credentials, endpoints=endpoints, env=settings, state=folder, port=port
            ) as bot:
                await telegram.wait_for(lambda: telegram.webhook, timeout=WAIT)
                stores = databases or tuple(
                    f"sqlite:///{folder / name}" for name in ("bot.db", "tracker.db")
                )
                yield Platforms(bot, slack, telegram, stores)
                assert not slack.violations, slack.violations
                assert not telegram.violations, telegram.violations
    finally:
        await slack.close()

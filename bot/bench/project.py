"""The project's bot for the channel benchmark: REST, Slack (Events API) and Telegram
(webhook) at once, talking to the fake platforms on loopback."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.bench.channels import STATE
from bot.runtime.settings import REST_CHANNEL, redis_store
from bot.runtime.supervisor import RestartPolicy
from bot.testing.fake_slack import FakeSlack
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.servers import RunningBot, free_port, running_bot
from bot.testing.telegram_spec import load_spec

WEBHOOK_PATH = "/webhooks/telegram/webhook"
REDIS_URL = "redis://127.0.0.1:6379/0"


@asynccontextmanager
async def project_bot(
    folder: Path = STATE / "project",
    *,
    tracker_store: str | None = None,
    workers: int = 1,
    endpoints: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    restart: RestartPolicy | None = None,
) -> AsyncIterator[tuple[RunningBot, FakeSlack, FakeTelegram, Callable[[], list[int]]]]:
    slack = FakeSlack()
    await slack.start()
    try:
        async with FakeTelegram(load_spec()) as telegram:
            port, secret = free_port(), secrets.token_urlsafe(24)
            shutil.rmtree(folder, ignore_errors=True)  # fresh stores: no update id seen before
            folder.mkdir(parents=True)
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
            environment = {
                "SLACK_BOT_TOKEN": "",
                "SLACK_APP_TOKEN": "",
                "SLACK_SIGNING_SECRET": "",
                "BOT_SQLITE_PATH": str(folder / "bot.db"),
                **(env or {}),
            }
            # the tracker store type (default: the project's); "SQL" is Rasa's own
            stores: dict[str, Any] = dict(endpoints or {})
            if tracker_store:
                db = str(folder / "tracker.db")
                stores["tracker_store"] = {"type": tracker_store, "dialect": "sqlite", "db": db}
            if workers > 1:  # Rasa runs several Sanic workers only with a shared lock store
                stores.setdefault("lock_store", redis_store(REDIS_URL))
                environment["SANIC_WORKERS"] = str(workers)
            async with running_bot(
                credentials,
                env=environment,
                state=folder,
                port=port,
                endpoints=stores or None,
                restart=restart,
            ) as bot:
                await _webhook_registered(telegram)
                yield bot, slack, telegram, lambda: list(bot.pids)
    finally:
        await slack.close()


async def _webhook_registered(telegram: FakeTelegram, timeout: float = 60.0) -> None:
    """The Telegram channel registers its webhook after the server is up; until then an
    injected update would go to ``getUpdates`` and never be answered."""
    deadline = time.monotonic() + timeout
    while telegram.webhook is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the Telegram channel did not call setWebhook in {timeout:.0f}s")
        await asyncio.sleep(0.05)

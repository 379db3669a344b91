"""Pytest plugin for Telegram: ``pytest_plugins = ["bot.testing.telegram_plugin"]``.

Fixtures:
- ``no_network``: fails the test on any connection beyond 127.0.0.1 (in-process).
- ``telegram_spec``: the shared Bot API spec (skips with the reason when ../shared is absent).
- ``fake_telegram``: a fresh fake Bot API per test; fails on spec violations and on
  callback queries the bot never answered.
- ``telegram_polling_bot`` / ``telegram_webhook_bot``: the trained bot behind
  ``channels.telegram.TelegramInput`` talking to a fake Bot API (one Rasa per session and
  transport); per test they assert no spec violation and no real network access, also
  from the Rasa subprocesses.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.runtime.settings import REST_CHANNEL
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.servers import DEFAULT_MODEL, RunningBot, free_port, running_bot
from bot.testing.telegram_net_guard import blocked_in_subprocess, guard_network, subprocess_env
from bot.testing.telegram_spec import SPEC_FILE, BotApiSpec, load_spec, spec_available

WEBHOOK_PATH = "/webhooks/telegram/webhook"


@dataclass(frozen=True)
class TelegramBot:
    """A running bot wired to a fake Bot API."""

    fake: FakeTelegram
    server: RunningBot
    secret: str | None
    folder: Path

    @property
    def webhook_url(self) -> str:
        return f"{self.server.rasa_url}{WEBHOOK_PATH}"


@pytest.fixture
def no_network() -> Iterator[None]:
    """Fails the test if code in this process connects beyond the loopback."""
    with guard_network() as blocked:
        yield
    assert not blocked, f"real network access attempted: {blocked}"


@pytest.fixture(scope="session")
def telegram_spec() -> BotApiSpec:
    """The shared Bot API spec."""
    if not spec_available():
        pytest.skip(f"Bot API spec not found at {SPEC_FILE} (the ../shared folder is absent)")
    return load_spec()


@pytest_asyncio.fixture(loop_scope="session")
async def fake_telegram(telegram_spec: BotApiSpec, no_network: None) -> AsyncIterator[FakeTelegram]:
    """A fresh fake Bot API for one test."""
    async with FakeTelegram(telegram_spec) as fake:
        yield fake
    assert not fake.violations, "Bot API spec violations:\n" + "\n".join(fake.violations)
    assert not fake.pending_callbacks, f"callback queries never answered: {fake.pending_callbacks}"


def telegram_credentials(
    fake: FakeTelegram, mode: str, port: int, secret: str | None
) -> dict[str, Any]:
    """credentials.yml content for the channel under test (what the env vars would give)."""
    settings: dict[str, Any] = {
        "token": fake.token,
        "base_url": fake.base_url,
        "mode": mode,
        "poll_timeout": 1,
    }
    if mode == "webhook":
        settings.update(secret_token=secret, webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
    return {REST_CHANNEL: None, "channels.telegram.TelegramInput": settings}


async def _session_bot(spec: BotApiSpec, mode: str, tmp: Path) -> AsyncIterator[TelegramBot]:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train`")
    secret = secrets.token_urlsafe(24) if mode == "webhook" else None
    (tmp / "state").mkdir(parents=True, exist_ok=True)
    with guard_network():
        async with FakeTelegram(spec) as fake:
            port = free_port()
            credentials = telegram_credentials(fake, mode, port, secret)
            async with running_bot(
                credentials, env=subprocess_env(tmp), state=tmp / "state", port=port
            ) as server:
                bot = TelegramBot(fake, server, secret, tmp)
                await fake.wait_for(lambda: fake.commands, timeout=60)
                if mode == "webhook":
                    await fake.wait_for(lambda: fake.webhook, timeout=30)
                else:
                    await fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=30)
                yield bot


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _telegram_polling(
    telegram_spec: BotApiSpec, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TelegramBot]:
    async for bot in _session_bot(telegram_spec, "polling", tmp_path_factory.mktemp("tg-poll")):
        yield bot


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _telegram_webhook(
    telegram_spec: BotApiSpec, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TelegramBot]:
    async for bot in _session_bot(telegram_spec, "webhook", tmp_path_factory.mktemp("tg-hook")):
        yield bot


def _checked(bot: TelegramBot) -> Iterator[TelegramBot]:
    before = len(bot.fake.violations)
    with guard_network() as blocked:
        yield bot
    violations = bot.fake.violations[before:]
    assert not violations, "Bot API spec violations:\n" + "\n".join(violations)
    assert not bot.fake.pending_callbacks, f"unanswered callbacks: {bot.fake.pending_callbacks}"
    assert not blocked, f"real network access attempted: {blocked}"
    from_rasa = blocked_in_subprocess(bot.folder)
    assert not from_rasa, f"network access from the Rasa processes: {from_rasa}"


@pytest.fixture
def telegram_polling_bot(_telegram_polling: TelegramBot) -> Iterator[TelegramBot]:
    """The bot on long polling; checked after each test."""
    yield from _checked(_telegram_polling)


@pytest.fixture
def telegram_webhook_bot(_telegram_webhook: TelegramBot) -> Iterator[TelegramBot]:
    """The bot on the webhook transport; checked after each test."""
    yield from _checked(_telegram_webhook)

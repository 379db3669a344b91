"""Shared test set-up: the project's pytest plugins (real servers, fake platforms)."""

from collections.abc import Iterator

import pytest

from bot.handoff.service import HandoffServices, handoff_services

pytest_plugins = [
    "bot.testing.plugin",
    "bot.testing.fake_slack",
    "bot.testing.telegram_plugin",
]


@pytest.fixture
def handoff_here(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HandoffServices]:
    """This process's handoff services on a fresh SQLite file, agents pinged in the log only
    (what a channel adapter reaches when the bot fails on a message)."""
    monkeypatch.setenv("BOT_SQLITE_PATH", str(tmp_path_factory.mktemp("handoff") / "bot.db"))
    for variable in (
        "BOT_DATABASE_URL",
        "SLACK_AGENT_CHANNEL",
        "TELEGRAM_AGENT_CHAT_ID",
        "BOT_AGENT_WEBHOOK_URL",
    ):
        monkeypatch.delenv(variable, raising=False)
    handoff_services.cache_clear()
    yield handoff_services()
    handoff_services.cache_clear()

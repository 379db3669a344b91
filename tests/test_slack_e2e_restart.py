"""Exactly-once across a restart: the same event before and after, one SQLite file, one answer."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.testing.servers import DEFAULT_MODEL
from bot.testing.slack_bot import events_url, running_slack_bot, settle

if TYPE_CHECKING:  # imported by pytest as a plugin (below), not here: keeps assert rewriting
    from bot.testing.fake_slack import FakeSlack

# the fake Slack fixtures (harmless if tests/conftest.py registers the plugin too)
pytestmark = pytest.mark.e2e


async def test_no_second_answer_after_restart(fake_slack: FakeSlack) -> None:
    """The same event delivered before and after a restart (same SQLite file): one answer."""
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train`")
    w = fake_slack.workspace
    body = w.wrap(w.message("/greet"))
    with tempfile.TemporaryDirectory(prefix="slack-restart-") as folder:
        async with running_slack_bot(fake_slack, "http", state=Path(folder)) as bot:
            assert (await fake_slack.post_event(events_url(bot), body))[0] == 200
            await fake_slack.wait_for("chat.postMessage")
        async with running_slack_bot(fake_slack, "http", state=Path(folder)) as bot:
            assert (await fake_slack.post_event(events_url(bot), body, retry_num=3))[0] == 200
            fresh = w.wrap(w.message("/greet"))  # the restarted bot does answer new events
            assert (await fake_slack.post_event(events_url(bot), fresh))[0] == 200
            await fake_slack.wait_for("chat.postMessage", 2)
            await settle(fake_slack, 2, 1.5)

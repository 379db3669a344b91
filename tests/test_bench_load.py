"""The benchmark's simulated customers: a conversation the bot handed to a person is not
answered by the bot any more, so its customer starts a new one instead of timing out."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.bench.load import HandedOver, closed_loop, open_loop
from bot.bench.routes import handover_notices


class BotThatHandsOver:
    """Answers at once; every conversation goes to a person after its second message."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    async def send(self, conversation: str, text: str) -> None:
        if self.sent[conversation] >= 2:
            raise HandedOver(conversation)
        self.sent[conversation] += 1
        await asyncio.sleep(0.001)


async def test_closed_loop_customers_start_anew_after_a_handover() -> None:
    bot = BotThatHandsOver()
    result = await closed_loop(bot.send, ["hi"], conversations=3, seconds=0.2, prefix="t")
    assert result.errors == 0
    assert result.messages == sum(bot.sent.values()) > 6
    assert result.handed_over >= 3
    assert set(bot.sent.values()) <= {1, 2}  # no conversation got a third message
    assert any(name.startswith("t-c0-h") for name in bot.sent)


async def test_open_loop_sends_the_message_to_a_new_conversation_after_a_handover() -> None:
    bot = BotThatHandsOver()
    result = await open_loop(bot.send, ["hi"], rate=200.0, seconds=0.3, prefix="t", conversations=2)
    assert result.errors == 0
    assert result.handed_over > 0
    assert result.messages == sum(bot.sent.values())
    assert max(bot.sent.values()) <= 2


def test_the_handover_notices_are_the_domains_handoff_messages() -> None:
    notices = handover_notices()
    assert "I'm bringing in a person from our support team" in notices
    assert all(notice and "{" not in notice for notice in notices)

"""The profile service: who is speaking and where, who gets which greeting at which level,
returning customers, the group-chat guard, the customer's own choice, and linking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.faq.knowledge_base import load_knowledge_base
from bot.handoff.config import load_handoff_config
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.tickets import EscalationReason, NewTicket
from bot.privacy.log_redaction import KnownNames
from bot.profiles.greeting import PLAIN, Greeting, greeting_for
from bot.profiles.link_codes import code_in, new_link_code
from bot.profiles.model import Identity, Level, Profile
from bot.profiles.service import ProfileService
from bot.profiles.session import session_start_events, starting_metadata
from bot.profiles.settings import bot_level
from bot.profiles.speaker import Speaker, speaker_of
from bot.profiles.sqlite_store import SqliteProfileStore

PROJECT = Path(__file__).resolve().parents[1]
KNOWLEDGE_BASE = load_knowledge_base([PROJECT / "data"])
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)

ANA_DM = Speaker("telegram:42", "Ana", private=True)
ANA_IN_GROUP = Speaker("telegram:42", "Ana", private=False)


def telegram(user: int | None = None, chat_type: str | None = None, name: str = "Ana") -> Any:
    meta: dict[str, Any] = {"chat_type": chat_type} if chat_type else {}
    if user is not None:
        meta["user"] = {"id": user, "first_name": name}
    return {"telegram": meta}


def slack(user: str = "U1", channel: str = "D1", channel_type: str | None = "im") -> Any:
    meta: dict[str, Any] = {"user": user, "channel": channel}
    if channel_type:
        meta["channel_type"] = channel_type
    return {"slack": meta, "user_name": "Casey"}


# -- who is speaking, and is the chat private? -------------------------------------------


def test_a_telegram_private_chat_is_private_with_its_user() -> None:
    assert speaker_of("telegram:42", telegram(42, "private")) == Speaker("telegram:42", "Ana", True)
    # a button press carries no user: the private chat's id is the user's
    assert speaker_of("telegram:42", {"telegram": {"button": "Yes"}}) == Speaker(
        "telegram:42", "", True
    )


def test_a_telegram_group_is_never_private() -> None:
    assert speaker_of("telegram:-1001:42", telegram(42, "supergroup")) == Speaker(
        "telegram:42", "Ana", False
    )
    assert speaker_of("telegram:-1001", telegram(42, "group")).private is False


def test_someone_else_writing_in_a_private_chat_is_nobody_known() -> None:
    assert speaker_of("telegram:42", telegram(7, "private")) == Speaker(None)


def test_only_a_slack_dm_is_private() -> None:
    assert speaker_of("slack:D1", slack()) == Speaker("slack:U1", "Casey", True)
    assert speaker_of("slack:D1", slack(channel_type=None)).private  # a click in the DM
    assert not speaker_of("slack:C1:1700.1", slack(channel="C1", channel_type="channel")).private
    assert not speaker_of("slack:C1:1700.1", slack(channel="C1", channel_type=None)).private
    assert not speaker_of("slack:G1", slack(channel="G1", channel_type="mpim")).private
    assert not speaker_of("slack:D1", slack(channel="D2")).private  # metadata of another chat


def test_the_local_chat_and_unknown_senders_have_no_identity() -> None:
    assert speaker_of("local-ana", {}) == Speaker(None)
    assert speaker_of("slack:D1", {}) == Speaker(None)


# -- greetings and levels -----------------------------------------------------------------


def profile(conversations: int = 2, level: Level | None = None, name: str = "Ana") -> Profile:
    identity = Identity("telegram:42", name, T0)
    return Profile("p1", (identity,), T0, T0, conversations, "billing", level)


def test_a_first_conversation_gets_the_plain_greeting() -> None:
    assert greeting_for(profile(conversations=1), ANA_DM, Level.FULL, 7, "Billing") == PLAIN


def test_a_returning_customer_is_greeted_by_name_and_topic_or_ticket() -> None:
    assert greeting_for(profile(), ANA_DM, Level.FULL) == Greeting("name", "Ana")
    assert greeting_for(profile(), ANA_DM, Level.FULL, None, "Billing") == Greeting(
        "topic", "Ana", topic="Billing"
    )
    # an open request says what it is about: no need to ask about the topic
    assert greeting_for(profile(), ANA_DM, Level.FULL, 7, "Billing") == Greeting(
        "ticket", "Ana", ticket="7"
    )


def test_the_level_limits_what_is_used() -> None:
    assert greeting_for(profile(), ANA_DM, Level.NAME, 7, "Billing") == Greeting("name", "Ana")
    assert greeting_for(profile(), ANA_DM, Level.OFF, 7, "Billing") == PLAIN


def test_the_customers_choice_lowers_the_level_but_never_raises_it() -> None:
    assert greeting_for(profile(level=Level.NAME), ANA_DM, Level.FULL, 7) == Greeting("name", "Ana")
    assert greeting_for(profile(level=Level.OFF), ANA_DM, Level.FULL, 7) == PLAIN
    assert greeting_for(profile(level=Level.FULL), ANA_DM, Level.NAME, 7) == Greeting("name", "Ana")


def test_nothing_personal_in_a_group_or_without_a_name() -> None:
    assert greeting_for(profile(), ANA_IN_GROUP, Level.FULL, 7, "Billing") == PLAIN
    assert greeting_for(profile(name=""), Speaker("telegram:42", "", True), Level.FULL) == PLAIN


def test_the_bot_level_comes_from_the_environment() -> None:
    assert bot_level({}) is Level.FULL
    assert bot_level({"BOT_PERSONALISATION": " Name "}) is Level.NAME
    with pytest.raises(ValueError, match="use off, name, full"):
        bot_level({"BOT_PERSONALISATION": "some"})


# -- the service on a real store -------------------------------------------------------------


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Bot:
    service: ProfileService
    tickets: SqliteTicketStore
    clock: Clock
    names: KnownNames

    async def starts(self, conversation: str, who: Speaker, after_minutes: float = 90) -> Greeting:
        self.clock.now += timedelta(minutes=after_minutes)
        return await self.service.start_conversation(conversation, who)


@pytest_asyncio.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    clock, names = Clock(), KnownNames()
    tickets = SqliteTicketStore(tmp_path / "bot.db", weights=load_handoff_config().priority)
    store = SqliteProfileStore(tmp_path / "bot.db")
    service = ProfileService(store, tickets, KNOWLEDGE_BASE, Level.FULL, names=names, clock=clock)
    yield Bot(service, tickets, clock, names)
    await tickets.close()


async def test_the_second_conversation_greets_by_name_then_offers_the_last_topic(
    bot: Bot,
) -> None:
    assert await bot.starts("telegram:42", ANA_DM) == PLAIN
    assert await bot.starts("telegram:42", ANA_DM) == Greeting("name", "Ana")
    await bot.service.note_topic(ANA_DM, "billing")
    assert await bot.starts("telegram:42", ANA_DM) == Greeting(
        "topic", "Ana", topic="Billing and payments"
    )
    entries = await bot.service.topic_entries(ANA_DM)
    assert entries and {e.topic for e in entries} == {"billing"}
    assert "Ana" in bot.names  # masked in this process's logs from now on


async def test_an_open_request_from_another_conversation_is_mentioned(bot: Bot) -> None:
    await bot.starts("telegram:-1001:42", ANA_IN_GROUP)
    await bot.tickets.open(
        NewTicket("telegram:-1001:42", "telegram", EscalationReason.REQUESTED, "Ana")
    )
    greeting = await bot.starts("telegram:42", ANA_DM)
    assert greeting.kind == "ticket" and greeting.ticket is not None
    assert await bot.service.open_ticket("telegram:42") == int(greeting.ticket)


async def test_a_group_conversation_counts_but_reveals_nothing(bot: Bot) -> None:
    await bot.starts("telegram:42", ANA_DM)
    await bot.service.note_topic(ANA_DM, "billing")
    assert await bot.starts("telegram:-1001:42", ANA_IN_GROUP) == PLAIN
    assert await bot.service.profile(ANA_IN_GROUP) is None
    assert await bot.service.topic_entries(ANA_IN_GROUP) == []
    assert await bot.service.set_level(ANA_IN_GROUP, Level.OFF) is None
    assert await bot.service.new_link_code(ANA_IN_GROUP) is None
    assert (await bot.service.profile(ANA_DM)).conversations == 2  # type: ignore[union-attr]


async def test_an_unknown_sender_leaves_no_profile(bot: Bot) -> None:
    assert await bot.starts("local-ana", Speaker(None)) == PLAIN
    assert await bot.service.store.display_names() == []


async def test_the_customer_turns_personalisation_down(bot: Bot) -> None:
    await bot.starts("telegram:42", ANA_DM)
    await bot.service.note_topic(ANA_DM, "billing")
    chosen = await bot.service.set_level(ANA_DM, Level.NAME)
    assert bot.service.allowed_level(chosen) is Level.NAME
    assert await bot.starts("telegram:42", ANA_DM) == Greeting("name", "Ana")
    await bot.service.set_level(ANA_DM, Level.OFF)
    assert await bot.starts("telegram:42", ANA_DM) == PLAIN


async def test_linking_needs_the_code_from_the_other_app_and_a_confirmation(bot: Bot) -> None:
    casey = Speaker("slack:U1", "Casey", private=True)
    await bot.starts("slack:D1", casey)
    await bot.starts("telegram:42", ANA_DM)
    code = await bot.service.new_link_code(casey)
    assert code is not None and code_in(f"link {code.lower()}") == code
    offer = await bot.service.link_offer(ANA_DM, code)
    assert (offer.status, offer.channel, offer.name) == ("ok", "slack", "Casey")
    assert (await bot.service.link_offer(ANA_IN_GROUP, code)).status == "invalid"
    linked = await bot.service.link(ANA_DM, code)
    assert linked is not None and {i.id for i in linked.identities} == {"slack:U1", "telegram:42"}
    assert (await bot.service.link_offer(ANA_DM, code)).status == "invalid"  # used up
    again = await bot.service.new_link_code(ANA_DM)
    assert again is not None and (await bot.service.link_offer(casey, again)).status == "already"


async def test_unlinking_works_only_from_a_private_chat_of_a_linked_customer(bot: Bot) -> None:
    casey = Speaker("slack:U1", "Casey", private=True)
    await bot.starts("slack:D1", casey)
    await bot.starts("telegram:42", ANA_DM)
    assert await bot.service.unlink(ANA_DM) == []  # not linked yet
    code = await bot.service.new_link_code(casey)
    assert code is not None and await bot.service.link(ANA_DM, code) is not None
    assert await bot.service.unlink(ANA_IN_GROUP) == []  # never from a group
    assert len((await bot.service.profile(ANA_DM)).identities) == 2  # type: ignore[union-attr]
    assert await bot.service.unlink(ANA_DM) == ["slack"]
    assert [i.id for i in (await bot.service.profile(ANA_DM)).identities] == ["telegram:42"]  # type: ignore[union-attr]
    assert [i.id for i in (await bot.service.profile(casey)).identities] == ["slack:U1"]  # type: ignore[union-attr]
    assert await bot.service.unlink(casey) == []


async def test_a_link_code_expires(bot: Bot) -> None:
    casey = Speaker("slack:U1", "Casey", private=True)
    await bot.starts("slack:D1", casey)
    code = await bot.service.new_link_code(casey)
    assert code is not None
    bot.clock.now += timedelta(minutes=11)
    assert (await bot.service.link_offer(ANA_DM, code)).status == "invalid"
    assert await bot.service.link(ANA_DM, code) is None


def test_link_codes_are_hard_to_guess_and_found_in_what_was_written() -> None:
    codes = {new_link_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c) == 8 for c in codes)
    assert code_in("link K7P2-Q9XM please") == "K7P2Q9XM"
    assert code_in("link telegram") is None  # a word is not a code
    assert code_in("link 48291337") is None  # nor a number
    assert code_in("link my accounts") is None


# -- the session start ------------------------------------------------------------------------


def test_the_session_start_carries_slots_over_but_not_the_last_greeting() -> None:
    previous: list[dict[str, Any]] = [
        {"event": "slot", "name": "faq_id", "value": "old"},
        {"event": "session_started"},
        {"event": "slot", "name": "faq_id", "value": "pay_bill"},
        {"event": "slot", "name": "csat_score", "value": 5, "metadata": {"resolved_by": "bot"}},
        {"event": "slot", "name": "profile_name", "value": "Ana"},
        {"event": "user", "text": "hi"},
    ]
    events = session_start_events(previous, True, Greeting("name", "Ana"))
    assert events[0] == {"event": "session_started"}
    assert events[1:3] == [
        {"event": "slot", "name": "faq_id", "value": "pay_bill"},
        {"event": "slot", "name": "csat_score", "value": 5, "metadata": {"resolved_by": "bot"}},
    ]
    greeting = {e["name"]: e["value"] for e in events[3:-1]}
    assert greeting == {
        "profile_greeting": "name",
        "profile_name": "Ana",
        "profile_topic": None,
        "profile_ticket": None,
    }
    assert events[-1] == {"event": "action", "name": "action_listen"}
    assert session_start_events(previous, False, PLAIN)[1]["name"] == "profile_greeting"


def test_only_a_session_the_customer_starts_is_their_conversation() -> None:
    said: dict[str, Any] = {"telegram": {"user": {"id": 42}}}
    assert starting_metadata(said, []) == said  # Rasa passes the message's metadata
    restarted: list[dict[str, Any]] = [
        {"event": "user", "text": "/restart", "metadata": said},
        {"event": "restart"},
    ]
    assert starting_metadata(None, restarted) == said  # Rasa starts it itself after /restart
    triggered: list[dict[str, Any]] = [
        {"event": "user", "text": "hi", "metadata": said},
        {"event": "action"},
    ]
    assert starting_metadata(None, triggered) is None  # a reminder or an agent's message
    assert starting_metadata({}, []) is None

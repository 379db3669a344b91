"""The KPIs of docs/analytics.md over conversations whose numbers are known by construction."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.analytics.events import from_rasa_dict
from bot.analytics.outcomes import HOUR, KpiSettings
from bot.analytics.reporting import build_report
from bot.analytics.source import MemoryEventSource
from bot.analytics.synthetic import ALICE, ConversationBuilder, generate

MONDAY = datetime(2026, 11, 2, tzinfo=timezone.utc).timestamp()
DAY = 24 * HOUR
LATER = MONDAY + 60 * DAY  # every window has elapsed
SETTINGS = KpiSettings(as_of=LATER)


def memory(*conversations: tuple[str, list[dict[str, Any]]]) -> MemoryEventSource:
    return MemoryEventSource(from_rasa_dict(s, e) for s, events in conversations for e in events)


def twenty() -> MemoryEventSource:
    """Two cycles of the ten generated kinds, one conversation every ten minutes."""
    return memory(*generate(20, MONDAY, step=600.0))


async def report(source: MemoryEventSource, **kwargs: Any) -> dict[str, Any]:
    settings = kwargs.pop("settings", SETTINGS)
    return (await build_report(source, settings=settings, **kwargs)).result


async def test_counts_conversations_and_messages_per_channel_and_topic() -> None:
    result = await report(twenty())

    assert result["counts"]["conversations"] == 20
    assert result["counts"]["user_turns"] == 34
    assert result["by_channel"] == {
        "rest": {"conversations": 6, "messages": 10},
        "slack": {"conversations": 8, "messages": 14},
        "telegram": {"conversations": 6, "messages": 10},
    }
    assert {k: v["conversations"] for k, v in result["by_topic"].items()} == {
        "account": 2,
        "billing": 6,
        "other": 4,
        "outages": 2,
        "plans": 2,
        "technical": 4,
    }
    # messages are counted under their own topic: "yes thanks", "no" ... are `other`
    assert result["by_topic"]["other"]["messages"] == 18


async def test_rates_follow_their_definitions() -> None:
    rates = (await report(twenty()))["rates"]

    assert rates["containment"] == 12 / 20
    assert rates["escalation"] == 8 / 20
    assert rates["fallback"] == 6 / 34
    assert rates["resolution_confirmed"] == 8 / 20  # confirmed slot or any CSAT
    assert rates["resolution_assumed"] == 6 / 20  # quiet for 24 h, no escalation
    assert rates["reopen"] == 2 / 16  # the kind-0 customers came back within 72 h


async def test_csat_by_resolver_channel_and_topic() -> None:
    csat = (await report(twenty()))["csat"]

    assert csat["overall"]["all"]["average"] == (5 + 4 + 2) * 2 / 6
    assert csat["overall"]["all"]["distribution"] == {"1": 0, "2": 2, "3": 0, "4": 2, "5": 2}
    assert csat["resolved_by"]["bot"]["average"] == 3.5
    assert csat["resolved_by"]["agent"] == {
        "count": 2,
        "average": 4.0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 0},
    }
    assert csat["channel"]["slack"]["average"] == 5.0
    assert csat["topic"]["plans"]["average"] == 2.0


async def test_handoff_times_and_tickets_never_claimed() -> None:
    handoff = (await report(twenty()))["handoff"]

    assert handoff["tickets"] == 8
    assert handoff["never_claimed"] == 4
    assert handoff["never_claimed_by_state"] == {"abandoned": 2, "expired": 2}
    assert handoff["time_to_claim"] == {"count": 4, "mean": 210.0, "median": 210.0, "p90": 300.0}
    assert handoff["time_to_first_agent_reply"]["mean"] == 235.0
    assert handoff["handling_time"] == {"count": 4, "mean": 690.0, "median": 690.0, "p90": 900.0}


async def test_funnel_from_bot_to_human() -> None:
    funnel = (await report(twenty()))["funnel"]

    assert funnel == [
        ["conversations", 20],
        ["with_fallback", 4],
        ["escalated", 8],
        ["claimed", 4],
        ["resolved_by_agent", 4],
    ]


async def test_an_empty_period_has_no_rates_instead_of_zeros() -> None:
    result = await report(twenty(), since=MONDAY + 10 * DAY, until=MONDAY + 11 * DAY)

    assert result["counts"]["conversations"] == 0
    assert set(result["rates"].values()) == {None}
    assert result["daily"] == {
        "2026-11-12": {"conversations": 0, "escalated": 0, "escalation_rate": None}
    }
    assert result["handoff"]["time_to_claim"]["mean"] is None


async def test_a_conversation_spanning_midnight_counts_on_the_day_it_started() -> None:
    late = ConversationBuilder("telegram:night", "telegram", MONDAY + DAY - 120).session()
    late.user("my bill is wrong", topic="billing", sentiment=-0.5)
    late.user("still waiting", topic="billing", sentiment=-1.0, after=300.0)  # Tuesday
    source = memory((late.sender_id, late.events))

    monday = await report(source, since=MONDAY, until=MONDAY + DAY)
    tuesday = await report(source, since=MONDAY + DAY, until=MONDAY + 2 * DAY)

    assert monday["counts"]["conversations"] == 1
    assert monday["counts"]["user_turns"] == 2  # both messages, though one is on Tuesday
    assert tuesday["counts"]["conversations"] == 0
    days = monday["sentiment"]["topic/day"]["billing"]
    assert days == {
        "2026-11-02": {"count": 1, "mean": -0.5},
        "2026-11-03": {"count": 1, "mean": -1.0},
    }


async def test_the_tail_of_a_conversation_started_before_the_period_is_not_counted() -> None:
    late = ConversationBuilder("slack:C9:1", "slack", MONDAY + DAY - 60).session()
    late.user("hello", intent="greet")
    late.user("anyone?", intent="greet", after=120.0)
    source = memory((late.sender_id, late.events))

    result = await report(source, since=MONDAY + DAY)

    assert result["counts"]["conversations"] == 0


async def test_a_handoff_never_claimed_is_escalated_but_not_resolved() -> None:
    b = ConversationBuilder("web-q", "rest", MONDAY).session()
    b.user("i want a person", intent="human_handoff")
    b.escalate("T1", "requested")
    source = memory((b.sender_id, b.events))

    result = await report(source)

    assert result["counts"]["escalated"] == 1
    assert result["counts"]["resolved"] == 0
    assert result["handoff"]["never_claimed_by_state"] == {"queued": 1}
    assert result["handoff"]["time_to_claim"]["count"] == 0


async def test_csat_without_resolver_metadata_goes_to_the_agent_after_a_handoff() -> None:
    b = ConversationBuilder("web-c", "rest", MONDAY).session()
    b.user("my router is broken", topic="technical")
    b.escalate("T2", "requested")
    b.claim("T2", ALICE, after=60.0)
    b.resolve("T2", ALICE, after=60.0)
    b.slot("csat_score", 3)
    bot_only = ConversationBuilder("web-d", "rest", MONDAY + 60).session()
    bot_only.user("thanks", intent="thank")
    bot_only.slot("csat_score", 5)
    source = memory((b.sender_id, b.events), (bot_only.sender_id, bot_only.events))

    csat = (await report(source))["csat"]["resolved_by"]

    assert csat["agent"]["average"] == 3.0
    assert csat["bot"]["average"] == 5.0


async def test_assumed_resolution_waits_for_its_window_and_a_follow_up_cancels_it() -> None:
    first = ConversationBuilder("telegram:7", "telegram", MONDAY).session()
    first.user("what are your opening hours", topic="account")
    again = ConversationBuilder("telegram:7", "telegram", MONDAY + 3 * HOUR).session()
    again.user("that did not help", topic="account")
    source = memory((first.sender_id, first.events + again.events))

    soon = await report(source, settings=KpiSettings(as_of=MONDAY + 4 * HOUR))
    later = await report(source)

    # the first was followed within the window; the second's window is still running
    assert soon["counts"]["pending"] == 1 and soon["counts"]["assumed"] == 0
    # the first conversation was followed within 24 h; only the second is assumed resolved
    assert later["counts"]["assumed"] == 1
    assert later["counts"]["reopened"] == 0


async def test_conversations_without_a_customer_message_are_not_conversations() -> None:
    empty = ConversationBuilder("slack:C1:0", "slack", MONDAY).session()
    source = memory((empty.sender_id, empty.events))

    assert (await report(source))["counts"]["conversations"] == 0


async def test_sentiment_shift_before_and_after_a_change_date() -> None:
    settings = KpiSettings(as_of=LATER, change_date=MONDAY + 100 * 60)  # 10 conversations each side

    shift = (await report(twenty(), settings=settings))["sentiment_shift"]

    # both cycles carry the same sentiments: the change date changes nothing
    assert shift["channel"]["slack"]["delta"] == 0.0
    assert shift["topic"]["technical"]["before"] == {"count": 2, "mean": -0.25}
    assert shift["topic"]["technical"]["after"] == {"count": 2, "mean": -0.25}

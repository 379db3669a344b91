"""The behaviour every ``TicketStore`` backend promises, as one test class.

``tests/test_handoff_queue.py`` runs it against SQLite and PostgreSQL through its ``store``,
``make_store`` (another store on the same database, like a second bot process) and ``clock``
fixtures. The clock starts on Monday 2 March 2026, 10:00 UTC and only moves when told.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.handoff.store import TicketStore
from bot.handoff.tickets import (
    AuditEvent,
    EscalationReason,
    HandoffError,
    InvalidTransition,
    NewTicket,
    NotClaimed,
    NotOpen,
    Ticket,
    TicketNotFound,
    TicketState,
    Turn,
)

_conversations = itertools.count(1)


@dataclass
class Clock:
    """A settable clock for the stores."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def escalation(conversation_id: str | None = None, **fields: Any) -> NewTicket:
    """A plain escalation (no urgency, neutral, standard tier) unless ``fields`` say otherwise."""
    conversation_id = conversation_id or f"telegram:{next(_conversations)}"
    fields.setdefault("reason", EscalationReason.REQUESTED)
    fields.setdefault("channel", conversation_id.split(":")[0])
    return NewTicket(conversation_id=conversation_id, **fields)


async def opened(store: TicketStore, **fields: Any) -> Ticket:
    return (await store.open(escalation(**fields))).ticket


async def state_of(store: TicketStore, ticket: Ticket) -> TicketState | None:
    stored = await store.get(ticket.id)
    return None if stored is None else stored.state


class TicketStoreContract:
    async def test_an_escalation_opens_a_queued_ticket_with_what_the_agent_needs(
        self, store: TicketStore, clock: Clock
    ) -> None:
        turns = (
            Turn("customer", "my internet is down again", clock.now),
            Turn("bot", "Sorry to hear that. Let me get a person.", clock.now),
        )
        result = await store.open(
            NewTicket(
                conversation_id="slack:C123:1700.1",
                channel="slack",
                reason=EscalationReason.NEGATIVE_SENTIMENT,
                customer_name="Ann Smith",
                topic="outages",
                summary="Internet down since this morning, third time this week",
                last_turns=turns,
                sentiment=-0.6,
                urgency=0.8,
                tier="gold",
            )
        )
        ticket = result.ticket
        assert result.created
        assert await store.get(ticket.id) == ticket
        assert (ticket.state, ticket.created_at, ticket.claimed_by) == (
            TicketState.QUEUED,
            clock.now,
            None,
        )
        assert (ticket.customer_name, ticket.topic, ticket.tier) == ("Ann Smith", "outages", "gold")
        assert ticket.last_turns == turns
        assert ticket.priority == pytest.approx(40 * 0.8 + 30 * 0.6 + 20)

    async def test_a_conversation_has_at_most_one_open_ticket(self, store: TicketStore) -> None:
        first = await store.open(escalation("telegram:42"))
        again = await store.open(escalation("telegram:42", reason=EscalationReason.LOW_CONFIDENCE))
        assert (again.created, again.ticket) == (False, first.ticket)
        assert await store.find_open("telegram:42") == first.ticket

        await store.claim(first.ticket.id, "ann")
        await store.resolve(first.ticket.id, "ann")
        assert await store.find_open("telegram:42") is None
        later = await store.open(escalation("telegram:42"))
        assert later.created and later.ticket.id != first.ticket.id

    async def test_simultaneous_escalations_of_one_conversation_open_one_ticket(
        self, make_store: Callable[[], TicketStore]
    ) -> None:
        stores = [make_store() for _ in range(4)]
        results = await asyncio.gather(
            *(stores[i % 4].open(escalation("slack:C9:1.1")) for i in range(10))
        )
        assert sum(result.created for result in results) == 1
        assert len({result.ticket.id for result in results}) == 1

    async def test_a_claim_tells_the_late_agent_who_owns_the_ticket(
        self, store: TicketStore
    ) -> None:
        ticket = await opened(store)
        first = await store.claim(ticket.id, "ann")
        second = await store.claim(ticket.id, "bob")
        assert (first.won, first.owner) == (True, "ann")
        assert (second.won, second.owner) == (False, "ann")
        assert second.message == f"Ticket {ticket.id} is already claimed by ann."

    async def test_twenty_agents_claiming_at_once_leave_exactly_one_owner(
        self, store: TicketStore, make_store: Callable[[], TicketStore]
    ) -> None:
        ticket = await opened(store)
        stores = [make_store() for _ in range(4)]
        results = await asyncio.gather(
            *(stores[i % 4].claim(ticket.id, f"agent-{i}") for i in range(20))
        )
        winners = [result for result in results if result.won]
        assert len(winners) == 1
        assert {result.owner for result in results} == {winners[0].owner}
        assert [event.event for event in await store.history(ticket.id)] == ["queued", "claimed"]

    async def test_agents_pulling_from_the_queue_together_get_each_ticket_once(
        self, store: TicketStore, make_store: Callable[[], TicketStore]
    ) -> None:
        tickets = [await opened(store, urgency=i / 10) for i in range(10)]

        async def pull(agent: str, agent_store: TicketStore) -> list[int]:
            claimed = []
            while (ticket := await agent_store.claim_next(agent)) is not None:
                assert ticket.claimed_by == agent
                claimed.append(ticket.id)
            return claimed

        pulled = await asyncio.gather(*(pull(f"agent-{i}", make_store()) for i in range(5)))
        assert sorted(itertools.chain(*pulled)) == sorted(ticket.id for ticket in tickets)
        for ticket in tickets:
            assert [e.event for e in await store.history(ticket.id)] == ["queued", "claimed"]

    async def test_the_most_pressing_ticket_is_first_in_the_queue(self, store: TicketStore) -> None:
        calm = await opened(store, urgency=0.1)  # 4
        furious = await opened(store, sentiment=-0.9, urgency=0.9)  # 36 + 27
        gold = await opened(store, tier="gold")  # 20
        assert [await store.position(t.id) for t in (calm, furious, gold)] == [3, 1, 2]

        claimed = await store.claim_next("ann")
        assert claimed is not None and claimed.id == furious.id
        assert [await store.position(t.id) for t in (calm, furious, gold)] == [2, None, 1]

    async def test_waiting_moves_a_ticket_ahead_of_later_more_pressing_ones(
        self, store: TicketStore, clock: Clock
    ) -> None:
        early = await opened(store)  # priority 0, gains 1 per minute waited
        clock.advance(minutes=5)
        gold_soon_after = await opened(store, tier="gold")  # 20 ahead, 5 minutes behind
        clock.advance(minutes=25)
        gold_much_later = await opened(store, tier="gold")  # 20 ahead, 30 minutes behind
        queue = [await store.position(t.id) for t in (early, gold_soon_after, gold_much_later)]
        assert queue == [2, 1, 3]
        assert [t.id for t in await store.list(states=[TicketState.QUEUED])] == [
            gold_soon_after.id,
            early.id,
            gold_much_later.id,
        ]

    async def test_changes_a_state_does_not_allow_are_refused_and_leave_no_trace(
        self, store: TicketStore
    ) -> None:
        ticket = await opened(store)
        with pytest.raises(
            InvalidTransition, match=rf"ticket {ticket.id} is queued; it cannot become resolved"
        ):
            await store.resolve(ticket.id, "ann")
        await store.claim(ticket.id, "ann")
        with pytest.raises(InvalidTransition, match="is claimed; it cannot become abandoned"):
            await store.abandon(ticket.id)
        await store.resolve(ticket.id, "ann")
        with pytest.raises(InvalidTransition, match=re.escape("(resolved is final)")):
            await store.resolve(ticket.id, "ann")
        late = await store.claim(ticket.id, "bob")
        assert not late.won
        assert late.message == f"Ticket {ticket.id} is resolved; there is nothing to claim."
        assert [e.event for e in await store.history(ticket.id)] == [
            "queued",
            "claimed",
            "resolved",
        ]

    async def test_unknown_tickets_are_reported_as_such(self, store: TicketStore) -> None:
        assert await store.get(999) is None
        assert await store.position(999) is None
        assert await store.history(999) == []
        for change in (
            store.claim(999, "ann"),
            store.resolve(999, "ann"),
            store.abandon(999),
            store.record_agent_reply(999, "ann"),
            store.set_ping_ref(999, "slack:C1:1.1"),
        ):
            with pytest.raises(TicketNotFound, match="there is no ticket 999"):
                await change

    async def test_every_change_is_kept_in_the_audit_trail(
        self, store: TicketStore, clock: Clock
    ) -> None:
        start = clock.now
        ticket = await opened(store, reason=EscalationReason.NEGATIVE_SENTIMENT)
        clock.advance(minutes=3)
        await store.claim(ticket.id, "ann")
        clock.advance(minutes=1)
        await store.record_agent_reply(ticket.id, "ann")
        clock.advance(minutes=1)
        await store.record_agent_reply(ticket.id, "ann")  # later replies change nothing
        clock.advance(minutes=4)
        resolved = await store.resolve(ticket.id, "ann", "router replaced")

        assert await store.history(ticket.id) == [
            AuditEvent(start, "queued", "bot", "negative_sentiment"),
            AuditEvent(start + timedelta(minutes=3), "claimed", "ann"),
            AuditEvent(start + timedelta(minutes=4), "agent_replied", "ann"),
            AuditEvent(start + timedelta(minutes=9), "resolved", "ann", "router replaced"),
        ]
        assert (resolved.claimed_at, resolved.first_agent_reply_at, resolved.resolved_at) == (
            start + timedelta(minutes=3),
            start + timedelta(minutes=4),
            start + timedelta(minutes=9),
        )

    async def test_agent_replies_need_a_claimed_ticket(self, store: TicketStore) -> None:
        ticket = await opened(store)
        with pytest.raises(NotClaimed, match="only a claimed ticket records agent replies"):
            await store.record_agent_reply(ticket.id, "ann")

    async def test_a_customer_who_leaves_abandons_their_queued_ticket(
        self, store: TicketStore
    ) -> None:
        ticket = await opened(store, conversation_id="telegram:7")
        abandoned = await store.abandon(ticket.id, "customer", "said bye")
        assert abandoned.state is TicketState.ABANDONED
        assert (await store.history(ticket.id))[-1].event == "abandoned"
        assert await store.find_open("telegram:7") is None
        assert await store.position(ticket.id) is None

    async def test_tickets_nobody_claimed_in_time_expire(
        self, store: TicketStore, clock: Clock
    ) -> None:
        old = await opened(store)
        taken = await opened(store)
        await store.claim(taken.id, "ann")
        clock.advance(minutes=8)
        recent = await opened(store)
        clock.advance(minutes=3)

        expired = await store.expire_unclaimed(timedelta(minutes=10))
        assert [ticket.id for ticket in expired] == [old.id]
        assert [await state_of(store, t) for t in (old, taken, recent)] == [
            TicketState.EXPIRED,
            TicketState.CLAIMED,
            TicketState.QUEUED,
        ]
        last = (await store.history(old.id))[-1]
        assert (last.event, last.actor) == ("expired", "system")

    async def test_one_ticket_expires_with_the_reason_in_its_trail(
        self, store: TicketStore
    ) -> None:
        queued, taken = await opened(store), await opened(store)
        await store.claim(taken.id, "ann")
        expired = await store.expire(queued.id, "no agent claimed it within 30 min")
        assert expired.state is TicketState.EXPIRED
        last = (await store.history(queued.id))[-1]
        assert (last.event, last.actor, last.detail) == (
            "expired",
            "system",
            "no agent claimed it within 30 min",
        )
        with pytest.raises(InvalidTransition):
            await store.expire(taken.id)  # an agent has it
        with pytest.raises(InvalidTransition):
            await store.expire(queued.id)  # expired is final

    async def test_a_customers_tickets_in_any_state_are_found_for_forget_me(
        self, store: TicketStore
    ) -> None:
        first = await opened(store, conversation_id="telegram:5")
        await store.abandon(first.id, "customer", "cancelled by customer")
        second = await opened(store, conversation_id="telegram:5")
        await opened(store, conversation_id="telegram:6")
        found = await store.tickets_of(["telegram:5", "slack:D1"])
        assert [t.id for t in found] == [first.id, second.id]
        assert [t.state for t in found] == [TicketState.ABANDONED, TicketState.QUEUED]
        assert await store.tickets_of([]) == []

    async def test_retention_prunes_closed_tickets_opened_before_the_cutoff(
        self, store: TicketStore, clock: Clock
    ) -> None:
        old_closed, old_open = await opened(store), await opened(store)
        await store.abandon(old_closed.id, "customer", "cancelled by customer")
        clock.advance(minutes=60)
        cutoff = clock.now
        recent = await opened(store)
        await store.abandon(recent.id, "customer")
        assert await store.prune_before(cutoff) == 1
        assert await store.get(old_closed.id) is None
        assert await store.history(old_closed.id) == []
        assert await store.get(old_open.id) is not None  # still waiting for an agent
        assert await store.get(recent.id) is not None

    async def test_notes_go_into_an_open_tickets_trail_only(self, store: TicketStore) -> None:
        ticket = await opened(store)
        noted = await store.note(ticket.id, "callback_requested", "customer")
        assert noted.state is TicketState.QUEUED
        last = (await store.history(ticket.id))[-1]
        assert (last.event, last.actor) == ("callback_requested", "customer")
        await store.abandon(ticket.id, "customer", "cancelled by customer")
        with pytest.raises(NotOpen, match="only an open ticket takes notes"):
            await store.note(ticket.id, "callback_requested", "customer")
        with pytest.raises(TicketNotFound):
            await store.note(999, "callback_requested", "customer")

    async def test_handling_times_are_claim_to_resolve_newest_first(
        self, store: TicketStore, clock: Clock
    ) -> None:
        for minutes in (12, 7):
            ticket = await opened(store)
            await store.claim(ticket.id, "ann")
            clock.advance(minutes=minutes)
            await store.resolve(ticket.id, "ann")
        assert await store.recent_handling_times() == [timedelta(minutes=7), timedelta(minutes=12)]
        assert await store.recent_handling_times(limit=1) == [timedelta(minutes=7)]

    async def test_the_wait_estimate_follows_recent_real_waits(
        self, store: TicketStore, clock: Clock
    ) -> None:
        waiting = await opened(store)
        assert await store.estimated_wait(waiting.id) is None  # no history: nothing honest to say

        for minutes in (4, 6):  # two customers served after 4 and 6 minutes: median 5
            served = await opened(store, tier="gold")
            clock.advance(minutes=minutes)
            await store.claim(served.id, "ann")
        behind = await opened(store)
        assert await store.recent_waits() == [timedelta(minutes=6), timedelta(minutes=4)]
        assert await store.estimated_wait(waiting.id) == timedelta(minutes=5)
        assert await store.estimated_wait(behind.id) == timedelta(minutes=10)  # second in line

        slow = await opened(store, tier="gold")
        clock.advance(minutes=20)
        await store.claim(slow.id, "bob")  # waits now 4, 6, 20: median 6
        assert await store.estimated_wait(waiting.id) == timedelta(minutes=6)

        await store.claim(waiting.id, "ann")
        assert await store.estimated_wait(waiting.id) is None  # no longer waiting

    async def test_an_agent_reply_in_the_ping_thread_leads_back_to_the_ticket(
        self, store: TicketStore
    ) -> None:
        ticket = await opened(store)
        await store.set_ping_ref(ticket.id, "slack:C0AGENTS:1700000000.000100")
        found = await store.find_by_ping_ref("slack:C0AGENTS:1700000000.000100")
        assert found is not None and found.id == ticket.id
        assert found.ping_ref == "slack:C0AGENTS:1700000000.000100"
        assert await store.find_by_ping_ref("slack:C0AGENTS:1.1") is None

        other = await opened(store)
        with pytest.raises(HandoffError, match="already belongs to another ticket"):
            await store.set_ping_ref(other.id, "slack:C0AGENTS:1700000000.000100")

    async def test_deleting_a_customer_removes_their_tickets_and_audit_trails(
        self, store: TicketStore
    ) -> None:
        old = await opened(store, conversation_id="telegram:100")
        await store.claim(old.id, "ann")
        await store.resolve(old.id, "ann")
        current = await opened(store, conversation_id="telegram:100")
        kept = await opened(store, conversation_id="telegram:200")

        assert await store.delete_customer(["telegram:100", "telegram:300"]) == 2
        assert [await store.get(t.id) for t in (old, current)] == [None, None]
        assert [await store.history(t.id) for t in (old, current)] == [[], []]
        assert await store.get(kept.id) == kept
        assert len(await store.history(kept.id)) == 1
        assert await store.delete_customer([]) == 0

    async def test_listing_shows_the_queue_in_order_then_the_rest_newest_first(
        self, store: TicketStore, clock: Clock
    ) -> None:
        low = await opened(store)
        clock.advance(minutes=1)
        high = await opened(store, urgency=1.0)
        clock.advance(minutes=1)
        claimed = await opened(store)
        await store.claim(claimed.id, "ann")
        clock.advance(minutes=1)
        done = await opened(store)
        await store.claim(done.id, "ann")
        await store.resolve(done.id, "ann")

        assert [t.id for t in await store.list()] == [high.id, low.id, done.id, claimed.id]
        assert [t.id for t in await store.list(states=[TicketState.CLAIMED])] == [claimed.id]
        assert [t.id for t in await store.list(limit=1)] == [high.id]

    async def test_tickets_outlive_the_store_that_wrote_them(
        self, store: TicketStore, make_store: Callable[[], TicketStore]
    ) -> None:
        ticket = await opened(store, summary="Wants to cancel")
        await store.close()
        assert await make_store().get(ticket.id) == ticket

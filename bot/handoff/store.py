"""The handoff queue's storage seam: the ``TicketStore`` protocol and picking a backend."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.database import database_url, sqlite_path
from bot.handoff.config import HandoffConfig, load_handoff_config
from bot.handoff.postgres_store import PostgresTicketStore
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.tickets import (
    AuditEvent,
    ClaimResult,
    NewTicket,
    OpenResult,
    Ticket,
    TicketState,
)


class TicketStore(Protocol):
    """Persistent handoff tickets; every state change is atomic and leaves an audit event.

    Changes a ticket's state does not allow raise ``InvalidTransition``; unknown ids raise
    ``TicketNotFound`` (reads return None instead).
    """

    async def open(self, ticket: NewTicket) -> OpenResult:
        """Queues ``ticket``, or returns the conversation's open ticket if it has one."""
        ...

    async def get(self, ticket_id: int) -> Ticket | None:
        """The ticket, or None."""
        ...

    async def history(self, ticket_id: int) -> Sequence[AuditEvent]:
        """The ticket's audit trail, oldest first."""
        ...

    async def find_open(self, conversation_id: str) -> Ticket | None:
        """The conversation's queued or claimed ticket, if any."""
        ...

    async def list(
        self, states: Collection[TicketState] | None = None, limit: int = 50
    ) -> Sequence[Ticket]:
        """Tickets in ``states`` (default all): queued ones in queue order, then newest first."""
        ...

    async def claim(self, ticket_id: int, agent: str) -> ClaimResult:
        """Gives a queued ticket to ``agent``; of simultaneous claims exactly one wins."""
        ...

    async def claim_next(self, agent: str) -> Ticket | None:
        """Claims the highest-priority queued ticket for ``agent`` (None if the queue is empty)."""
        ...

    async def record_agent_reply(self, ticket_id: int, agent: str) -> Ticket:
        """Notes an agent's reply on a claimed ticket (the first one sets first_agent_reply_at)."""
        ...

    async def resolve(self, ticket_id: int, agent: str, detail: str = "") -> Ticket:
        """Closes a claimed ticket."""
        ...

    async def abandon(self, ticket_id: int, actor: str = "customer", detail: str = "") -> Ticket:
        """Closes a queued ticket whose customer left."""
        ...

    async def expire_unclaimed(self, older_than: timedelta) -> Sequence[Ticket]:
        """Expires tickets queued for longer than ``older_than``; returns them."""
        ...

    async def expire(self, ticket_id: int, detail: str = "") -> Ticket:
        """Expires one queued ticket (actor ``system``)."""
        ...

    async def note(self, ticket_id: int, event: str, actor: str, detail: str = "") -> Ticket:
        """Adds ``event`` (e.g. ``callback_requested``) to an open ticket's audit trail;
        raises ``NotOpen`` for a closed one."""
        ...

    async def position(self, ticket_id: int) -> int | None:
        """The ticket's 1-based place in the queue (None when it is not queued)."""
        ...

    async def recent_waits(self, limit: int = 20) -> Sequence[timedelta]:
        """Opening-to-claim times of the most recently claimed tickets, newest first."""
        ...

    async def recent_handling_times(self, limit: int = 20) -> Sequence[timedelta]:
        """Claim-to-resolve times of the most recently resolved tickets, newest first."""
        ...

    async def estimated_wait(self, ticket_id: int) -> timedelta | None:
        """``waits.estimate_wait`` for the ticket; None without history or when not queued."""
        ...

    async def set_ping_ref(self, ticket_id: int, ref: str) -> None:
        """Remembers the agents' ping message for the ticket (e.g. Slack channel + ts)."""
        ...

    async def find_by_ping_ref(self, ref: str) -> Ticket | None:
        """The ticket whose ping message is ``ref``."""
        ...

    async def tickets_of(self, conversation_ids: Collection[str]) -> Sequence[Ticket]:
        """Every ticket (any state) of these conversations, oldest first."""
        ...

    async def prune_before(self, cutoff: datetime) -> int:
        """Deletes closed tickets (and their audit trails) opened before ``cutoff``
        (``bot retention``); open ones stay. Returns how many tickets."""
        ...

    async def delete_customer(self, conversation_ids: Collection[str]) -> int:
        """Deletes these conversations' tickets and audit trails; returns how many tickets."""
        ...

    async def close(self) -> None:
        """Releases connections."""
        ...


def ticket_store_from_env(
    env: Mapping[str, str] = os.environ, config: HandoffConfig | None = None
) -> TicketStore:
    """PostgreSQL when ``BOT_DATABASE_URL`` is a postgresql:// URL, else the SQLite file.

    ``config`` defaults to data/handoff.yml (for the priority weights).
    """
    weights = (config or load_handoff_config()).priority
    url = database_url(env)
    if url:
        return PostgresTicketStore(url, weights=weights)
    return SqliteTicketStore(sqlite_path(env), weights=weights)

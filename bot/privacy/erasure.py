"""Forgetting a customer: their profile, the transcripts of all their conversations and
every other store holding data per conversation (the handoff queue, follow-up check-ins,
undeliverable messages).

Each such store is a :class:`ConversationData`; :func:`conversation_stores` lists them, so a
new store with per-customer data is added there. The profile goes last: if a store fails,
the customer can ask again and every conversation is still found.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.privacy.transcripts import Transcripts, TranscriptsUnreachable
from bot.profiles.store import ProfileStore

logger = logging.getLogger(__name__)


class ConversationData(Protocol):
    """A store holding data per conversation id."""

    async def delete_conversations(self, conversation_ids: Collection[str]) -> int:
        """Deletes what it holds about these conversations; returns how many records."""
        ...


class CustomerRecords(Protocol):
    """A store with its own privacy deletion (``TicketStore``, ``CheckinStore``)."""

    async def delete_customer(self, conversation_ids: Collection[str]) -> int: ...


class ByConversation:
    """A :class:`CustomerRecords` store as :class:`ConversationData`."""

    def __init__(self, store: CustomerRecords) -> None:
        self._store = store

    async def delete_conversations(self, conversation_ids: Collection[str]) -> int:
        return await self._store.delete_customer(conversation_ids)


@dataclass(frozen=True)
class Erased:
    """What forgetting deleted: the person's identities, their conversations, and the number
    of records per store (``transcripts`` without the running conversation, purged later)."""

    identities: tuple[str, ...]
    conversations: tuple[str, ...]
    records: Mapping[str, int]


class Eraser:
    """Deletes everything about one person."""

    def __init__(
        self,
        profiles: ProfileStore,
        transcripts: Transcripts,
        stores: Mapping[str, ConversationData],
    ) -> None:
        self._profiles, self._transcripts, self._stores = profiles, transcripts, stores

    async def conversations_of(self, identity: str) -> set[str]:
        """Every conversation of the person: those their profile recorded, and those the
        transcripts show any of their identities in (also before the profile existed)."""
        profile = await self._profiles.get(identity)
        identities = [i.id for i in profile.identities] if profile else [identity]
        found = set(await self._profiles.conversations(identity))
        for each in identities:
            found |= await self._transcripts.conversations_of(each)
        return found

    async def erase(self, identity: str, running: str | None = None) -> Erased:
        """Deletes the person's data in every store; the transcript of the ``running``
        conversation is left for :meth:`Transcripts.purge_marked` after the turn."""
        if running and not await self._transcripts.holds(running):
            # checked before anything is deleted: a retry finds everything again
            raise TranscriptsUnreachable(
                "the tracker store holds no event of the running conversation; check"
                " BOT_TRACKER_STORE_URL of the action server"
            )
        conversations = await self.conversations_of(identity) | ({running} if running else set())
        records = {
            name: await store.delete_conversations(conversations)
            for name, store in self._stores.items()
        }
        records["transcripts"] = await self._transcripts.delete_conversations(
            conversations - {running}
        )
        identities = tuple(await self._profiles.delete_person(identity))
        records["profile identities"] = len(identities)
        logger.info(
            "forgot a customer: %d conversations, %s",
            len(conversations),
            ", ".join(f"{n} {name}" for name, n in records.items()),
        )
        return Erased(identities, tuple(sorted(conversations)), records)

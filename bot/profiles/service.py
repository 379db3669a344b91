"""The profile service the actions call: recognise a customer at the start of a
conversation, remember what they asked about, their personalisation choice, and linking
their identities on several channels after they confirm it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Protocol

from bot.faq.knowledge_base import FaqEntry, KnowledgeBase
from bot.handoff.tickets import Ticket
from bot.privacy.log_redaction import KnownNames, known_names
from bot.profiles.greeting import PLAIN, Greeting, greeting_for
from bot.profiles.link_codes import LINK_CODE_TTL, LinkOffer, new_link_code
from bot.profiles.model import Level, Profile, Visit, channel_of
from bot.profiles.speaker import Speaker, speaker_of
from bot.profiles.store import ProfileStore

logger = logging.getLogger(__name__)

#: How many of a person's latest conversations are checked for an open support request.
RECENT_CONVERSATIONS = 20


class OpenTickets(Protocol):
    """Where open support requests are found (the handoff queue's ``TicketStore``)."""

    async def find_open(self, conversation_id: str) -> Ticket | None: ...


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class ProfileService:
    """Profiles as the conversation uses them; nothing about a customer is revealed unless
    the chat is private with that customer (``Speaker.private``)."""

    def __init__(
        self,
        store: ProfileStore,
        tickets: OpenTickets,
        knowledge_base: KnowledgeBase,
        level: Level,
        *,
        names: KnownNames | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store, self._tickets, self._kb, self.level = store, tickets, knowledge_base, level
        self._names = names or known_names()
        self._clock = clock

    async def start_conversation(self, conversation_id: str, speaker: Speaker) -> Greeting:
        """Counts the conversation the speaker starts and says how to greet them."""
        if speaker.identity is None:
            return PLAIN
        self._names.add(speaker.name)
        visit = Visit(speaker.identity, conversation_id, speaker.name, self._clock())
        profile = await self.store.record_visit(visit)
        if not speaker.private:
            return PLAIN
        allowed = self.allowed_level(profile)
        ticket = await self.open_ticket(speaker.identity) if allowed is Level.FULL else None
        return greeting_for(profile, speaker, self.level, ticket, self.topic_title(profile))

    async def note_topic(self, speaker: Speaker, topic: str) -> None:
        """Remembers the topic of the question the bot just answered."""
        if speaker.identity is not None and topic:
            await self.store.note_topic(speaker.identity, topic, self._clock())

    async def profile(self, speaker: Speaker) -> Profile | None:
        """The speaker's profile, only in a private chat with them."""
        if speaker.identity is None or not speaker.private:
            return None
        return await self.store.get(speaker.identity)

    def allowed_level(self, profile: Profile | None) -> Level:
        """The bot's level, lowered by the customer's own choice."""
        return self.level.at_most(profile.level if profile else None)

    async def set_level(self, speaker: Speaker, level: Level) -> Profile | None:
        """Records the customer's choice (private chats only)."""
        if speaker.identity is None or not speaker.private:
            return None
        return await self.store.set_level(speaker.identity, level)

    async def open_ticket(self, identity: str) -> int | None:
        """The id of an open support request in one of the person's latest conversations."""
        conversations = await self.store.conversations(identity)
        for conversation_id in reversed(conversations[-RECENT_CONVERSATIONS:]):
            ticket = await self._tickets.find_open(conversation_id)
            if ticket is not None:
                return ticket.id
        return None

    def topic_title(self, profile: Profile | None) -> str | None:
        """The title of the profile's last topic (from data/faq), if it is a FAQ topic."""
        topic = profile.last_topic if profile else None
        return next((t.title for t in self._kb.topics if t.name == topic), None)

    async def topic_entries(self, speaker: Speaker) -> list[FaqEntry]:
        """The FAQ entries of the customer's last topic (none outside a private chat)."""
        profile = await self.profile(speaker)
        if profile is None or not profile.last_topic:
            return []
        return [e for e in self._kb.entries if e.topic == profile.last_topic]

    # -- linking identities -------------------------------------------------------------------

    async def new_link_code(self, speaker: Speaker) -> str | None:
        """A code the customer sends from their other chat app (private chats only)."""
        if speaker.identity is None or not speaker.private:
            return None
        code = new_link_code()
        await self.store.add_link_code(speaker.identity, code, self._clock() + LINK_CODE_TTL)
        return code

    async def link_offer(self, speaker: Speaker, code: str) -> LinkOffer:
        """What confirming ``code`` would link the speaker with."""
        if speaker.identity is None or not speaker.private:
            return LinkOffer("invalid")
        owner = await self.store.link_code_owner(code, self._clock())
        if owner is None:
            return LinkOffer("invalid")
        theirs, mine = await self.store.get(owner), await self.store.get(speaker.identity)
        if theirs is None:
            return LinkOffer("invalid")
        if mine is not None and mine.person_id == theirs.person_id:
            return LinkOffer("already")
        return LinkOffer("ok", channel_of(owner), theirs.name_on(owner))

    async def link(self, speaker: Speaker, code: str) -> Profile | None:
        """Links the speaker with the code's owner (the customer confirmed); None when the
        code is no longer valid."""
        if speaker.identity is None or not speaker.private:
            return None
        return await self.store.link(code, speaker.identity, self._clock())

    async def unlink(self, speaker: Speaker) -> list[str]:
        """Unlinks the speaker's identity from their other accounts (private chats only);
        the channels of the accounts it was linked to, none when it was not linked."""
        profile = await self.profile(speaker)
        if profile is None or speaker.identity is None or len(profile.identities) < 2:
            return []
        if await self.store.unlink(speaker.identity) is None:
            return []
        others = [i for i in profile.identities if i.id != speaker.identity]
        return sorted({i.channel for i in others})


@lru_cache(maxsize=1)
def profile_service() -> ProfileService:
    """This process's service, built from the environment on first use."""
    from bot.faq.service import knowledge_base
    from bot.handoff.service import handoff_services
    from bot.profiles.settings import bot_level
    from bot.profiles.store import profile_store_from_env

    return ProfileService(
        profile_store_from_env(), handoff_services().store, knowledge_base(), bot_level()
    )


async def remember_topic(
    conversation_id: str, metadata: Mapping[str, Any] | None, topic: str
) -> None:
    """Notes the topic of an answered question in the customer's profile; a failure is
    logged, never raised (the answer matters more)."""
    try:
        await profile_service().note_topic(speaker_of(conversation_id, metadata), topic)
    except Exception:
        logger.exception("could not note the topic in the customer's profile")

"""Which greeting a customer gets: the decision behind the ``utter_greet`` variants.

A first conversation, a group chat, a customer without a name and the level ``off`` get
the plain greeting. A returning customer in a private chat gets their name (level
``name``), and at level ``full`` also their open support request or, failing that, the
topic of last time with the question whether this is about the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.profiles.model import Level, Profile
from bot.profiles.speaker import Speaker

#: The slots behind the personalised ``utter_greet`` variants (domain.yml).
GREETING_SLOT, NAME_SLOT, TOPIC_SLOT, TICKET_SLOT = (
    "profile_greeting",
    "profile_name",
    "profile_topic",
    "profile_ticket",
)


@dataclass(frozen=True)
class Greeting:
    """The variant (``name``, ``topic``, ``ticket``; None: the plain greeting) and its values."""

    kind: str | None = None
    name: str | None = None
    topic: str | None = None
    ticket: str | None = None

    def slot_events(self) -> list[dict[str, Any]]:
        """Slot events that set all four slots (clearing what an earlier session left)."""
        values = {
            GREETING_SLOT: self.kind,
            NAME_SLOT: self.name,
            TOPIC_SLOT: self.topic,
            TICKET_SLOT: self.ticket,
        }
        return [{"event": "slot", "name": k, "value": v} for k, v in values.items()]


PLAIN = Greeting()


def greeting_for(
    profile: Profile | None,
    speaker: Speaker,
    level: Level,
    open_ticket: int | None = None,
    topic_title: str | None = None,
) -> Greeting:
    """The greeting for ``speaker`` whose profile (after counting this conversation) is
    ``profile``, at the bot's ``level`` (the customer's own choice may lower it)."""
    if profile is None or speaker.identity is None or not speaker.private:
        return PLAIN
    if profile.conversations < 2:
        return PLAIN
    allowed = level.at_most(profile.level)
    name = profile.name_on(speaker.identity) or speaker.name
    if allowed is Level.OFF or not name:
        return PLAIN
    if allowed is Level.FULL and open_ticket is not None:
        return Greeting("ticket", name, ticket=str(open_ticket))
    if allowed is Level.FULL and topic_title:
        return Greeting("topic", name, topic=topic_title)
    return Greeting("name", name)

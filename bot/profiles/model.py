"""What the bot keeps about a customer: a profile (one person), its channel identities and
the personalisation level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Level(str, Enum):
    """How much of the profile the bot may use, from nothing to everything."""

    OFF = "off"  # nothing: the plain greeting
    NAME = "name"  # the customer's name in the greeting
    FULL = "full"  # the name, last time's topic and an open support request

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    def at_most(self, other: Level | None) -> Level:
        """The lower of this level and ``other`` (a customer's choice only ever lowers it)."""
        return self if other is None or self.rank <= other.rank else other

    @classmethod
    def parse(cls, value: str) -> Level:
        """The level named ``value`` (ValueError names the allowed ones)."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            allowed = ", ".join(level.value for level in cls)
            raise ValueError(f"unknown personalisation level {value!r} (use {allowed})") from None


def channel_of(identity: str) -> str:
    """The channel of an identity: ``slack`` for ``slack:U123``."""
    return identity.partition(":")[0]


@dataclass(frozen=True)
class Identity:
    """The customer on one channel (``slack:U123``, ``telegram:42``)."""

    id: str
    display_name: str
    first_seen: datetime

    @property
    def channel(self) -> str:
        return channel_of(self.id)


@dataclass(frozen=True)
class Visit:
    """A customer started a conversation (a Rasa session) on one channel."""

    identity: str
    conversation_id: str
    display_name: str  # "" when the platform did not say
    at: datetime


@dataclass(frozen=True)
class Profile:
    """One person: their identities (several once they linked them), first and last visit,
    how many conversations they started, the topic of the last answered question and their
    own personalisation choice (None: the bot's setting)."""

    person_id: str
    identities: tuple[Identity, ...]
    first_seen: datetime
    last_seen: datetime
    conversations: int
    last_topic: str | None
    level: Level | None

    def name_on(self, identity: str) -> str:
        """The display name on ``identity``, else on any other linked identity ("" if none)."""
        names = [i.display_name for i in self.identities if i.id == identity and i.display_name]
        names += [i.display_name for i in self.identities if i.display_name]
        return names[0] if names else ""

    def identity(self, identity: str) -> Identity | None:
        """The identity with this id, if it belongs to the profile."""
        return next((i for i in self.identities if i.id == identity), None)

"""The profiles' storage seam: the ``ProfileStore`` protocol and picking a backend."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from bot.database import database_url, sqlite_path
from bot.profiles.model import Level, Profile, Visit


class ProfileStore(Protocol):
    """Profiles of people, each with one or more channel identities.

    Every change is atomic. Methods taking an unknown identity change nothing and return
    None (or an empty result).
    """

    async def record_visit(self, visit: Visit) -> Profile:
        """Counts a conversation the identity started (creating the profile on first sight),
        remembers the conversation id and refreshes the display name when one is given."""
        ...

    async def get(self, identity: str) -> Profile | None:
        """The profile of the person with this identity."""
        ...

    async def note_topic(self, identity: str, topic: str, at: datetime) -> None:
        """Remembers the topic of an answered question (an older ``at`` never wins)."""
        ...

    async def set_level(self, identity: str, level: Level | None) -> Profile | None:
        """The person's own personalisation level (None: the bot's setting)."""
        ...

    async def conversations(self, identity: str) -> Sequence[str]:
        """Ids of every conversation of the person (all linked identities), oldest first."""
        ...

    async def add_link_code(self, identity: str, code: str, expires_at: datetime) -> None:
        """A one-time code that links another identity to this one until ``expires_at``
        (replaces the identity's earlier code)."""
        ...

    async def link_code_owner(self, code: str, now: datetime) -> str | None:
        """The identity that created ``code``, while it is valid."""
        ...

    async def link(self, code: str, identity: str, now: datetime) -> Profile | None:
        """Uses up ``code`` and makes ``identity`` and the code's owner one person (counts
        added, the earliest first visit, the latest topic, the lower level); None when the
        code is unknown, used or expired."""
        ...

    async def unlink(self, identity: str) -> Profile | None:
        """Makes a linked ``identity`` a person of its own again: it takes its own
        conversations (and their count), its first and last visit, the person's level, and
        no topic; the others keep the rest. None when it is unknown or not linked."""
        ...

    async def delete_person(self, identity: str) -> Sequence[str]:
        """Deletes the person with this identity: every identity, conversation id and link
        code; returns the identities deleted."""
        ...

    async def display_names(self) -> Sequence[str]:
        """Every known display name (the log redaction masks them)."""
        ...

    async def close(self) -> None:
        """Releases connections."""
        ...


def profile_store_from_env(env: Mapping[str, str] = os.environ) -> ProfileStore:
    """PostgreSQL when ``BOT_DATABASE_URL`` is set, else the bot's SQLite file."""
    url = database_url(env)
    if url:
        from bot.profiles.postgres_store import PostgresProfileStore

        return PostgresProfileStore(url)
    from bot.profiles.sqlite_store import SqliteProfileStore

    return SqliteProfileStore(sqlite_path(env))

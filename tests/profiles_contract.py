"""The behaviour every ``ProfileStore`` backend promises, as one test class.

``tests/test_profiles_store.py`` runs it against SQLite and PostgreSQL through its ``store``
and ``make_store`` (another store on the same database, like a second bot process)
fixtures. Times are explicit (the store has no clock of its own).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from bot.profiles.model import Level, Profile, Visit
from bot.profiles.store import ProfileStore

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def visit(identity: str, conversation: str, name: str = "", minutes: float = 0) -> Visit:
    return Visit(identity, conversation, name, at(minutes))


async def linked(store: ProfileStore, owner: str, other: str, minutes: float = 0) -> Profile:
    await store.add_link_code(owner, "K7P2Q9XM", at(minutes + 10))
    profile = await store.link("K7P2Q9XM", other, at(minutes))
    assert profile is not None
    return profile


class ProfileStoreContract:
    async def test_a_first_visit_creates_the_profile(self, store: ProfileStore) -> None:
        profile = await store.record_visit(visit("slack:U1", "slack:D1", "Ana"))
        assert profile.conversations == 1 and profile.first_seen == profile.last_seen == T0
        assert [(i.id, i.display_name, i.channel) for i in profile.identities] == [
            ("slack:U1", "Ana", "slack")
        ]
        assert profile.last_topic is None and profile.level is None
        assert await store.get("slack:U1") == profile
        assert await store.get("slack:U2") is None

    async def test_returning_visits_count_conversations_and_refresh_the_name(
        self, store: ProfileStore
    ) -> None:
        await store.record_visit(visit("telegram:42", "telegram:42", "Ana"))
        await store.record_visit(visit("telegram:42", "telegram:42", "", minutes=90))
        profile = await store.record_visit(visit("telegram:42", "telegram:-100:42", "Anna", 200))
        assert profile.conversations == 3
        assert (profile.first_seen, profile.last_seen) == (T0, at(200))
        assert profile.name_on("telegram:42") == "Anna"  # an empty name never overwrites

    async def test_every_conversation_is_listed_once_oldest_first(
        self, store: ProfileStore
    ) -> None:
        await store.record_visit(visit("telegram:42", "telegram:42"))
        await store.record_visit(visit("telegram:42", "telegram:-100:42", minutes=5))
        await store.record_visit(visit("telegram:42", "telegram:42", minutes=90))  # new session
        assert await store.conversations("telegram:42") == ["telegram:42", "telegram:-100:42"]
        assert await store.conversations("telegram:7") == []

    async def test_the_latest_topic_wins(self, store: ProfileStore) -> None:
        await store.record_visit(visit("slack:U1", "slack:D1"))
        await store.note_topic("slack:U1", "billing", at(5))
        await store.note_topic("slack:U1", "outages", at(3))  # older: ignored
        assert (await store.get("slack:U1")).last_topic == "billing"  # type: ignore[union-attr]
        await store.note_topic("slack:U1", "technical", at(9))
        assert (await store.get("slack:U1")).last_topic == "technical"  # type: ignore[union-attr]
        await store.note_topic("slack:U9", "billing", at(9))  # unknown: nothing happens
        assert await store.get("slack:U9") is None

    async def test_the_customer_chooses_a_level_and_can_reset_it(self, store: ProfileStore) -> None:
        await store.record_visit(visit("slack:U1", "slack:D1"))
        assert (await store.set_level("slack:U1", Level.NAME)).level is Level.NAME  # type: ignore[union-attr]
        assert (await store.get("slack:U1")).level is Level.NAME  # type: ignore[union-attr]
        assert (await store.set_level("slack:U1", None)).level is None  # type: ignore[union-attr]
        assert await store.set_level("slack:U9", Level.OFF) is None

    async def test_a_link_code_works_once_and_until_it_expires(self, store: ProfileStore) -> None:
        await store.record_visit(visit("slack:U1", "slack:D1", "Ana"))
        await store.record_visit(visit("telegram:42", "telegram:42", "Ana"))
        await store.add_link_code("slack:U1", "OLD2CODE", at(10))
        await store.add_link_code("slack:U1", "K7P2Q9XM", at(10))  # replaces the old one
        assert await store.link_code_owner("OLD2CODE", at(1)) is None
        assert await store.link_code_owner("K7P2Q9XM", at(9)) == "slack:U1"
        assert await store.link_code_owner("K7P2Q9XM", at(10)) is None  # expired
        assert await store.link("K7P2Q9XM", "telegram:42", at(11)) is None
        await store.add_link_code("slack:U1", "NEW3CODE", at(20))
        assert await store.link("NEW3CODE", "telegram:42", at(12)) is not None
        assert await store.link("NEW3CODE", "telegram:42", at(13)) is None  # used up
        assert await store.link("NOPE4444", "telegram:42", at(13)) is None

    async def test_linking_makes_one_person_of_two(self, store: ProfileStore) -> None:
        await store.record_visit(visit("slack:U1", "slack:D1", "Ana", minutes=30))
        await store.record_visit(visit("slack:U1", "slack:D1", "Ana", minutes=130))
        await store.note_topic("slack:U1", "billing", at(131))
        await store.set_level("slack:U1", Level.FULL)
        await store.record_visit(visit("telegram:42", "telegram:42", "Ana T", minutes=0))
        await store.note_topic("telegram:42", "outages", at(20))
        await store.set_level("telegram:42", Level.NAME)
        profile = await linked(store, "slack:U1", "telegram:42", minutes=200)
        assert {i.id for i in profile.identities} == {"slack:U1", "telegram:42"}
        assert profile.conversations == 3
        assert (profile.first_seen, profile.last_seen) == (T0, at(130))
        assert profile.last_topic == "billing" and profile.level is Level.NAME  # latest, lower
        assert await store.get("telegram:42") == profile == await store.get("slack:U1")
        assert set(await store.conversations("telegram:42")) == {"slack:D1", "telegram:42"}
        assert profile.name_on("telegram:42") == "Ana T" and profile.name_on("slack:U1") == "Ana"

    async def test_linking_an_identity_seen_for_the_first_time(self, store: ProfileStore) -> None:
        await store.record_visit(visit("slack:U1", "slack:D1", "Ana"))
        profile = await linked(store, "slack:U1", "telegram:42")
        assert [i.id for i in profile.identities] == ["slack:U1", "telegram:42"]
        assert profile.conversations == 1
        assert (
            await store.record_visit(visit("telegram:42", "telegram:42", "A", 5))
        ).person_id == (profile.person_id)

    async def test_unlinking_makes_a_person_of_its_own_again(self, store: ProfileStore) -> None:
        await store.record_visit(visit("telegram:42", "telegram:42", "Ana T", minutes=0))
        await store.record_visit(visit("slack:U1", "slack:D1", "Ana", minutes=30))
        await store.record_visit(visit("slack:U1", "slack:D2", "Ana", minutes=130))
        await store.set_level("slack:U1", Level.NAME)
        profile = await linked(store, "slack:U1", "telegram:42", minutes=200)
        await store.note_topic("telegram:42", "billing", at(201))
        await store.add_link_code("telegram:42", "PEND1NGX", at(300))

        alone = await store.unlink("telegram:42")
        assert alone is not None and alone.person_id != profile.person_id
        assert [i.id for i in alone.identities] == ["telegram:42"]
        assert (alone.conversations, alone.first_seen, alone.last_seen) == (1, T0, T0)
        assert alone.last_topic is None and alone.level is Level.NAME
        assert await store.get("telegram:42") == alone
        assert await store.conversations("telegram:42") == ["telegram:42"]
        assert await store.link_code_owner("PEND1NGX", at(1)) is None

        rest = await store.get("slack:U1")
        assert rest is not None and rest.person_id == profile.person_id
        assert [i.id for i in rest.identities] == ["slack:U1"]
        assert (rest.conversations, rest.first_seen) == (2, at(30))
        assert rest.last_topic == "billing" and rest.level is Level.NAME
        assert await store.conversations("slack:U1") == ["slack:D1", "slack:D2"]

        assert await store.unlink("telegram:42") is None  # no longer linked
        assert await store.unlink("slack:U1") is None
        assert await store.unlink("telegram:7") is None  # unknown

    async def test_unlinked_people_can_link_again(self, store: ProfileStore) -> None:
        await store.record_visit(visit("slack:U1", "slack:D1", "Ana"))
        await store.record_visit(visit("telegram:42", "telegram:42", "Ana"))
        await linked(store, "slack:U1", "telegram:42")
        assert await store.unlink("slack:U1") is not None
        again = await linked(store, "telegram:42", "slack:U1", minutes=5)
        assert {i.id for i in again.identities} == {"slack:U1", "telegram:42"}
        assert again.conversations == 2

    async def test_deleting_a_person_removes_every_linked_identity(
        self, store: ProfileStore
    ) -> None:
        await store.record_visit(visit("slack:U1", "slack:D1", "Ana"))
        await store.record_visit(visit("telegram:42", "telegram:42", "Ana"))
        await store.record_visit(visit("telegram:7", "telegram:7", "Bo"))
        await linked(store, "slack:U1", "telegram:42")
        await store.add_link_code("telegram:42", "PEND1NGX", at(30))
        assert set(await store.delete_person("telegram:42")) == {"slack:U1", "telegram:42"}
        assert await store.get("slack:U1") is None and await store.get("telegram:42") is None
        assert await store.conversations("slack:U1") == []
        assert await store.link_code_owner("PEND1NGX", at(1)) is None
        assert await store.display_names() == ["Bo"]
        assert (await store.get("telegram:7")).conversations == 1  # type: ignore[union-attr]
        assert await store.delete_person("telegram:42") == []

    async def test_display_names_are_the_known_names(self, store: ProfileStore) -> None:
        await store.record_visit(visit("slack:U1", "slack:D1", "Ana"))
        await store.record_visit(visit("telegram:42", "telegram:42", ""))
        await store.record_visit(visit("telegram:7", "telegram:7", "Ana"))
        assert await store.display_names() == ["Ana"]

    async def test_simultaneous_first_visits_make_one_profile(
        self, make_store: Callable[[], ProfileStore]
    ) -> None:
        stores = [make_store() for _ in range(4)]
        await asyncio.gather(
            *(
                stores[n % 4].record_visit(visit("slack:U1", f"slack:D1:{n}", "Ana", minutes=n))
                for n in range(20)
            )
        )
        profile = await stores[0].get("slack:U1")
        assert profile is not None and profile.conversations == 20
        assert len(await stores[1].conversations("slack:U1")) == 20

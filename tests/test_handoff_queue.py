"""The persistent handoff queue: the store contract on every backend, priority, business hours,
the wait estimate, configuration and the `bot queue` command."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio
from handoff_contract import Clock, TicketStoreContract, escalation

from bot.cli import COMMAND_MODULES
from bot.commands import queue as queue_command
from bot.handoff.config import load_handoff_config
from bot.handoff.postgres_store import PostgresTicketStore
from bot.handoff.priority import PriorityWeights
from bot.handoff.schedule import BusinessHours
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.store import TicketStore, ticket_store_from_env
from bot.handoff.tickets import EscalationReason, Turn
from bot.handoff.waits import estimate_wait
from bot.testing.stores import BACKENDS, store_factory

PROJECT = Path(__file__).resolve().parents[1]
UTC = timezone.utc
WEIGHTS = PriorityWeights.from_config(
    {
        "urgency": 40,
        "negative_sentiment": 30,
        "tier": {"gold": 20, "standard": 0},
        "waiting_minutes": 1,
    }
)


# -- the contract on every backend ------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # a Monday


@pytest_asyncio.fixture(params=BACKENDS)
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> AsyncIterator[Callable[[], TicketStore]]:
    """Makes stores on one fresh database: a SQLite file, or a PostgreSQL schema of its own."""
    async with store_factory(
        request.param,
        tmp_path,
        "handoff_test",
        sqlite=lambda path: SqliteTicketStore(path, weights=WEIGHTS, clock=clock),
        postgres=lambda url, schema: PostgresTicketStore(
            url, schema=schema, weights=WEIGHTS, clock=clock
        ),
    ) as new:
        yield new


@pytest.fixture
def store(make_store: Callable[[], TicketStore]) -> TicketStore:
    return make_store()


class TestTicketStoreContract(TicketStoreContract):
    """Every test of ``TicketStoreContract``, once per backend (see ``make_store``)."""


# -- priority and the wait estimate -----------------------------------------------------------


def test_priority_adds_urgency_negative_sentiment_and_tier() -> None:
    upset_gold = escalation(urgency=0.5, sentiment=-0.4, tier="gold")
    assert WEIGHTS.base(upset_gold) == pytest.approx(40 * 0.5 + 30 * 0.4 + 20)
    assert WEIGHTS.base(escalation(sentiment=0.9)) == 0  # a happy customer adds nothing
    assert WEIGHTS.base(escalation(tier="platinum")) == 0  # unknown tiers weigh nothing
    assert WEIGHTS.base(escalation(urgency=7, sentiment=-3)) == 40 + 30  # signals are clamped


def test_every_minute_waited_adds_the_waiting_weight() -> None:
    assert WEIGHTS.effective(20.0, timedelta(minutes=15)) == 35.0


def test_the_estimate_is_the_median_recent_wait_times_the_place_in_the_queue() -> None:
    waits = [timedelta(minutes=m) for m in (3, 5, 40)]
    assert estimate_wait(waits, position=1) == timedelta(minutes=5)
    assert estimate_wait(waits, position=3) == timedelta(minutes=15)
    assert estimate_wait([], position=1) is None
    assert estimate_wait(waits, position=None) is None


# -- business hours ---------------------------------------------------------------------------

HOURS = BusinessHours.from_config(
    {
        "timezone": "Europe/London",
        "weekly": {day: "08:00-20:00" for day in ("mon", "tue", "wed", "thu", "fri")}
        | {"sat": "09:00-17:00", "sun": "closed"},
    }
)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def test_the_desk_is_open_on_weekdays_and_saturday_daytime_only() -> None:
    assert HOURS.is_open(utc(2026, 1, 5, 8, 0))  # Monday 08:00 GMT: opening minute
    assert not HOURS.is_open(utc(2026, 1, 5, 7, 59))
    assert not HOURS.is_open(utc(2026, 1, 5, 20, 0))  # closing time is exclusive
    assert HOURS.is_open(utc(2026, 1, 10, 16, 59))  # Saturday
    assert not HOURS.is_open(utc(2026, 1, 10, 17, 0))
    assert not HOURS.is_open(utc(2026, 1, 11, 12, 0))  # Sunday


def test_opening_hours_follow_london_summer_time() -> None:
    assert HOURS.is_open(utc(2026, 3, 27, 19, 30))  # Friday 19:30 GMT
    assert not HOURS.is_open(utc(2026, 3, 30, 19, 30))  # Monday 20:30 BST
    assert HOURS.is_open(utc(2026, 3, 30, 7, 0))  # Monday 08:00 BST
    assert not HOURS.is_open(utc(2026, 10, 26, 7, 30))  # Monday 07:30 GMT again


def test_the_next_opening_skips_the_closed_sunday_across_clock_changes() -> None:
    spring = HOURS.next_opening(utc(2026, 3, 28, 18, 0))  # Saturday evening, clocks go forward
    assert spring == utc(2026, 3, 30, 7, 0)  # Monday 08:00 BST
    assert spring.tzname() == "BST" and spring.hour == 8
    autumn = HOURS.next_opening(utc(2026, 10, 24, 18, 0))  # clocks go back on Sunday
    assert autumn == utc(2026, 10, 26, 8, 0)  # Monday 08:00 GMT
    assert HOURS.next_opening(utc(2026, 1, 9, 21, 0)) == utc(2026, 1, 10, 9, 0)  # Fri -> Sat


def test_when_open_the_next_opening_is_now() -> None:
    assert HOURS.next_opening(utc(2026, 1, 6, 12, 0)) == utc(2026, 1, 6, 12, 0)


def test_an_opening_inside_the_spring_gap_happens_once_the_clocks_have_jumped() -> None:
    night = BusinessHours.from_config(
        {"timezone": "Europe/London", "weekly": {"sun": "01:30-03:00"}}
    )
    assert night.next_opening(utc(2026, 3, 28, 23, 0)) == utc(2026, 3, 29, 1, 30)  # 02:30 BST


def test_business_hours_need_a_timezone_aware_moment() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        HOURS.is_open(datetime(2026, 1, 5, 9, 0))


@pytest.mark.parametrize(
    ("weekly", "problem"),
    [
        ({"mon": "20:00-08:00"}, "must end after it starts"),
        ({"mon": "8am to 8pm"}, "is not like '08:00-20:00'"),
        ({"funday": "08:00-20:00"}, "unknown weekday"),
        ({"sun": "closed"}, "no day has opening hours"),
    ],
)
def test_bad_business_hours_are_explained(weekly: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        BusinessHours.from_config({"timezone": "Europe/London", "weekly": weekly})


# -- configuration ----------------------------------------------------------------------------


def test_the_shipped_settings_load() -> None:
    config = load_handoff_config(PROJECT / "data" / "handoff.yml")
    assert str(config.hours.timezone) == "Europe/London"
    assert config.claim_timeout == timedelta(minutes=10)
    assert config.priority.tier["gold"] > config.priority.tier["standard"]


def test_a_missing_setting_names_the_file_and_the_setting(tmp_path: Path) -> None:
    settings = tmp_path / "handoff.yml"
    settings.write_text(
        (PROJECT / "data" / "handoff.yml").read_text().replace("claim_timeout", "x")
    )
    with pytest.raises(
        ValueError, match=r"handoff.yml: the setting 'claim_timeout_minutes' is missing"
    ):
        load_handoff_config(settings)


def test_the_store_is_postgres_only_when_the_environment_says_so(tmp_path: Path) -> None:
    config = load_handoff_config(PROJECT / "data" / "handoff.yml")
    postgres = {"BOT_DATABASE_URL": "postgresql://support@db.internal/bot"}
    assert isinstance(ticket_store_from_env(postgres, config), PostgresTicketStore)
    assert isinstance(ticket_store_from_env({}, config), SqliteTicketStore)
    with pytest.raises(ValueError, match="postgresql://"):
        ticket_store_from_env({"BOT_DATABASE_URL": "mysql://db/bot"}, config)


# -- `bot queue` ------------------------------------------------------------------------------


def bot_queue(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="bot")
    queue_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["queue", "--config", str(PROJECT / "data" / "handoff.yml"), *argv])
    return int(asyncio.run(args.handler(args)))


@pytest.fixture
def queue_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("BOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("BOT_SQLITE_PATH", str(tmp_path / "bot.db"))
    return tmp_path / "bot.db"


def test_bot_queue_is_a_registered_command() -> None:
    assert "bot.commands.queue" in COMMAND_MODULES


def test_queue_list_and_show_print_the_queue_and_the_audit_trail(
    queue_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def seed() -> tuple[int, int]:
        store = SqliteTicketStore(queue_db, weights=WEIGHTS)
        now = datetime.now(UTC)
        turns = (Turn("customer", "I want a person", now),)
        first = await store.open(
            escalation("slack:C1:1.1", customer_name="Ann", topic="billing", last_turns=turns)
        )
        second = await store.open(
            escalation("telegram:9", customer_name="Bo", reason=EscalationReason.LOW_CONFIDENCE)
        )
        await store.claim(second.ticket.id, "sam")
        return first.ticket.id, second.ticket.id

    queued, claimed = asyncio.run(seed())
    assert bot_queue("list") == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == [
        "ID",
        "STATE",
        "PLACE",
        "PRIORITY",
        "WAITED",
        "CHANNEL",
        "CUSTOMER",
        "TOPIC",
        "REASON",
        "AGENT",
    ]
    assert listing[1].split()[:3] == [str(queued), "queued", "1"]
    assert listing[2].split()[:2] == [str(claimed), "claimed"]
    assert listing[2].split()[-2:] == ["low_confidence", "sam"]

    assert bot_queue("list", "--state", "resolved") == 0
    assert capsys.readouterr().out.strip() == "No resolved tickets."

    assert bot_queue("show", str(queued)) == 0
    shown = capsys.readouterr().out
    assert f"Ticket {queued}: queued" in shown
    assert "place 1; estimated wait" in shown
    assert "customer: I want a person" in shown
    assert "queued        by bot  (requested)" in shown

    assert bot_queue("show", str(claimed)) == 0
    assert "claimed       by sam" in capsys.readouterr().out


def test_queue_show_of_an_unknown_ticket_fails_clearly(
    queue_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bot_queue("show", "404") == 1
    assert "there is no ticket 404" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["list", "show"])
def test_every_queue_action_explains_itself(
    action: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        bot_queue(action, "--help")
    assert exit_.value.code == 0
    assert f"usage: bot queue {action}" in capsys.readouterr().out

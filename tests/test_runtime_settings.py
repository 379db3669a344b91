"""`bot run` configuration: embedded defaults; production stores and channels from the env."""

from pathlib import Path

import pytest

from bot.runtime.settings import external_channels, runtime_credentials, runtime_endpoints

PROJECT = Path(__file__).resolve().parents[1]


def test_the_defaults_are_embedded() -> None:
    endpoints = runtime_endpoints(PROJECT / "endpoints.yml", env={})
    assert endpoints["tracker_store"]["dialect"] == "sqlite"
    assert endpoints["lock_store"]["type"] == "in_memory"


def test_production_stores_come_from_the_environment() -> None:
    env = {
        "BOT_TRACKER_STORE_URL": "postgresql://support:s3cret@db.internal:5433/rasa",
        "BOT_LOCK_STORE_URL": "redis://cache.internal:6380/2",
    }
    endpoints = runtime_endpoints(PROJECT / "endpoints.yml", env=env)
    assert endpoints["tracker_store"] == {
        "type": "bot.storage.remembering_tracker_store.RememberingTrackerStore",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "rasa",
        "username": "support",
        "password": "s3cret",
    }
    assert endpoints["lock_store"]["type"] == "bot.storage.redis_lock_store.RedisTicketLockStore"
    assert (endpoints["lock_store"]["url"], endpoints["lock_store"]["port"]) == (
        "cache.internal",
        6380,
    )
    assert endpoints["lock_store"]["db"] == 2


def test_an_unsupported_tracker_url_is_refused() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        runtime_endpoints(PROJECT / "endpoints.yml", env={"BOT_TRACKER_STORE_URL": "mysql://x/y"})


def test_a_channel_is_enabled_only_when_all_its_variables_are_set(tmp_path: Path) -> None:
    template = tmp_path / "credentials.yml"
    template.write_text("rest:\nchat.Input:\n  token: ${CHAT_TOKEN}\n  secret: ${CHAT_SECRET}\n")
    assert runtime_credentials(template, env={"CHAT_TOKEN": "t"}) == {"rest": None}
    enabled = runtime_credentials(template, env={"CHAT_TOKEN": "t", "CHAT_SECRET": "s"})
    assert enabled["chat.Input"] == {"token": "t", "secret": "s"}
    assert external_channels(enabled) == ["chat.Input"]


def test_without_credentials_only_the_local_chat_runs() -> None:
    assert external_channels(runtime_credentials(PROJECT / "credentials.yml", env={})) == []

"""No substitute tracker store: what Rasa uses is the configured store itself, and a store
class that cannot be loaded stops Rasa instead of becoming an in-memory store."""

from __future__ import annotations

import pytest
from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig

from bot.runtime import no_fallback


def test_the_agent_uses_the_configured_tracker_store_unwrapped() -> None:
    no_fallback.install()
    configured = InMemoryTrackerStore(Domain.empty())

    used = Agent._create_tracker_store(configured, Domain.empty())

    assert used is configured and not isinstance(used, FailSafeTrackerStore)


def test_a_tracker_store_class_that_cannot_be_loaded_is_an_error() -> None:
    no_fallback.install()
    missing = EndpointConfig(type="bot.storage.no_such_module.NoSuchStore")

    with pytest.raises(ImportError):
        TrackerStore.create(missing, Domain.empty())

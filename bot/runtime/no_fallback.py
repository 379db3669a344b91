"""No substitute stores: when the tracker store fails, the turn fails (and is apologised
for), instead of Rasa carrying on with a store that forgets.

Stock Rasa 3.6 wraps every tracker store in ``FailSafeTrackerStore``: a failed read
returns no tracker (the turn then runs on a fresh, empty conversation) and a failed save
goes to an ``InMemoryTrackerStore`` ("Falling back to use the InMemoryTrackerStore"), so
with PostgreSQL down customers got normal-looking answers that were never stored. A
custom tracker store class that cannot be loaded also silently became an in-memory one.

:func:`install` (called by the launcher, :mod:`bot.privacy.launch`, before ``rasa``
starts) removes both fallbacks: store errors reach the channel, whose adapter answers with
the apology and a ``bot_failure`` ticket (docs/handoff.md; the REST channel,
:mod:`channels.rest.channel`, answers with it too). The lock store needs no change: Rasa
already raises ``LockError``.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def strict_tracker_store(store: Any, domain: Any) -> Any:
    """What ``Agent`` uses as its tracker store: the configured one, unwrapped (an
    in-memory store only when none is configured)."""
    from rasa.core.tracker_store import InMemoryTrackerStore

    if store is None:
        return InMemoryTrackerStore(domain)
    store.domain = domain
    return store


def load_tracker_store_class(domain: Any, store: Any, event_broker: Any = None) -> Any:
    """Rasa's loader of a ``type: module.Class`` tracker store, without the in-memory
    fallback when the class cannot be loaded or built."""
    import rasa.shared.utils.common

    store_class = rasa.shared.utils.common.class_from_module_path(store.type)
    return store_class(host=store.url, domain=domain, event_broker=event_broker, **store.kwargs)


def install() -> None:
    """Removes both fallbacks (once; later calls do nothing)."""
    import rasa.core.tracker_store
    from rasa.core.agent import Agent

    if Agent._create_tracker_store is strict_tracker_store:
        return
    Agent._create_tracker_store = staticmethod(strict_tracker_store)  # type: ignore[method-assign]
    rasa.core.tracker_store._load_from_module_name_in_endpoint_config = load_tracker_store_class

"""The handoff settings in data/handoff.yml: priority weights, business hours, claim timeout."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml

from bot.handoff.priority import PriorityWeights
from bot.handoff.schedule import BusinessHours

DEFAULT_CONFIG_PATH = Path("data/handoff.yml")
#: Another settings file (tests use one whose business hours never close).
CONFIG_PATH_VARIABLE = "BOT_HANDOFF_CONFIG"
#: When data/handoff.yml does not say: unclaimed tickets expire after this many minutes.
DEFAULT_EXPIRE_MINUTES = 30.0


@dataclass(frozen=True)
class HandoffConfig:
    """Everything configurable about the handoff queue."""

    priority: PriorityWeights
    hours: BusinessHours
    claim_timeout: timedelta  # no agent claimed within this long: nudge the customer and agents
    #: No agent claimed within this long of the team being at work: the ticket expires.
    expire_after: timedelta = timedelta(minutes=DEFAULT_EXPIRE_MINUTES)
    #: A queued customer's message that cancels the request (see ``is_cancel_phrase``).
    cancel_phrases: tuple[str, ...] = ()

    def is_cancel_phrase(self, text: str) -> bool:
        """The whole message, or its start before a comma or full stop, is a cancel phrase."""
        words = _normalise(re.split(r"[,.;!?]", text, maxsplit=1)[0])
        return bool(words) and words in self.cancel_phrases


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def load_handoff_config(path: Path | None = None) -> HandoffConfig:
    """Reads and checks ``path`` (default: ``BOT_HANDOFF_CONFIG``, else data/handoff.yml);
    errors name the file and the setting."""
    path = path or Path(os.environ.get(CONFIG_PATH_VARIABLE) or DEFAULT_CONFIG_PATH)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the handoff settings file is missing")
    raw = yaml.safe_load(path.read_text()) or {}
    try:
        minutes = float(raw["claim_timeout_minutes"])
        if minutes <= 0:
            raise ValueError("claim_timeout_minutes must be positive")
        expire = float(raw.get("expire_unclaimed_minutes", DEFAULT_EXPIRE_MINUTES))
        if expire < minutes:
            raise ValueError(
                "expire_unclaimed_minutes must be at least claim_timeout_minutes"
                " (the customer is offered to keep waiting first)"
            )
        return HandoffConfig(
            priority=PriorityWeights.from_config(raw["priority"]),
            hours=BusinessHours.from_config(raw["business_hours"]),
            claim_timeout=timedelta(minutes=minutes),
            expire_after=timedelta(minutes=expire),
            cancel_phrases=tuple(_normalise(str(p)) for p in raw.get("cancel_phrases") or ()),
        )
    except KeyError as missing:
        raise ValueError(f"{path}: the setting {missing} is missing") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None

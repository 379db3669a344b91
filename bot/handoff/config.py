"""The handoff settings in data/handoff.yml: priority weights, business hours, claim timeout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml

from bot.handoff.priority import PriorityWeights
from bot.handoff.schedule import BusinessHours

DEFAULT_CONFIG_PATH = Path("data/handoff.yml")


@dataclass(frozen=True)
class HandoffConfig:
    """Everything configurable about the handoff queue."""

    priority: PriorityWeights
    hours: BusinessHours
    claim_timeout: timedelta  # no agent claimed within this long: tell the customer, expire


def load_handoff_config(path: Path = DEFAULT_CONFIG_PATH) -> HandoffConfig:
    """Reads and checks ``path``; errors name the file and the setting."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the handoff settings file is missing")
    raw = yaml.safe_load(path.read_text()) or {}
    try:
        minutes = float(raw["claim_timeout_minutes"])
        if minutes <= 0:
            raise ValueError("claim_timeout_minutes must be positive")
        return HandoffConfig(
            priority=PriorityWeights.from_config(raw["priority"]),
            hours=BusinessHours.from_config(raw["business_hours"]),
            claim_timeout=timedelta(minutes=minutes),
        )
    except KeyError as missing:
        raise ValueError(f"{path}: the setting {missing} is missing") from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None

"""Customer-facing handoff texts, read from domain.yml's responses (never written in code)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


@dataclass
class Texts:
    """Renders a domain response by name, with ``{placeholders}`` filled in."""

    responses: Mapping[str, list[dict[str, Any]]]
    _last: dict[str, str] = field(default_factory=dict)

    def render(self, response: str, /, **values: Any) -> dict[str, Any]:
        """One variant of ``response`` as a Rasa message dict (text, buttons), never the
        same variant twice in a row."""
        variants = self.responses.get(response)
        if not variants:
            raise KeyError(f"domain.yml has no response '{response}'")
        choices = [v for v in variants if v.get("text") != self._last.get(response)] or variants
        variant = random.choice(choices)
        self._last[response] = str(variant.get("text"))
        message = {k: v for k, v in variant.items() if k in {"text", "buttons", "image"}}
        if "text" in message:
            message["text"] = str(message["text"]).format_map(_Defaulting(values))
        return message


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@lru_cache(maxsize=4)
def domain_texts(domain_path: str = "domain.yml") -> Texts:
    """The responses of ``domain.yml`` (loaded once)."""
    domain = yaml.safe_load(Path(domain_path).read_text()) or {}
    return Texts(domain.get("responses") or {})

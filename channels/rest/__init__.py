"""The local REST channel: ``channels.rest.RestInput`` in credentials.yml (docs/security.md).

The channel class loads on first use, so :mod:`channels.rest.ids` stays cheap to import.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RestInput"]


def __getattr__(name: str) -> Any:
    if name == "RestInput":
        from channels.rest.channel import RestInput

        return RestInput
    raise AttributeError(name)

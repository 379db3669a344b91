"""Reading updates python-telegram-bot cannot parse as sent, instead of dropping them.

Real updates sometimes break PTB's stricter model: a document whose ``thumbnail`` is
``{}``, an older update whose users lack ``is_bot`` or whose files lack
``file_unique_id``. PTB then raises, the webhook would answer 400 and Telegram would
retry the same update for hours; long polling would fetch it again and again. Here such
an update is repaired (empty objects dropped, fields older versions lacked defaulted,
then unreadable parts dropped), logged with its ``update_id``, and the readable part
still answered. An update beyond repair is logged and acknowledged.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

logger = logging.getLogger(__name__)
# what a message-like object needs to be answered; everything else may be dropped
ESSENTIAL = {"message_id", "date", "chat", "from", "text", "id", "data", "chat_instance", "message"}


@dataclass(frozen=True)
class Parsed:
    """An update as PTB reads it (None when beyond repair), and what had to be changed."""

    update: Update | None
    update_id: Any
    repairs: list[str] = field(default_factory=list)
    data: Any = None  # the JSON that was read (after the repairs)


def parse_update(data: Any, bot: Bot | None = None) -> Parsed:
    """``Update.de_json`` that repairs what PTB rejects; ``repairs`` names each change."""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    attempts: list[Callable[[Any, list[str]], Any]] = [_as_sent, _defaults, _essentials]
    repairs: list[str] = []
    current = data
    for attempt in attempts:
        current = attempt(current, repairs)
        try:
            update = Update.de_json(current, bot)
        except Exception as error:  # PTB raises TypeError, KeyError, ValueError...
            last = error
            continue
        if repairs:
            logger.warning(
                "Telegram update %s could not be read as sent; repaired (%s) and answered",
                update_id,
                "; ".join(repairs),
            )
        return Parsed(update, update_id, repairs, current)
    logger.error(
        "Telegram update %s could not be read (%s: %s); acknowledged without an answer",
        update_id,
        type(last).__name__,
        last,
    )
    return Parsed(None, update_id, repairs)


def repaired_json(data: Any) -> Any:
    """The update as a dict PTB can read: repaired, or only its ``update_id`` (so the
    update is acknowledged and never fetched again) when beyond repair."""
    parsed = parse_update(data)
    if parsed.update is None:
        return {"update_id": parsed.update_id} if isinstance(parsed.update_id, int) else None
    return parsed.data


def _as_sent(data: Any, _repairs: list[str]) -> Any:
    return data


# Fields older Bot API versions did not send, with the value they meant then.
OLDER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dice": {"emoji": "🎲"},  # Bot API 4.7: the only die
    "sticker": {"type": "regular", "is_animated": False, "is_video": False},
}


def _defaults(data: Any, repairs: list[str]) -> Any:
    """Empty objects (``"thumbnail": {}``) dropped; fields older Bot API versions lacked
    given the value they meant: ``is_bot`` false, ``file_unique_id`` = ``file_id``
    (before Bot API 4.5), a die's emoji, a sticker's kind."""
    fixed = copy.deepcopy(data)

    def walk(value: Any, path: str, key: str) -> Any:
        if isinstance(value, dict):
            if "id" in value and "first_name" in value and "is_bot" not in value:
                value["is_bot"] = False
                repairs.append(f"{path}.is_bot defaulted to false")
            if "file_id" in value and "file_unique_id" not in value:
                value["file_unique_id"] = value["file_id"]
                repairs.append(f"{path}.file_unique_id defaulted to its file_id")
            for name, default in OLDER_DEFAULTS.get(key, {}).items():
                if name not in value:
                    value[name] = default
                    repairs.append(f"{path}.{name} defaulted")
            for child_key in list(value):
                child = value[child_key]
                if isinstance(child, dict) and not child:
                    del value[child_key]
                    repairs.append(f"empty {path}.{child_key} dropped")
                else:
                    walk(child, f"{path}.{child_key}", child_key)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]", key)
        return value

    return walk(fixed, "update", "")


def _essentials(data: Any, repairs: list[str]) -> Any:
    """Only what an answer needs: the update's object keeps its essential fields."""
    if not isinstance(data, dict):
        return data
    fixed = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "update_id":
            kept = {
                k: v for k, v in value.items() if k in ESSENTIAL or not isinstance(v, (dict, list))
            }
            dropped = sorted(set(value) - set(kept))
            if dropped:
                repairs.append(f"unreadable parts of update.{key} dropped ({', '.join(dropped)})")
            fixed[key] = kept
        else:
            fixed[key] = value
    return fixed


class LenientUpdates(BaseRequest):
    """The ``getUpdates`` connection: answers pass through :func:`repaired_json`, so one
    unreadable update can no longer stop long polling (PTB would fetch it forever)."""

    def __init__(self, inner: BaseRequest) -> None:
        self._inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(  # noqa: PLR0917 (PTB's signature)
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await self._inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if status != 200 or not url.endswith("/getUpdates"):
            return status, payload
        try:
            body = json.loads(payload)
        except ValueError:
            return status, payload
        if body.get("ok") and isinstance(body.get("result"), list):
            updates = (repaired_json(item) for item in body["result"])
            body["result"] = [u for u in updates if u is not None]
            payload = json.dumps(body).encode()
        return status, payload

"""The fake Slack's Web API methods: small functions over the fake workspace's messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.testing.slack_events import Workspace, new_ts

Messages = dict[tuple[str, str], dict[str, Any]]
Method = Callable[[Workspace, Messages, dict[str, Any]], dict[str, Any]]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def auth_test(w: Workspace, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": True,
        "url": "https://fake.slack.com/",
        "team": "Fake",
        "user": "supportbot",
        "team_id": w.team_id,
        "user_id": w.bot_user_id,
        "bot_id": w.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(w: Workspace, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
    ts = new_ts()
    message = {
        "type": "message",
        "user": w.bot_user_id,
        "bot_id": w.bot_id,
        "text": params.get("text", ""),
        "ts": ts,
        "channel": params["channel"],
    }
    if "blocks" in params:
        message["blocks"] = _json(params["blocks"])
    if "thread_ts" in params:
        message["thread_ts"] = params["thread_ts"]
    messages[(params["channel"], ts)] = message
    return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}


def chat_update(w: Workspace, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
    key = (params["channel"], params["ts"])
    if key not in messages:
        return {"ok": False, "error": "message_not_found"}
    message = messages[key]
    message.update(text=params.get("text", message["text"]), blocks=_json(params.get("blocks", [])))
    return {
        "ok": True,
        "channel": key[0],
        "ts": key[1],
        "text": message["text"],
        "message": message,
    }


def users_info(w: Workspace, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
    user = str(params.get("user", ""))
    display, real = w.people.get(user, ("Casey", "Casey Customer"))
    return {
        "ok": True,
        "user": {
            "id": user,
            "name": w.handle(user),
            "real_name": real,
            "is_bot": False,
            "tz": "Europe/London",
            "profile": {"display_name": display, "real_name": real},
        },
    }


def conversations_members(
    w: Workspace, messages: Messages, params: dict[str, Any]
) -> dict[str, Any]:
    """Paged like Slack: ``limit`` per page, ``cursor`` = the next offset."""
    if params.get("channel") not in w.members:
        return {"ok": False, "error": "channel_not_found"}
    members = w.members[params["channel"]]
    start = int(params.get("cursor") or 0)
    limit = int(params.get("limit") or 100)
    page = members[start : start + limit]
    following = str(start + limit) if start + limit < len(members) else ""
    return {"ok": True, "members": page, "response_metadata": {"next_cursor": following}}


def chat_post_ephemeral(w: Workspace, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
    """Ephemerals are not stored as messages (only the one user sees them, once)."""
    if not params.get("text") and not params.get("blocks"):
        return {"ok": False, "error": "no_text"}
    return {"ok": True, "message_ts": new_ts()}


def chat_delete(w: Workspace, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
    key = (params["channel"], params["ts"])
    if key not in messages:
        return {"ok": False, "error": "message_not_found"}
    if messages[key].get("bot_id") != w.bot_id:
        return {"ok": False, "error": "cant_delete_message"}
    del messages[key]
    return {"ok": True, "channel": key[0], "ts": key[1]}


def conversations_open(w: Workspace, messages: Messages, params: dict[str, Any]) -> dict[str, Any]:
    """The bot's DM with one person (``users``): the workspace's DM for the customer, a
    stable made-up id for anyone else."""
    users = [u for u in str(params.get("users") or "").split(",") if u]
    if len(users) != 1:
        return {"ok": False, "error": "users_list_not_supplied" if not users else "not_supported"}
    return {"ok": True, "channel": {"id": w.dm_channel_of(users[0])}}


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "users.info": users_info,
    "conversations.members": conversations_members,
    "chat.postEphemeral": chat_post_ephemeral,
    "conversations.open": conversations_open,
}

"""Builders of the payloads Slack sends (Events API ``event_callback`` bodies, interactions).

Shapes follow https://api.slack.com/events and the common event wrapper schema; ids are
fake but well-formed. Used by :mod:`bot.testing.fake_slack`.
"""

from __future__ import annotations

import hashlib
import itertools
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

_counter = itertools.count(1)


def new_ts() -> str:
    """A unique message timestamp in Slack's ``seconds.micro`` form."""
    return f"{int(time.time())}.{next(_counter):06d}"


def new_event_id() -> str:
    return "Ev" + uuid.uuid4().hex[:10].upper()


@dataclass(frozen=True)
class Workspace:
    """The ids of the fake workspace, its app and its bot user."""

    team_id: str = "T0FAKE0001"
    app_id: str = "A0APP00001"
    bot_user_id: str = "U0BOT00001"
    bot_id: str = "B0BOT00001"
    user_id: str = "U0USER0001"
    dm_channel: str = "D0DM000001"
    channel: str = "C0CHAN0001"
    agent_channel: str = "C0AGENTS01"  # the support team's channel (handoff pings)
    agent_id: str = "U0AGENT001"
    second_agent_id: str = "U0AGENT002"
    outsider_id: str = "U0OUTSID01"  # a workspace member who is not in the agents' channel
    #: channel -> member user ids (``conversations.members``)
    members: dict[str, list[str]] = field(
        default_factory=lambda: {
            "C0AGENTS01": ["U0BOT00001", "U0AGENT001", "U0AGENT002"],
        }
    )
    #: user id -> (display name, real name) (``users.info``); others are the customer Casey
    people: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {
            "U0AGENT001": ("Dana", "Dana Agent"),
            "U0AGENT002": ("", "Robin Second"),
            "U0OUTSID01": ("Olly", "Olly Outsider"),
        }
    )

    def dm_channel_of(self, user: str) -> str:
        """The bot's DM channel with ``user`` (``conversations.open``)."""
        if user == self.user_id:
            return self.dm_channel
        return "D" + hashlib.sha1(user.encode()).hexdigest()[:9].upper()

    def new_dm_channel(self) -> str:
        """A fresh DM channel id (one customer conversation per test)."""
        return "D" + uuid.uuid4().hex[:9].upper()

    def wrap(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        """An ``event_callback`` body around ``event``."""
        return {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or new_event_id(),
            "event_time": int(time.time()),
            "authed_users": [self.bot_user_id],
            "authorizations": [
                {"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}
            ],
            "is_ext_shared_channel": False,
        }

    def message(
        self,
        text: str,
        *,
        channel: str | None = None,
        channel_type: str = "im",
        thread_ts: str | None = None,
        user: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A ``message`` event (a DM unless ``channel_type`` says otherwise)."""
        ts = new_ts()
        event = {
            "type": "message",
            "user": user or self.user_id,
            "text": text,
            "ts": ts,
            "channel": channel or (self.dm_channel if channel_type == "im" else self.channel),
            "channel_type": channel_type,
            "event_ts": ts,
            "team": self.team_id,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return {**event, **extra}

    def handle(self, user: str) -> str:
        """A user's handle (``name``)."""
        display, real = self.people.get(user, ("Casey", "Casey Customer"))
        return (display or real).split()[0].lower() if user != self.user_id else "customer"

    def mention(self, text: str, *, thread_ts: str | None = None) -> dict[str, Any]:
        """An ``app_mention`` event in a channel: ``<@bot> text``."""
        event = self.message(
            f"<@{self.bot_user_id}> {text}", channel_type="channel", thread_ts=thread_ts
        )
        event["type"] = "app_mention"
        event.pop("channel_type")
        return event

    def slash_command(self, command: str, text: str = "", **extra: str) -> dict[str, str]:
        """The form fields of a slash-command request, as Slack POSTs them
        (``application/x-www-form-urlencoded``), typed in the customer's DM by default."""
        return {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "team_domain": "fake",
            "channel_id": self.dm_channel,
            "channel_name": "directmessage",
            "user_id": self.user_id,
            "user_name": "customer",
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T0FAKE0001/1/fake",
            "trigger_id": f"{next(_counter)}.{uuid.uuid4().hex[:12]}",
            **extra,
        }

    def file_share(self, text: str = "", *, channel_type: str = "im") -> dict[str, Any]:
        """A message with an uploaded file (subtype ``file_share``)."""
        file = {
            "id": "F0FILE0001",
            "name": "bill.pdf",
            "title": "bill.pdf",
            "mimetype": "application/pdf",
            "filetype": "pdf",
            "size": 52331,
            "url_private": "https://files.slack.com/files-pri/T0/bill.pdf",
            "permalink": "https://fake.slack.com/files/U0USER0001/F0FILE0001/bill.pdf",
        }
        return self.message(
            text, channel_type=channel_type, subtype="file_share", files=[file], upload=False
        )

    def bot_message(self, text: str, *, own: bool = False) -> dict[str, Any]:
        """A message posted by a bot (this app's own bot when ``own``)."""
        if own:
            return self.message(text, user=self.bot_user_id, bot_id=self.bot_id)
        event = self.message(text, subtype="bot_message", bot_id="B0OTHER001", username="other-bot")
        event.pop("user")
        return event

    def edit(self, text: str) -> dict[str, Any]:
        """A ``message_changed`` event (an edit)."""
        original = self.message(text + " (before)")
        event = self.message("", subtype="message_changed", hidden=True)
        event.pop("user")
        event["message"] = {**original, "text": text}
        return event

    def block_actions(
        self, posted: dict[str, Any], action: dict[str, Any], *, user: str | None = None
    ) -> dict[str, Any]:
        """The ``block_actions`` payload of a click by ``user`` (default: the customer) on
        ``action`` in the ``posted`` message."""
        message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, **posted}
        channel = posted["channel"]
        user = user or self.user_id
        action_payload = {
            "type": action["type"],
            "action_id": action["action_id"],
            "block_id": action["block_id"],
            "text": action["text"],
            "action_ts": new_ts(),
        }
        if "value" in action:
            action_payload["value"] = action["value"]
        return {
            "type": "block_actions",
            "user": {
                "id": user,
                "username": self.handle(user),
                "name": self.handle(user),
                "team_id": self.team_id,
            },
            "api_app_id": self.app_id,
            "token": "fake-verification-token",
            "container": {
                "type": "message",
                "message_ts": posted["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{next(_counter)}.{uuid.uuid4().hex[:12]}",
            "team": {"id": self.team_id, "domain": "fake"},
            "channel": {
                "id": channel,
                "name": "directmessage" if channel.startswith("D") else "support-agents",
            },
            "message": message,
            "response_url": "https://hooks.slack.com/actions/T0/1/fake",
            "actions": [action_payload],
            "state": {"values": {}},
        }

"""Pure translation of what Slack sends into what Rasa receives (or why it is ignored)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from channels.commands import GREETING, command_text
from channels.slack.config import Scope
from channels.slack.ids import Conversation
from channels.slack.render import BUTTON_ACTION

# Rasa intent for content the bot cannot read (files, images); domain.yml answers it.
UNSUPPORTED_CONTENT = "/unsupported_content"
HANDLED_SUBTYPES = {None, "file_share", "thread_broadcast", "me_message"}
# A /me emote ("/me waves") is a social gesture: answered with the greeting, which asks
# how the bot can help (the emote's words are kept in the metadata).
EMOTE_SUBTYPE = "me_message"
# Slash commands the app registers (channels.commands; declared in channels/slack/manifest.yml).
# /start is Telegram's opening; "/help" is left to Slack's own help.
SLASH_COMMANDS = ("human", "restart", "privacy", "forgetme", "cancel")
_LINK = re.compile(r"<(?P<target>[^<>|]+)(?:\|(?P<label>[^<>]*))?>")
_FILE_FIELDS = ("id", "name", "title", "mimetype", "filetype", "size", "url_private", "permalink")
# Event fields that are strings when present (anything else: a malformed event, ignored)
_STRING_FIELDS = ("type", "subtype", "user", "channel", "channel_type", "ts", "thread_ts", "bot_id")


@dataclass(frozen=True)
class Inbound:
    """A message for Rasa. ``only_if_known``: forward only when the conversation exists
    (a reply in a channel thread continues a conversation, it never starts one)."""

    conversation: Conversation
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    only_if_known: bool = False
    typed: bool = True  # customer text (False: made here, e.g. the marker for files)


@dataclass(frozen=True)
class Ignored:
    """An event the bot deliberately does not answer, and why."""

    reason: str


def delivery_key(body: Mapping[str, Any]) -> str | None:
    """The exactly-once key of a delivery: the ``event_id``, or the click's ``action_ts``."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    actions = body.get("actions")
    if body.get("type") == "block_actions" and isinstance(actions, list) and actions:
        container, action = _mapping(body.get("container")), _mapping(actions[0])
        return f"slack:action:{container.get('message_ts')}:{action.get('action_ts')}"
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one (malformed input reads as absent)."""
    return value if isinstance(value, Mapping) else {}


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack's message text as the customer typed it: the bot's mention removed, links
    ``<url|label>`` as ``label (url)``, entities (``&amp;``) decoded."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", "")

    def link(match: re.Match[str]) -> str:
        target, label = match.group("target"), match.group("label")
        if target.startswith(("@", "#", "!")):
            return label or target
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_LINK.sub(link, text)).strip()


def from_event(
    event: Mapping[str, Any], body: Mapping[str, Any], *, bot_user_id: str | None, scope: Scope
) -> Inbound | Ignored:
    """A ``message`` or ``app_mention`` event as a message for Rasa, or why it is ignored."""
    if any(not isinstance(event.get(name), str | None) for name in _STRING_FIELDS):
        return Ignored("a malformed event (a field of the wrong type)")
    subtype = event.get("subtype")
    if event.get("bot_id") or subtype == "bot_message" or event.get("user") == bot_user_id:
        return Ignored("a bot's message (bots never talk to each other here)")
    if subtype not in HANDLED_SUBTYPES:
        return Ignored(f"message subtype {subtype!r} is not handled (edits, joins, deletions)")
    if not event.get("user") or not event.get("channel"):
        return Ignored("no user or channel in the event")
    channel, ts, thread_ts = event["channel"], event.get("ts"), event.get("thread_ts")
    text = str(event.get("text") or "")
    only_if_known = False
    if event.get("type") == "app_mention":
        conversation = Conversation(channel, thread_ts or ts)
    elif event.get("channel_type") == "im":
        threaded = scope == "per-thread" and thread_ts and thread_ts != ts
        conversation = Conversation(channel, thread_ts if threaded else None)
    elif bot_user_id and f"<@{bot_user_id}>" in text:
        return Ignored("a mention in a channel: answered through its app_mention event")
    elif thread_ts and thread_ts != ts:
        conversation, only_if_known = Conversation(channel, thread_ts), True
    else:
        return Ignored("a channel message not addressed to the bot")
    slack: dict[str, Any] = {
        "team": body.get("team_id") or event.get("team"),
        "user": event["user"],
        "channel": channel,
        "channel_type": event.get("channel_type", "channel"),
        "ts": ts,
        "thread_ts": thread_ts,
        "event_id": body.get("event_id"),
    }
    listed = event.get("files") or []
    files = [
        {k: f[k] for k in _FILE_FIELDS if k in f}
        for f in (listed if isinstance(listed, list) else [])
        if isinstance(f, Mapping)
    ]
    if files:  # kept for the human agent; the bot answers that it cannot read them
        slack.update(files=files, text=plain_text(text, bot_user_id))
        return Inbound(
            conversation, UNSUPPORTED_CONTENT, {"slack": slack}, only_if_known, typed=False
        )
    message = plain_text(text, bot_user_id)
    if subtype == EMOTE_SUBTYPE:
        slack.update(emote=message)
        return Inbound(conversation, GREETING, {"slack": slack}, only_if_known, typed=False)
    if not message and bot_user_id and f"<@{bot_user_id}>" in text:
        slack.update(bare_mention=True)  # only "@bot": the customer says hello
        return Inbound(conversation, GREETING, {"slack": slack}, only_if_known, typed=False)
    if not message:
        return Ignored("an empty message")
    return Inbound(conversation, message, {"slack": slack}, only_if_known)


def from_click(body: Mapping[str, Any]) -> tuple[Inbound, str] | Ignored:
    """A button click as the button's payload for Rasa, with the button's title."""
    actions = body.get("actions")
    action = _mapping(actions[0]) if isinstance(actions, list) and actions else {}
    if not str(action.get("action_id", "")).startswith(BUTTON_ACTION) or "value" not in action:
        return Ignored("not one of the bot's payload buttons (a link button opens by itself)")
    message = _mapping(body.get("message"))
    channel = _mapping(body.get("channel")).get("id") or _mapping(body.get("container")).get(
        "channel_id"
    )
    if not isinstance(channel, str) or not channel:
        return Ignored("a click without a channel")
    if not isinstance(message.get("thread_ts"), str | None):
        return Ignored("a malformed click (a thread of the wrong type)")
    title = str(_mapping(action.get("text")).get("text") or action["value"])
    slack = {
        "team": _mapping(body.get("team")).get("id"),
        "user": _mapping(body.get("user")).get("id"),
        "channel": channel,
        "message_ts": message.get("ts"),
        "thread_ts": message.get("thread_ts"),
        "action": {"action_id": action["action_id"], "title": title, "value": action["value"]},
    }
    conversation = Conversation(channel, message.get("thread_ts"))
    return Inbound(conversation, str(action["value"]), {"slack": slack}, typed=False), title


@dataclass(frozen=True)
class Command:
    """A slash command for Rasa: ``text`` is the adapter's translation (trusted, never what
    the customer typed); the answer goes to the customer's DM with the bot (``user``)."""

    user: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def from_command(body: Mapping[str, Any]) -> Command | Ignored:
    """A slash-command request (``application/x-www-form-urlencoded`` fields) for Rasa."""
    name = str(body.get("command") or "")
    translated = command_text(name)
    if translated is None:
        return Ignored(f"slash command {name!r} is not one of the bot's")
    if not body.get("user_id"):
        return Ignored("a slash command without a user")
    slack = {
        "team": body.get("team_id"),
        "user": body["user_id"],
        "command": name,
        "command_args": str(body.get("text") or "").strip(),
        "invoked_in": body.get("channel_id"),
        "trigger_id": body.get("trigger_id"),
    }
    return Command(str(body["user_id"]), translated, {"slack": slack})

"""Pure translation of Telegram updates into what Rasa receives, and of conversation ids back.

Conversation ids: ``telegram:<chat_id>`` for a private chat, ``telegram:<chat_id>:<user_id>``
for one person in a group, so a proactive message can be routed from the id alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram import BotCommand, Message, MessageEntity, Update

from channels.commands import COMMANDS, command_text

PREFIX = "telegram"
UNSUPPORTED_INTENT = "/unsupported_content"
MAX_COMMAND_ARGS = 200  # characters of a command's arguments kept (a link code is 6)
UNSUPPORTED_RESPONSE = "utter_unsupported_content"
MEDIA_KINDS = (
    "photo",
    "document",
    "voice",
    "audio",
    "video",
    "video_note",
    "sticker",
    "animation",
    "contact",
    "location",
    "dice",  # a rolled die or dart: the same polite reply as a sticker
    "poll",
)
_GROUP_TYPES = {"group", "supergroup"}
_COMMAND = re.compile(
    r"^/(?P<name>[A-Za-z0-9_]{1,32})(?:@(?P<bot>\w+))?(?:\s+(?P<args>.*))?$", re.DOTALL
)


@dataclass(frozen=True)
class Inbound:
    """A customer turn for Rasa."""

    sender_id: str
    text: str
    chat_id: int
    message_id: int | None = None
    unsupported: bool = False
    group: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)
    command: bool = False  # text is a Telegram command translated here, not customer text


def conversation_id(chat_id: int, user_id: int | None, group: bool) -> str:
    """The Rasa sender id for one person in one chat."""
    return (
        f"{PREFIX}:{chat_id}:{user_id}" if group and user_id is not None else f"{PREFIX}:{chat_id}"
    )


def route(sender_id: str) -> int:
    """The chat to answer in, from a conversation id (raises ValueError when not Telegram's)."""
    parts = sender_id.split(":")
    if len(parts) not in (2, 3) or parts[0] != PREFIX:
        raise ValueError(f"not a Telegram conversation id: {sender_id!r}")
    return int(parts[1])


def from_message(message: Message, bot_id: int, username: str) -> Inbound | None:
    """A message as a Rasa turn, or None when the bot should stay silent (groups, no content)."""
    chat, user = message.chat, message.from_user
    group = chat.type in _GROUP_TYPES
    text = message.text or message.caption or ""
    if group and not _addressed(message, text, bot_id, username):
        return None
    sender_id = conversation_id(chat.id, user.id if user else None, group)
    metadata = _metadata(message)
    kind = next((k for k in MEDIA_KINDS if getattr(message, k, None)), None)
    if kind is not None:
        metadata["telegram"]["content"] = _content(message, kind)
        return Inbound(
            sender_id, UNSUPPORTED_INTENT, chat.id, message.message_id, True, group, metadata
        )
    text = _strip_mention(text, username).strip()
    if not text:
        return None
    translated = None
    if command := _COMMAND.match(text):
        if command.group("bot") and command.group("bot").lower() != username.lower():
            return None  # a command for another bot in the group
        metadata["telegram"]["command"] = command.group("name").lower()
        name = command.group("name").lower()
        translated = command_text(name)
        text = translated or text.lstrip("/")
        if command.group("args"):
            metadata["telegram"]["command_args"] = command.group("args")[:MAX_COMMAND_ARGS]
    return Inbound(
        sender_id,
        text,
        chat.id,
        message.message_id,
        False,
        group,
        metadata,
        command=translated is not None,
    )


def bot_commands(responses: Mapping[str, Any] | None) -> list[BotCommand]:
    """The command menu; descriptions from the ``utter_telegram_command_<name>`` responses."""
    commands = []
    for name in COMMANDS:
        variants = (responses or {}).get(f"utter_telegram_command_{name}") or [{}]
        commands.append(BotCommand(name, str(variants[0].get("text") or name)[:256]))
    return commands


def from_callback(update: Update) -> tuple[str, int] | None:
    """(sender id, chat id) of a button press on one of the bot's messages."""
    query = update.callback_query
    if query is None or query.message is None:
        return None
    chat = query.message.chat
    return conversation_id(chat.id, query.from_user.id, chat.type in _GROUP_TYPES), chat.id


def chosen_title(update: Update) -> str | None:
    """The label of the pressed button, read from the message's keyboard."""
    query = update.callback_query
    message = query.message if query else None
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == query.data:  # type: ignore[union-attr]
                return str(button.text)
    return None


def _addressed(message: Message, text: str, bot_id: int, username: str) -> bool:
    """In a group: mentioned by @username (or text mention) or replying to the bot."""
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return True
    entities = message.entities or message.caption_entities or ()
    for entity in entities:
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return bool(username) and re.search(rf"@{re.escape(username)}\b", text, re.I) is not None


def _strip_mention(text: str, username: str) -> str:
    if not username:
        return text
    if _COMMAND.match(text.strip()):
        return text  # "/help@bot" keeps its command form
    return re.sub(rf"@{re.escape(username)}\b", "", text, flags=re.IGNORECASE)


def _metadata(message: Message) -> dict[str, Any]:
    user = message.from_user
    return {
        "telegram": {
            "chat_id": message.chat.id,
            "chat_type": str(message.chat.type),
            "message_id": message.message_id,
            "user": {
                "id": user.id,
                "username": user.username,
                "first_name": user.first_name,
                "language_code": user.language_code,
            }
            if user
            else None,
        }
    }


def _content(message: Message, kind: str) -> dict[str, Any]:
    """What the customer sent, for a human agent (ids and sizes, never the file itself)."""
    item: Any = getattr(message, kind)
    if kind == "photo":
        item = item[-1]  # the largest size
    data = item.to_dict() if hasattr(item, "to_dict") else {}
    keep = (
        "file_id",
        "file_unique_id",
        "file_name",
        "mime_type",
        "file_size",
        "duration",
        "width",
        "height",
        "emoji",
        "set_name",
        "phone_number",
        "latitude",
        "longitude",
        "value",
        "question",
    )
    content = {"type": kind, **{k: data[k] for k in keep if k in data}}
    if message.caption:
        content["caption"] = message.caption
    return content

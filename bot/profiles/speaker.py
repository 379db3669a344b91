"""Who wrote a message, from the conversation id and the metadata the adapters send, and
whether the chat is private (only then may the bot use what it knows about them).

- Telegram (channels/telegram/inbound.py): ``telegram:<chat>`` is a private chat with the
  user whose id equals the chat id; ``telegram:<chat>:<user>`` is one person in a group.
  The name is ``metadata["telegram"]["user"]["first_name"]`` (button presses carry none).
- Slack (channels/slack): the author is ``metadata["slack"]["user"]`` and the name
  ``metadata["user_name"]``. Only a DM (channel ``D...``, ``channel_type`` ``im`` when
  given) is private; channel mentions, threads and group DMs are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Speaker:
    """The author of a message: ``identity`` (``slack:U123``, ``telegram:42``; None when
    unknown), the platform's display name, and whether the chat is one-to-one with them."""

    identity: str | None
    name: str = ""
    private: bool = False


def speaker_of(conversation_id: str, metadata: Mapping[str, Any] | None) -> Speaker:
    """The speaker of a message in ``conversation_id`` carrying ``metadata``."""
    metadata = metadata or {}
    channel, _, rest = conversation_id.partition(":")
    if channel == "telegram":
        return _telegram(rest.split(":"), metadata.get("telegram") or {})
    if channel == "slack":
        return _slack(rest.split(":")[0], metadata)
    return Speaker(None)


def _telegram(parts: list[str], telegram: Mapping[str, Any]) -> Speaker:
    user = telegram.get("user") or {}
    name = str(user.get("first_name") or "")
    if len(parts) == 2 and parts[1].lstrip("-").isdigit():
        return Speaker(f"telegram:{int(parts[1])}", name, private=False)
    if len(parts) != 1 or not parts[0].lstrip("-").isdigit():
        return Speaker(None)
    chat = int(parts[0])
    author = user.get("id")
    chat_type = telegram.get("chat_type")
    private = (
        chat > 0 and chat_type in (None, "private") and (author is None or int(author) == chat)
    )
    return Speaker(f"telegram:{chat}", name, private) if private else Speaker(None)


def _slack(channel: str, metadata: Mapping[str, Any]) -> Speaker:
    slack = metadata.get("slack") or {}
    user = str(slack.get("user") or "")
    if not user:
        return Speaker(None)
    name = str(metadata.get("user_name") or "")
    private = channel.startswith("D") and slack.get("channel_type") in (None, "im")
    if slack.get("channel") not in (None, channel):
        private = False
    return Speaker(f"slack:{user}", name, private)

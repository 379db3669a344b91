"""What a customer sent that the bot cannot read (a file, photo, voice note), in words for
the agents: the channel's own reference (a Slack link, a Telegram file id), never the bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Telegram's media kinds as people say them (others: the kind itself).
KIND_WORDS = {"voice": "voice note", "video_note": "video message", "animation": "GIF"}
#: The intent channels give a message with a file, photo, voice note or sticker.
UNSUPPORTED_INTENT = "unsupported_content"


def describe_attachments(metadata: Mapping[str, Any]) -> str:
    """One line per attachment with its name/kind and a link or file reference."""
    lines = [_slack_file(f) for f in (metadata.get("slack") or {}).get("files") or []]
    content = (metadata.get("telegram") or {}).get("content")
    if content:
        lines.append(_telegram_content(content))
    caption = (metadata.get("slack") or {}).get("text") or (content or {}).get("caption")
    if caption:
        lines.append(f"with the words: {caption}")
    return "\n".join(lines) or "📎 an attachment the channel did not describe"


def _slack_file(file: Mapping[str, Any]) -> str:
    name = file.get("name") or file.get("title") or "a file"
    kind = file.get("mimetype") or file.get("filetype") or ""
    link = file.get("permalink") or file.get("url_private") or f"file id {file.get('id', '?')}"
    return f"📎 {name}{f' ({kind})' if kind else ''}: {link}"


def _telegram_content(content: Mapping[str, Any]) -> str:
    kind = str(content.get("type") or "attachment")
    kind = KIND_WORDS.get(kind, kind)
    details = [
        str(content[key])
        for key in ("file_name", "mime_type", "emoji", "phone_number")
        if content.get(key)
    ]
    if content.get("duration"):
        details.append(f"{content['duration']} s")
    if content.get("latitude") is not None and content.get("longitude") is not None:
        details.append(f"at {content['latitude']}, {content['longitude']}")
    reference = f"Telegram file id {content['file_id']}" if content.get("file_id") else ""
    described = f"📎 a {kind}" + (f" ({', '.join(details)})" if details else "")
    return f"{described}: {reference}" if reference else described

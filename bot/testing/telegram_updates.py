"""Builders for the Updates a customer produces: texts, commands, button presses, media."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

_MENTION_OR_COMMAND = re.compile(r"(?<!\S)(@\w+|/\w+(?:@\w+)?)")
GROUP_ID = -1001234567890


class UpdateFactory:
    """Makes spec-shaped Update dicts with increasing ``update_id``s.

    Positive chat ids are private chats with the user of the same id; negative ones are
    supergroups.
    """

    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user
        self._update_ids = itertools.count(500000)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    @staticmethod
    def user(user_id: int) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"Customer{user_id}",
            "username": f"customer{user_id}",
            "language_code": "en",
        }

    @staticmethod
    def chat_of(chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"Customer{chat_id}"}
        return {"id": chat_id, "type": "supergroup", "title": "Lumen customers"}

    def update(self, **content: Any) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), **content}

    def message(
        self,
        *,
        user_id: int,
        chat_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """A Message object (not yet an Update)."""
        message = {
            "message_id": next(self._message_ids),
            "from": self.user(user_id),
            "date": int(time.time()),
            "chat": self.chat_of(chat_id or user_id),
            **content,
        }
        if reply_to is not None:
            message["reply_to_message"] = {
                k: v
                for k, v in reply_to.items()
                if k not in {"html", "photo_url"} and v is not None
            }
        return message

    def text(
        self,
        text: str,
        *,
        user_id: int,
        chat_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A text message Update, with the mention and command entities Telegram adds."""
        entities = [
            {
                "type": "mention" if m.group(1)[0] == "@" else "bot_command",
                "offset": _utf16_len(text[: m.start(1)]),
                "length": _utf16_len(m.group(1)),
            }
            for m in _MENTION_OR_COMMAND.finditer(text)
        ]
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self.update(
            message=self.message(user_id=user_id, chat_id=chat_id, reply_to=reply_to, **content)
        )

    def callback(self, message: dict[str, Any], data: str, *, user_id: int) -> dict[str, Any]:
        """A press on an inline button of ``message`` (as sent by the bot)."""
        public = {
            k: v for k, v in message.items() if k not in {"html", "photo_url"} and v is not None
        }
        return self.update(
            callback_query={
                "id": str(next(self._query_ids)),
                "from": self.user(user_id),
                "message": public,
                "chat_instance": f"ci{message['chat']['id']}",
                "data": data,
            }
        )

    def photo(
        self, *, user_id: int, chat_id: int | None = None, caption: str | None = None
    ) -> dict[str, Any]:
        sizes = [
            {
                "file_id": f"photo-{w}",
                "file_unique_id": f"u-photo-{w}",
                "width": w,
                "height": w,
                "file_size": w * 100,
            }
            for w in (90, 320, 1280)
        ]
        extra: dict[str, Any] = {"caption": caption} if caption else {}
        return self.update(
            message=self.message(user_id=user_id, chat_id=chat_id, photo=sizes, **extra)
        )

    def sticker(self, *, user_id: int, chat_id: int | None = None) -> dict[str, Any]:
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "u-sticker-1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self.update(message=self.message(user_id=user_id, chat_id=chat_id, sticker=sticker))

    def voice(self, *, user_id: int, chat_id: int | None = None) -> dict[str, Any]:
        voice = {
            "file_id": "voice-1",
            "file_unique_id": "u-voice-1",
            "duration": 7,
            "mime_type": "audio/ogg",
            "file_size": 12345,
        }
        return self.update(message=self.message(user_id=user_id, chat_id=chat_id, voice=voice))

    def document(self, *, user_id: int, chat_id: int | None = None) -> dict[str, Any]:
        document = {
            "file_id": "doc-1",
            "file_unique_id": "u-doc-1",
            "file_name": "bill.pdf",
            "mime_type": "application/pdf",
            "file_size": 54321,
        }
        return self.update(
            message=self.message(user_id=user_id, chat_id=chat_id, document=document)
        )


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2

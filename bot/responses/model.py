"""The channel-neutral reply: what the bot says, before any channel renders it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Button:
    """A choice: sends ``payload`` back to the bot, or opens ``url``."""

    title: str
    payload: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    """One bot message: text in light markdown, buttons, an optional image, custom data."""

    text: str = ""
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    custom: dict[str, Any] | None = field(default=None)

    @classmethod
    def from_rasa(cls, message: Mapping[str, Any]) -> Reply:
        """From what Rasa hands an output channel (text, buttons, quick_replies, image, custom)."""
        raw_buttons = [*(message.get("buttons") or []), *(message.get("quick_replies") or [])]
        buttons = tuple(
            Button(
                title=str(b.get("title") or b.get("payload") or b.get("url") or ""),
                payload=b.get("payload"),
                url=b.get("url"),
            )
            for b in raw_buttons
            if isinstance(b, Mapping)
        )
        custom = message.get("custom") or message.get("json_message") or message.get("attachment")
        return cls(
            text=str(message.get("text") or ""),
            buttons=buttons,
            image=message.get("image"),
            custom=dict(custom) if isinstance(custom, Mapping) else None,
        )

    def sealed(self, seal: Callable[[str], str]) -> Reply:
        """This reply with the payload of every button that sends one (its title when it has
        no payload) passed through ``seal`` (:mod:`bot.inbound.seal`); link buttons unchanged."""
        buttons = tuple(
            button
            if button.url and not button.payload
            else replace(button, payload=seal(button.payload or button.title))
            for button in self.buttons
        )
        return replace(self, buttons=buttons)

    def to_rasa(self) -> dict[str, Any]:
        """Back into Rasa's message dict (the REST channel's shape)."""
        message: dict[str, Any] = {}
        if self.text:
            message["text"] = self.text
        if self.buttons:
            message["buttons"] = [
                {k: v for k, v in (("title", b.title), ("payload", b.payload), ("url", b.url)) if v}
                for b in self.buttons
            ]
        if self.image:
            message["image"] = self.image
        if self.custom:
            message["custom"] = self.custom
        return message

"""The customer-text gate: what a customer types is data, never a command.

Every channel adapter passes customer input through one of two functions before Rasa:

- :func:`typed`: text the customer typed. It is bounded (a polite reply for longer text,
  before NLU), secrets in it are masked before anything stores it, and a leading ``/`` can
  never reach Rasa's ``/intent{entities}`` shortcut: only the commands in
  :data:`CUSTOMER_COMMANDS` may be typed that way, without entities; anything else loses
  its slashes and is read as ordinary text.
- :func:`pressed`: a button press. Only a payload the bot sealed for this conversation
  (:mod:`bot.inbound.seal`) reaches Rasa as a payload; anything else is answered as an
  expired button.

Commands an adapter translates from the platform's own command mechanism (Telegram's
``/start``, Slack's slash commands) are the adapter's output, not customer text, and go
to Rasa as they are (:func:`command`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.inbound.limits import MAX_MESSAGE_CHARS
from bot.inbound.seal import PayloadSeal
from bot.safety.secrets import mask_secrets

#: Intents a customer may trigger by typing ``/name`` (no entities): the commands the docs
#: promise. Everything else that looks like ``/intent`` is read as text.
CUSTOMER_COMMANDS = frozenset(
    {
        "greet",
        "restart",
        "human_handoff",
        "chitchat_capabilities",
        "privacy",
        "forget_me",
        "link_account",
        "unlink_account",
        "handoff_cancel",
    }
)
#: What Rasa receives for a message over the size limit (domain.yml answers it).
TOO_LONG = "/message_too_long"
#: What Rasa receives for a press of a button the bot did not send to this conversation.
BUTTON_EXPIRED = "/button_expired"
#: The metadata key under which the gate says what it did (docs/events.md).
METADATA_KEY = "inbound"
#: The metadata key listing the kinds of secret masked out of the text (bot.safety).
MASKED_KEY = "masked_secrets"

_COMMAND = re.compile(r"/(?P<name>[A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Turn:
    """What Rasa receives for one customer input, and the metadata the gate adds."""

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def merged(self, metadata: dict[str, Any] | None) -> dict[str, Any]:
        """The adapter's ``metadata`` with the gate's added (the gate's win)."""
        return {**(metadata or {}), **self.metadata}


def typed(text: str, limit: int = MAX_MESSAGE_CHARS) -> Turn:
    """A message the customer typed, as Rasa may receive it."""
    if len(text) > limit:
        return Turn(TOO_LONG, {METADATA_KEY: {"typed": True, "too_long": len(text)}})
    masked = mask_secrets(text)
    notes: dict[str, Any] = {"typed": True}
    metadata: dict[str, Any] = {METADATA_KEY: notes}
    if masked.kinds:
        metadata[MASKED_KEY] = list(masked.kinds)
    safe = as_text(masked.text)
    if safe != masked.text.strip():
        notes["command_as_text"] = True
    return Turn(safe, metadata)


def as_text(text: str) -> str:
    """``text`` with any leading ``/`` removed unless it is exactly an allowed command."""
    stripped = text.strip()
    match = _COMMAND.fullmatch(stripped)
    if match and match.group("name") in CUSTOMER_COMMANDS:
        return stripped
    while stripped.startswith("/"):  # Rasa strips, then looks for "/"
        stripped = stripped[1:].strip()
    return stripped


def pressed(seal: PayloadSeal, conversation_id: str, value: str) -> Turn:
    """A pressed button's value: its payload when the bot sealed it for this conversation."""
    payload = seal.open(conversation_id, value)
    if payload is None:
        return Turn(BUTTON_EXPIRED, {METADATA_KEY: {"pressed": True, "refused": True}})
    return Turn(payload, {METADATA_KEY: {"pressed": True}})


def command(text: str) -> Turn:
    """A command the adapter translated from the platform's command mechanism."""
    return Turn(text, {METADATA_KEY: {"command": True}})

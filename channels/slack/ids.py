"""Conversation ids: the Rasa sender id says where to answer, so proactive messages work."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "slack"


@dataclass(frozen=True)
class Conversation:
    """A Slack channel (DM or channel) and, for threaded conversations, the thread's root ts."""

    channel: str
    thread_ts: str | None = None

    @property
    def sender_id(self) -> str:
        """``slack:<channel>`` or ``slack:<channel>:<thread_ts>``."""
        return f"{PREFIX}:{self.channel}" + (f":{self.thread_ts}" if self.thread_ts else "")


def parse_sender_id(sender_id: str) -> Conversation:
    """The inverse of :attr:`Conversation.sender_id`; ValueError for ids of other channels."""
    prefix, _, rest = sender_id.partition(":")
    channel, _, thread_ts = rest.partition(":")
    if prefix != PREFIX or not channel:
        raise ValueError(f"not a Slack conversation id: {sender_id!r}")
    return Conversation(channel, thread_ts or None)

"""The /privacy report: everything the bot keeps about a customer, one line each, in the
words of the ``utter_privacy_*`` responses (domain.yml)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.profiles.model import Level, Profile

#: ``text(response)``: the text of a domain response (its first variant).
Texts = Callable[[str], str]


def day(at: datetime) -> str:
    """``3 March 2026``."""
    return f"{at.day} {at:%B %Y}"


def report_lines(
    profile: Profile,
    level: Level,
    text: Texts,
    topic_title: str | None = None,
    open_ticket: int | None = None,
) -> list[str]:
    """The report: the intro, a name per channel, first visit, number of conversations,
    last topic and open request (when there are), the level in use and the chat history."""
    lines = [text("utter_privacy_report_intro")]
    for identity in profile.identities:
        if identity.display_name:
            line = text("utter_privacy_line_name")
            lines.append(
                line.format(channel=identity.channel.capitalize(), value=identity.display_name)
            )
    values: list[tuple[str, object]] = [
        ("utter_privacy_line_first_seen", day(profile.first_seen)),
        ("utter_privacy_line_conversations", profile.conversations),
    ]
    if topic_title:
        values.append(("utter_privacy_line_last_topic", topic_title))
    if open_ticket is not None:
        values.append(("utter_privacy_line_ticket", open_ticket))
    values.append(("utter_privacy_line_level", text(f"utter_personalisation_level_{level.value}")))
    lines += [text(response).format(value=value) for response, value in values]
    lines.append(text("utter_privacy_line_history"))
    return lines

"""The /privacy report shows everything stored, in the designers' words; forget-me only
acts on a confirmation of the question it just asked."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from bot.privacy.report import report_lines
from bot.privacy.turns import asked_right_before
from bot.profiles.model import Identity, Level, Profile

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[1] / "domain.yml").read_text())
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def text(response: str) -> str:
    return str(DOMAIN["responses"][response][0]["text"])


def test_the_report_lists_every_stored_fact_in_domain_words() -> None:
    profile = Profile(
        "p1",
        (Identity("slack:U1", "Casey", T0), Identity("telegram:42", "Cas", T0)),
        T0,
        T0,
        4,
        "billing",
        Level.NAME,
    )
    lines = report_lines(profile, Level.NAME, text, "Billing and payments", 12)
    assert lines == [
        "Here's everything I keep about you:",
        "- Your name on Slack: Casey",
        "- Your name on Telegram: Cas",
        "- We first talked on: 2 March 2026",
        "- Conversations with me: 4",
        "- What we talked about last: Billing and payments",
        "- Open request to our support team: ticket 12",
        "- Personalisation: your name only",
        "- The history of our chats, and your requests to our support team",
    ]


def test_the_report_leaves_out_what_is_not_stored() -> None:
    profile = Profile("p1", (Identity("telegram:42", "", T0),), T0, T0, 1, None, None)
    assert report_lines(profile, Level.FULL, text) == [
        "Here's everything I keep about you:",
        "- We first talked on: 2 March 2026",
        "- Conversations with me: 1",
        "- Personalisation: " + text("utter_personalisation_level_full"),
        "- The history of our chats, and your requests to our support team",
    ]


def turn(*events: dict[str, Any]) -> list[dict[str, Any]]:
    return list(events)


ASKED = {
    "event": "bot",
    "text": "Do you want me to forget you?",
    "metadata": {"utter_action": "utter_ask_forget_me"},
}
USER = {"event": "user", "text": "/forget_me_confirm"}


def test_a_confirmation_counts_only_right_after_the_question() -> None:
    assert asked_right_before(turn(USER, ASKED, USER), "utter_ask_forget_me")
    later = {"event": "bot", "text": "Okay.", "metadata": {"utter_action": "utter_deny_ack"}}
    assert not asked_right_before(turn(ASKED, USER, later, USER), "utter_ask_forget_me")
    assert not asked_right_before(turn(USER), "utter_ask_forget_me")  # typed without asking
    assert not asked_right_before(turn(ASKED), "utter_ask_forget_me")  # no answer yet

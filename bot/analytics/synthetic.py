"""Generated conversations whose KPIs are known by construction (tests and the benchmark).

:func:`generate` cycles through ten kinds of conversation (docs/analytics.md lists what
each cycle of ten adds to the KPIs). Events are Rasa event dictionaries, exactly as
``Event.as_dict()`` produces them and ``SQLTrackerStore`` stores them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Paraphrases of questions the FAQ does not cover (they become fallback turns).
UNANSWERED = (
    ("can i pause my contract while i'm abroad", "how do i suspend my plan when travelling"),
    ("do you offer a discount for students", "is there a student discount on broadband"),
    ("can i get a static ip address", "how do i request a fixed ip"),
)


@dataclass
class ConversationBuilder:
    """Appends Rasa events for one session of one sender, with a moving clock."""

    sender_id: str
    channel: str
    at: float
    events: list[dict[str, Any]] = field(default_factory=list)

    def _add(self, event: dict[str, Any], after: float) -> dict[str, Any]:
        self.at += after
        event["timestamp"] = self.at
        self.events.append(event)
        return event

    def action(self, name: str, after: float = 0.0) -> None:
        self._add(
            {
                "event": "action",
                "name": name,
                "policy": None,
                "confidence": None,
                "action_text": None,
                "hide_rule_turn": False,
            },
            after,
        )

    def session(self) -> ConversationBuilder:
        """Rasa's session start: ``action_session_start``, ``session_started``, listen."""
        self.action("action_session_start")
        self._add({"event": "session_started"}, 0.0)
        self.action("action_listen")
        return self

    def user(
        self,
        text: str,
        *,
        intent: str = "faq",
        topic: str = "other",
        sentiment: float = 0.0,
        faq: str | None = None,
        confidence: float = 0.92,
        after: float = 5.0,
    ) -> None:
        """A customer message with the parse data the project's NLU adds."""
        parse: dict[str, Any] = {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": text,
            "message_id": f"m{len(self.events)}",
            "metadata": {},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
            "sentiment": {"label": _label(sentiment), "score": sentiment, "irony": False},
            "topic": topic,
            "urgency": 0.8 if sentiment < -0.5 else 0.2,
        }
        if faq:
            key = f"faq/{faq}"
            parse["response_selector"] = {
                "faq": {
                    "response": {
                        "intent_response_key": key,
                        "confidence": confidence,
                        "utter_action": f"utter_{key}",
                        "responses": [{"text": "..."}],
                    }
                }
            }
        self._add(
            {
                "event": "user",
                "text": text,
                "parse_data": parse,
                "input_channel": self.channel,
                "message_id": parse["message_id"],
                "metadata": {},
            },
            after,
        )

    def bot(self, text: str, after: float = 1.0, **metadata: Any) -> None:
        """A bot message (``utter_action=...``) or, with ``source="agent"``, an agent's."""
        self._add(
            {
                "event": "bot",
                "text": text,
                "metadata": metadata,
                "data": {
                    "elements": None,
                    "quick_replies": None,
                    "buttons": None,
                    "attachment": None,
                    "image": None,
                    "custom": None,
                },
            },
            after,
        )

    def slot(self, name: str, value: Any, after: float = 1.0, **metadata: Any) -> None:
        self._add({"event": "slot", "name": name, "value": value, "metadata": metadata}, after)

    def answer(self, faq: str, after: float = 1.0) -> None:
        self.action("utter_faq", after)
        self.bot(f"(answer {faq})", after=0.0, utter_action=f"utter_faq/{faq}")

    def escalate(self, ticket: str, reason: str, after: float = 1.0) -> None:
        self.slot(
            "handoff_state", "queued", after, ticket_id=ticket, reason=reason, at=self.at + after
        )
        self._add({"event": "pause"}, 0.0)

    def claim(self, ticket: str, agent: dict[str, str], after: float) -> None:
        self.slot("handoff_state", "claimed", after, ticket_id=ticket, agent=agent)

    def agent_says(self, text: str, ticket: str, agent: dict[str, str], after: float) -> None:
        self.bot(text, after, source="agent", agent=agent, ticket_id=ticket)

    def resolve(self, ticket: str, agent: dict[str, str], after: float) -> None:
        self.slot("handoff_state", "resolved", after, ticket_id=ticket, agent=agent)
        self._add({"event": "resume"}, 0.0)


def _label(score: float) -> str:
    return "positive" if score > 0.05 else "negative" if score < -0.05 else "neutral"


ALICE = {"id": "a1", "name": "Alice Martin"}
BOB = {"id": "a2", "name": "Bob Okafor"}


def _kind(i: int, start: float) -> ConversationBuilder:  # noqa: PLR0915 - one scenario per kind
    kind, n = i % 10, i
    ticket = f"T{n}"
    if kind == 0:
        b = ConversationBuilder(f"slack:C0:{n}", "slack", start).session()
        b.user("how do i pay my bill", topic="billing", sentiment=0.5, faq="pay_bill")
        b.answer("pay_bill")
        b.bot("Did that solve it?", utter_action="utter_ask_resolved")
        b.user("yes thanks", intent="affirm", sentiment=0.75, after=12.0)
        b.slot("resolution", "confirmed", faq_id="pay_bill")
        b.slot("csat_score", 5, after=9.0, resolved_by="bot")
    elif kind == 1:
        b = ConversationBuilder(f"telegram:{n}", "telegram", start).session()
        b.user("my wifi keeps dropping", topic="technical", sentiment=0.0, faq="wifi_drops")
        b.answer("wifi_drops")
    elif kind == 2:
        b = ConversationBuilder(f"web-{n}", "rest", start).session()
        b.user(
            "why is my bill so high", topic="billing", sentiment=-0.5, faq="bill_higher_than_usual"
        )
        b.answer("bill_higher_than_usual")
        b.user("no", intent="deny", sentiment=-0.25, after=23.0)
        b.slot("resolution", "not_resolved", faq_id="bill_higher_than_usual")
        b.escalate(ticket, "requested")
        b.claim(ticket, ALICE, after=120.0)
        b.agent_says("Hi, Alice here. Let me look at your bill.", ticket, ALICE, after=30.0)
        b.user("my email is jo@example.com", intent="inform", sentiment=0.0, after=20.0)
        b.resolve(ticket, ALICE, after=430.0)
        b.slot("csat_score", 4, after=60.0, resolved_by="agent", ticket_id=ticket)
    elif kind == 3:
        first, second = UNANSWERED[(n // 10) % len(UNANSWERED)]
        b = ConversationBuilder(f"slack:C3:{n}", "slack", start).session()
        b.user(first, intent="nlu_fallback", sentiment=-0.25, confidence=0.31)
        b.action("action_clarify", 1.0)
        b.bot("Did you mean ...?", after=0.0, utter_action="utter_clarify")
        b.user(second, intent="nlu_fallback", sentiment=-0.5, confidence=0.27, after=20.0)
        b.escalate(ticket, "low_confidence")
        b.slot("handoff_state", "abandoned", after=900.0, ticket_id=ticket)
    elif kind == 4:  # the sender of kind 0 comes back: that conversation reopens
        b = ConversationBuilder(f"slack:C0:{n - 4}", "slack", start).session()
        b.user("how do i set up direct debit", topic="billing", sentiment=0.25, faq="direct_debit")
        b.answer("direct_debit")
        b.user("great", intent="affirm", sentiment=0.5, after=10.0)
        b.slot("resolution", "confirmed", faq_id="direct_debit")
    elif kind == 5:
        b = ConversationBuilder(f"telegram:{n}", "telegram", start).session()
        b.user("i cant get into my thing", intent="nlu_fallback", sentiment=-0.25, confidence=0.4)
        b.action("action_clarify", 1.0)
        b.bot("Did you mean ...?", after=0.0, utter_action="utter_clarify")
        b.user("reset password", topic="account", sentiment=0.0, faq="reset_password", after=15.0)
        b.answer("reset_password")
    elif kind == 6:
        b = ConversationBuilder(f"slack:C6:{n}", "slack", start).session()
        b.user("internet down all day, ridiculous", topic="outages", sentiment=-0.75, faq="outage")
        b.answer("outage")
        b.escalate(ticket, "negative_sentiment", after=3.0)
        b.claim(ticket, BOB, after=300.0)
        b.agent_says("Bob here, checking the line now.", ticket, BOB, after=20.0)
        b.resolve(ticket, BOB, after=880.0)
    elif kind == 7:
        b = ConversationBuilder(f"web-{n}", "rest", start).session()
        b.user("what plans do you have", topic="plans", sentiment=0.25, faq="compare_plans")
        b.answer("compare_plans")
        b.slot("csat_score", 2, after=30.0, resolved_by="bot")
    elif kind == 8:
        b = ConversationBuilder(f"telegram:{n}", "telegram", start).session()
        b.user("router lights blinking red", topic="technical", sentiment=-0.5, faq="router_lights")
        b.answer("router_lights")
        b.user("i want a person", intent="human_handoff", sentiment=-0.75, after=15.0)
        b.escalate(ticket, "requested")
        b.slot("handoff_state", "expired", after=3600.0, ticket_id=ticket)
    else:
        b = ConversationBuilder(f"web-{n}", "rest", start).session()
        b.user("hello", intent="greet", sentiment=0.5)
        b.action("utter_greet", 1.0)
        b.bot("Hi! How can I help?", after=0.0, utter_action="utter_greet")
    b.action("action_listen", 0.5)
    return b


def generate(
    count: int, start: float, step: float = 600.0
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """``count`` conversations, one every ``step`` seconds from ``start``: (sender, events)."""
    for i in range(count):
        built = _kind(i, start + i * step)
        yield built.sender_id, built.events

"""Slack agents without Rasa: the ping's rendering, the translation of agents' clicks and
thread replies, and the notifier and agent adapter against the fake Slack (fast)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.store import SqliteDeliveryStore
from bot.handoff.agent_posts import AgentPosts
from bot.handoff.desk import Agent, NotTicketOwner
from bot.handoff.priority import PriorityWeights
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.tickets import (
    ClaimResult,
    EscalationReason,
    NewTicket,
    Ticket,
    TicketState,
    Turn,
)
from bot.testing.slack_spec import block_kit_violations
from channels.slack.agent_desk import SlackAgents, agent_click, agent_message, display_name
from channels.slack.agent_render import (
    CLAIM_ACTION,
    FORGOTTEN_TEXT,
    RESOLVE_ACTION,
    PingRef,
    agent_mrkdwn,
    duration_words,
    parse_ping_ref,
    ping_message,
    reminder_text,
    sentiment_words,
)
from channels.slack.agents import SlackAgentNotifier, notifier_from_env
from channels.slack.inbound import Ignored
from channels.slack.render import ZWSP

if TYPE_CHECKING:
    from bot.handoff.service import HandoffServices
    from bot.testing.fake_slack import FakeSlack

AGENTS = "C0AGENTS01"
OPENED = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


def a_ticket(**changes: Any) -> Ticket:
    ticket = Ticket(
        id=7,
        conversation_id="slack:D0DM000001",
        channel="slack",
        reason=EscalationReason.REQUESTED,
        customer_name="<!channel> *Eve* & co",
        topic="billing",
        summary="Requested. First asked: “why is my bill <@U0BOSS> so high?”",
        last_turns=(
            Turn("customer", "why is my bill so high? <https://evil|click>", OPENED),
            Turn("bot", "Here is how billing works ...", OPENED),
        ),
        sentiment=-0.45,
        urgency=0.2,
        tier="standard",
        state=TicketState.QUEUED,
        priority=10.0,
        created_at=OPENED,
        ping_ref=f"slack:{AGENTS}:1700000000.000100",
    )
    return replace(ticket, **changes)


def all_mrkdwn(message: dict[str, Any]) -> str:
    """The notification text and every mrkdwn text of a message (plain_text, as in the
    header and buttons, is never parsed by Slack)."""
    found = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node.get("text")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks"))
    return "\n".join(found)


# --- rendering -----------------------------------------------------------------------


def test_the_ping_shows_the_ticket_and_escapes_what_customers_wrote() -> None:
    message = ping_message(a_ticket(), OPENED + timedelta(minutes=4))
    assert block_kit_violations("chat.postMessage", message["blocks"]) == []
    text = all_mrkdwn(message).replace(ZWSP, "")
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<@U0BOSS>" not in text and "<https://evil|click>" not in text
    fields = [f["text"] for f in message["blocks"][1]["fields"]]
    assert fields[3] == "*Sentiment*\nnegative (-0.45)"
    assert fields[2] == "*Topic*\nbilling" and fields[5] == "*Reason*\nrequested"
    assert "Waiting for an agent (4 min)" in text
    [row] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in row["elements"]] == [
        (CLAIM_ACTION, "7"),
        (RESOLVE_ACTION, "7"),
    ]
    assert "*Customer:*" in text and "*Bot:*" in text


def test_the_ping_follows_the_ticket_state() -> None:
    claimed = a_ticket(
        state=TicketState.CLAIMED,
        claimed_by="slack:U0AGENT001",
        claimed_at=OPENED + timedelta(minutes=65),
    )
    message = ping_message(claimed)
    assert "Claimed by <@U0AGENT001> (after waiting 1 h 5 min)" in all_mrkdwn(message)
    [row] = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in row["elements"]] == [RESOLVE_ACTION]
    resolved = replace(claimed, state=TicketState.RESOLVED, resolved_at=OPENED + timedelta(hours=2))
    message = ping_message(resolved)
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
    assert "Resolved by <@U0AGENT001>" in all_mrkdwn(message)
    assert "[resolved]" in message["text"]
    by_cli = ping_message(replace(claimed, claimed_by="cli:sam"))
    assert "Claimed by sam" in all_mrkdwn(by_cli)


def test_words_for_numbers() -> None:
    assert [sentiment_words(s).split(" (")[0] for s in (-0.9, -0.3, 0, 0.3, 0.8)] == [
        "very negative",
        "negative",
        "neutral",
        "positive",
        "very positive",
    ]
    assert [duration_words(timedelta(seconds=s)) for s in (10, 300, 3600, 90000)] == [
        "just now",
        "5 min",
        "1 h",
        "1 d 1 h",
    ]
    assert agent_mrkdwn("slack:U0AGENT001") == "<@U0AGENT001>"
    assert agent_mrkdwn("slack:<!here>") == "&lt;!here&gt;"
    assert "<!here>" in reminder_text(a_ticket(), OPENED + timedelta(minutes=12), "here")
    assert "12 min" in reminder_text(a_ticket(), OPENED + timedelta(minutes=12))


def test_ping_references() -> None:
    ref = PingRef(AGENTS, "1700000000.000100")
    assert parse_ping_ref(str(ref)) == ref
    assert parse_ping_ref("telegram:-100:42") is None
    assert parse_ping_ref(None) is None and parse_ping_ref("slack:C1") is None


# --- translation of agents' actions --------------------------------------------------


def click_body(channel: str, action_id: str = CLAIM_ACTION, value: str = "7") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U0AGENT001"},
        "container": {"type": "message", "message_ts": "1700.1", "channel_id": channel},
        "channel": {"id": channel},
        "message": {"ts": "1700.1"},
        "actions": [{"action_id": action_id, "value": value, "action_ts": "1.2"}],
    }


def test_handoff_clicks_count_only_in_the_agents_channel() -> None:
    click = agent_click(click_body(AGENTS), AGENTS)
    assert not isinstance(click, Ignored)
    assert (click.user, click.action, click.ticket_id) == ("U0AGENT001", "claim", 7)
    assert click.ping == PingRef(AGENTS, "1700.1")
    assert isinstance(agent_click(click_body("D0DM000001"), AGENTS), Ignored)
    assert isinstance(agent_click(click_body(AGENTS, value="seven"), AGENTS), Ignored)
    assert isinstance(agent_click(click_body(AGENTS, "rasa_button:0"), AGENTS), Ignored)
    resolve = agent_click(click_body(AGENTS, RESOLVE_ACTION), AGENTS)
    assert not isinstance(resolve, Ignored) and resolve.action == "resolve"


def test_only_thread_replies_of_people_are_agent_messages() -> None:
    base = {"type": "message", "channel": AGENTS, "user": "U0AGENT001", "ts": "1700.5"}
    reply = agent_message({**base, "text": "Try &lt;this&gt;", "thread_ts": "1700.1"}, AGENTS, None)
    assert not isinstance(reply, Ignored)
    assert reply.text == "Try <this>" and reply.ping == PingRef(AGENTS, "1700.1")
    assert not reply.resolves
    typed = agent_message({**base, "text": " /Resolve ", "thread_ts": "1700.1"}, AGENTS, None)
    assert not isinstance(typed, Ignored) and typed.resolves
    for ignored in (
        {**base, "text": "lunch?"},  # top level
        {**base, "text": "x", "thread_ts": "1700.1", "bot_id": "B1"},
        {**base, "text": "x", "thread_ts": "1700.1", "subtype": "message_changed"},
        {**base, "text": "x", "thread_ts": "1700.1", "channel": "D0DM000001"},
        {**base, "text": "x", "thread_ts": "1700.1", "type": "app_mention"},
    ):
        assert isinstance(agent_message(ignored, AGENTS, None), Ignored), ignored
    assert display_name({"profile": {"display_name": "", "real_name": "Robin"}}) == "Robin"


def test_notifier_from_env() -> None:
    env = {"SLACK_AGENT_CHANNEL": AGENTS, "SLACK_BOT_TOKEN": "xoxb-1"}
    assert notifier_from_env(env).channel == AGENTS
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN"):
        notifier_from_env({"SLACK_AGENT_CHANNEL": AGENTS})
    with pytest.raises(ValueError, match="REMIND_MENTION"):
        notifier_from_env({**env, "SLACK_AGENT_REMIND_MENTION": "everyone"})


# --- against the fake Slack ----------------------------------------------------------


def client_for(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.api_url, retry_handlers=[])


async def test_the_notifier_pings_updates_and_threads(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    w = fake_slack.workspace
    notifier = SlackAgentNotifier(
        client_for(fake_slack),
        w.agent_channel,
        store_factory=lambda: SqliteDeliveryStore(tmp_path / "d.db"),
        remind_mention="here",
    )
    fake_slack.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    ref = await notifier.ticket_opened(a_ticket(ping_ref=None))
    first, second = fake_slack.calls_of("chat.postMessage")
    assert second.at - first.at >= 1.0  # Retry-After honoured
    ping = fake_slack.posted(second)
    assert ref == f"slack:{w.agent_channel}:{ping['ts']}"
    ticket = a_ticket(
        ping_ref=ref, state=TicketState.CLAIMED, claimed_by="slack:U0AGENT001", claimed_at=OPENED
    )
    await notifier.ticket_changed(ticket)
    assert "Claimed by <@U0AGENT001>" in all_mrkdwn(
        fake_slack.messages[(w.agent_channel, ping["ts"])]
    )
    await notifier.customer_said(ticket, "still *broken* <!here>")
    await notifier.remind(ticket)
    said, reminded = fake_slack.calls_of("chat.postMessage", thread_ts=ping["ts"])
    assert "&lt;!here&gt;" in said.params["text"] and "<!here>" not in said.params["text"]
    assert reminded.params["text"].startswith("<!here>") and reminded.params["reply_broadcast"]
    await notifier.ticket_changed(a_ticket(ping_ref="telegram:1:2"))  # not ours: nothing
    assert len(fake_slack.calls_of("chat.update")) == 1


async def test_forgetting_deletes_the_ping_and_its_thread_posts(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    w = fake_slack.workspace
    tickets = SqliteTicketStore(tmp_path / "bot.db", weights=PriorityWeights())
    notifier = SlackAgentNotifier(
        client_for(fake_slack),
        w.agent_channel,
        store_factory=lambda: SqliteDeliveryStore(tmp_path / "d.db"),
        posts=AgentPosts(lambda: tickets),
    )
    opened = await tickets.open(NewTicket("slack:D0ANA", "slack", EscalationReason.REQUESTED))
    ref = await notifier.ticket_opened(opened.ticket)
    assert ref is not None
    await tickets.set_ping_ref(opened.ticket.id, ref)
    ticket = await tickets.get(opened.ticket.id)
    assert ticket is not None
    await notifier.customer_said(ticket, "I live at 12 Elm Street")
    await notifier.callback_requested(ticket)
    assert len([k for k in fake_slack.messages if k[0] == w.agent_channel]) == 3

    await notifier.forget(ticket)
    deleted = [c.params["ts"] for c in fake_slack.calls_of("chat.delete")]
    assert len(deleted) == 3 and deleted[-1] == ref.rsplit(":", 1)[1]  # the ping last
    assert not [k for k in fake_slack.messages if k[0] == w.agent_channel]

    await notifier.forget(ticket)  # asked again: what is gone counts as removed

    # a post Slack will not delete is redacted instead
    other = await tickets.open(NewTicket("slack:D0BEA", "slack", EscalationReason.REQUESTED))
    again = await notifier.ticket_opened(other.ticket)
    assert again is not None
    key = (w.agent_channel, again.rsplit(":", 1)[1])
    fake_slack.messages[key]["bot_id"] = "B0SOMEONE"  # e.g. posted by an earlier app
    await notifier.forget(replace(other.ticket, ping_ref=again))
    assert fake_slack.messages[key]["text"] == FORGOTTEN_TEXT
    await tickets.close()


@dataclass
class RecordingDesk:
    """The desk's interface over a real store; records what agents asked for."""

    store: SqliteTicketStore
    done: list[tuple[str, int, Agent, str]] = field(default_factory=list)

    async def claim(self, ticket_id: int, agent: Agent) -> ClaimResult:
        self.done.append(("claim", ticket_id, agent, ""))
        return await self.store.claim(ticket_id, agent.id)

    async def resolve(self, ticket_id: int, agent: Agent) -> Ticket:
        self.done.append(("resolve", ticket_id, agent, ""))
        return await self.store.resolve(ticket_id, agent.id)

    async def reply(self, ticket_id: int, agent: Agent, text: str) -> Ticket:
        ticket = await self.store.get(ticket_id)
        if ticket is None or ticket.claimed_by != agent.id:
            raise NotTicketOwner(f"Ticket {ticket_id} is not yours; claim it first.")
        self.done.append(("reply", ticket_id, agent, text))
        return ticket


@dataclass
class Services:
    store: SqliteTicketStore
    desk: RecordingDesk


@pytest_asyncio.fixture(loop_scope="session")
async def adapter(
    fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[tuple[SlackAgents, Services, int]]:
    store = SqliteTicketStore(tmp_path / "bot.db", weights=PriorityWeights())
    opened = await store.open(
        NewTicket("slack:D0DM000001", "slack", EscalationReason.REQUESTED, customer_name="Casey")
    )
    await store.set_ping_ref(opened.ticket.id, f"slack:{AGENTS}:1700.1")
    services = Services(store, RecordingDesk(store))
    delivery = SqliteDeliveryStore(tmp_path / "d.db")
    agents = SlackAgents(
        client_for(fake_slack),
        fake_slack.workspace.agent_channel,
        delivery,
        services=lambda: cast("HandoffServices", services),
    )
    yield agents, services, opened.ticket.id
    await store.close()
    await delivery.close()


def body_for(fake: FakeSlack, user: str, action_id: str, ticket_id: int, ts: str = "1700.1") -> Any:
    posted = {"channel": AGENTS, "ts": ts, "text": "ping", "blocks": []}
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "x"},
        "action_id": action_id,
        "value": str(ticket_id),
        "block_id": "handoff_actions",
    }
    return fake.workspace.block_actions(posted, button, user=user)


async def test_members_claim_once_and_others_are_told(
    fake_slack: FakeSlack, adapter: tuple[SlackAgents, Services, int]
) -> None:
    agents, services, ticket_id = adapter
    w = fake_slack.workspace
    await asyncio.gather(
        agents.on_click(body_for(fake_slack, w.agent_id, CLAIM_ACTION, ticket_id)),
        agents.on_click(body_for(fake_slack, w.second_agent_id, CLAIM_ACTION, ticket_id)),
    )
    claims = [d for d in services.desk.done if d[0] == "claim"]
    assert {d[2] for d in claims} == {
        Agent(f"slack:{w.agent_id}", "Dana"),
        Agent(f"slack:{w.second_agent_id}", "Robin Second"),
    }
    [told] = fake_slack.calls_of("chat.postEphemeral")
    ticket = await services.store.get(ticket_id)
    assert ticket is not None and ticket.claimed_by is not None
    owner = ticket.claimed_by.removeprefix("slack:")
    assert told.params["user"] != owner and told.params["thread_ts"] == "1700.1"
    assert f"already claimed by <@{owner}>" in told.params["text"]

    # the owner replies in the thread; the other agent may not
    other = w.second_agent_id if owner == w.agent_id else w.agent_id
    for user, text in ((owner, "Hello!"), (other, "Me too")):
        event = w.message(
            text, channel=AGENTS, channel_type="channel", user=user, thread_ts="1700.1"
        )
        await agents.on_event(event, w.bot_user_id)
    assert [d[3] for d in services.desk.done if d[0] == "reply"] == ["Hello!"]
    assert "claim it first" in fake_slack.calls_of("chat.postEphemeral")[-1].params["text"]
    # a thread that is not a ping: nothing at all
    stray = w.message("hi", channel=AGENTS, channel_type="channel", user=owner, thread_ts="1.2")
    await agents.on_event(stray, w.bot_user_id)
    assert len(fake_slack.calls_of("chat.postEphemeral")) == 2
    # membership and names were looked up once and cached
    assert len(fake_slack.calls_of("conversations.members")) == 1
    assert len(fake_slack.calls_of("users.info")) == 2


async def test_outsiders_customers_and_wrong_messages_change_nothing(
    fake_slack: FakeSlack, adapter: tuple[SlackAgents, Services, int]
) -> None:
    agents, services, ticket_id = adapter
    w = fake_slack.workspace
    await agents.on_click(body_for(fake_slack, w.outsider_id, CLAIM_ACTION, ticket_id))
    [refused] = fake_slack.calls_of("chat.postEphemeral", user=w.outsider_id)
    assert f"Only members of <#{AGENTS}>" in refused.params["text"]
    event = w.message(
        "hi", channel=AGENTS, channel_type="channel", user=w.outsider_id, thread_ts="1700.1"
    )
    await agents.on_event(event, w.bot_user_id)
    assert len(fake_slack.calls_of("chat.postEphemeral", user=w.outsider_id)) == 2

    dm_click = body_for(fake_slack, w.user_id, RESOLVE_ACTION, ticket_id)
    dm_click["channel"]["id"] = dm_click["container"]["channel_id"] = w.dm_channel
    await agents.on_click(dm_click)  # a customer's forged click: ignored, no answer
    assert not fake_slack.calls_of("chat.postEphemeral", user=w.user_id)

    wrong = body_for(fake_slack, w.agent_id, RESOLVE_ACTION, ticket_id, ts="1700.9")
    await agents.on_click(wrong)  # a member, but not the ticket's ping
    [not_its_ping] = fake_slack.calls_of("chat.postEphemeral", user=w.agent_id)
    assert "does not belong" in not_its_ping.params["text"]
    assert services.desk.done == []
    ticket = await services.store.get(ticket_id)
    assert ticket is not None and ticket.state is TicketState.QUEUED

    await agents.on_click(body_for(fake_slack, w.agent_id, RESOLVE_ACTION, ticket_id))
    assert [d[0] for d in services.desk.done] == ["resolve"]

"""End to end: Slack agents handle handoff tickets (real Rasa + actions, fake Slack over HTTP).

Customers write from Slack DMs (or REST); the escalation ping appears in the agents'
channel; agents claim, reply in the ping's thread and resolve; the customer hears it all
on their own channel through Rasa's conversation API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
import pytest_asyncio

from bot.handoff.priority import PriorityWeights
from bot.handoff.sqlite_store import SqliteTicketStore
from bot.handoff.tickets import Ticket, TicketState
from bot.testing.servers import DEFAULT_MODEL, RunningBot
from bot.testing.slack_bot import (
    agent_env,
    events_url,
    rendered_variants,
    running_slack_bot,
    text_of,
    visible,
)
from channels.slack.agent_render import CLAIM_ACTION, RESOLVE_ACTION

pytestmark = pytest.mark.e2e

if TYPE_CHECKING:
    from bot.testing.fake_slack import ApiCall, FakeSlack

ASK_FOR_A_PERSON = "I want to talk to a person"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def agents_bot(
    fake_slack_server: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningBot]:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"no trained model at {DEFAULT_MODEL}: run `make train`")
    state = tmp_path_factory.mktemp("slack-agents")  # kept by pytest: the servers' logs
    async with running_slack_bot(
        fake_slack_server, "http", state, env=agent_env(fake_slack_server)
    ) as bot:
        yield bot


# --- helpers -------------------------------------------------------------------------


async def eventually(check: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"not in time: {what}"
        await asyncio.sleep(0.05)
    return value


async def ticket(bot: RunningBot, ticket_id: int) -> Ticket:
    store = SqliteTicketStore(bot.state / "bot.db", weights=PriorityWeights())
    try:
        found = await store.get(ticket_id)
    finally:
        await store.close()
    assert found is not None
    return found


async def customer_says(fake: FakeSlack, bot: RunningBot, dm: str, text: str) -> None:
    w = fake.workspace
    status, _ = await fake.post_event(events_url(bot), w.wrap(w.message(text, channel=dm)))
    assert status == 200


async def agent_says(
    fake: FakeSlack, bot: RunningBot, user: str, text: str, thread_ts: str | None
) -> None:
    w = fake.workspace
    event = w.message(
        text,
        channel=w.agent_channel,
        channel_type="channel",
        user=user,
        **({"thread_ts": thread_ts} if thread_ts else {}),
    )
    status, _ = await fake.post_event(events_url(bot), w.wrap(event))
    assert status == 200


async def click(
    fake: FakeSlack, bot: RunningBot, message: dict[str, Any], action_id: str, user: str
) -> None:
    """Clicks a button of ``message`` as ``user``; Slack needs the ack within 3 seconds."""
    w = fake.workspace
    row = next(b for b in message["blocks"] if b["type"] == "actions")
    button = next(e for e in row["elements"] if e["action_id"] == action_id)
    payload = w.block_actions(message, {**button, "block_id": row["block_id"]}, user=user)
    status, _, seconds = await fake.post_interaction(events_url(bot), payload)
    assert status == 200 and seconds < 3, (status, seconds)


def dm_texts(fake: FakeSlack, dm: str) -> list[str]:
    return [visible(text_of(c)) for c in fake.calls_of("chat.postMessage", channel=dm)]


async def customer_hears(fake: FakeSlack, dm: str, fragment: str) -> ApiCall:
    def find() -> ApiCall | None:
        calls = fake.calls_of("chat.postMessage", channel=dm)
        return next((c for c in calls if fragment in visible(text_of(c))), None)

    found: ApiCall = await eventually(find, what=f"{fragment!r} in {dm}: {dm_texts(fake, dm)}")
    return found


def pings(fake: FakeSlack) -> list[ApiCall]:
    """Top-level posts in the agents' channel (the escalation pings)."""
    channel = fake.workspace.agent_channel
    return [
        c for c in fake.calls_of("chat.postMessage", channel=channel) if "thread_ts" not in c.params
    ]


async def escalate_from_slack(fake: FakeSlack, bot: RunningBot) -> tuple[str, dict[str, Any], int]:
    """A new Slack customer asks for a person; returns their DM, the ping (as stored), its id."""
    dm = fake.workspace.new_dm_channel()
    before = len(pings(fake))
    await customer_says(fake, bot, dm, ASK_FOR_A_PERSON)
    [call] = (await eventually(lambda: pings(fake)[before:], what="the ping"))[:1]
    ping = fake.posted(call)
    ticket_id = claim_value(ping)
    await eventually(lambda: dm_texts(fake, dm), what="the customer's queue notice")
    deadline = time.monotonic() + 30
    while (await ticket(bot, ticket_id)).ping_ref is None:  # kept once the post returned
        assert time.monotonic() < deadline, "the ping reference was never stored"
        await asyncio.sleep(0.1)
    return dm, ping, ticket_id


def claim_value(ping: dict[str, Any]) -> int:
    row = next(b for b in ping["blocks"] if b["type"] == "actions")
    return int(next(e["value"] for e in row["elements"] if e["action_id"] == CLAIM_ACTION))


def ephemerals(fake: FakeSlack, user: str) -> list[str]:
    return [str(c.params.get("text")) for c in fake.calls_of("chat.postEphemeral", user=user)]


def ping_mrkdwn(message: dict[str, Any]) -> str:
    """All the text of a ping (sections, fields, context lines)."""
    parts = []
    for block in message["blocks"]:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        if block["type"] == "context":
            parts += [e.get("text", "") for e in block["elements"]]
    return visible("\n".join(parts))


# --- tests ---------------------------------------------------------------------------


async def test_a_slack_customer_asking_for_a_person_pings_the_agents_channel(
    agents_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    dm, ping, ticket_id = await escalate_from_slack(fake_slack, agents_bot)

    stored = await ticket(agents_bot, ticket_id)
    assert stored.ping_ref == f"slack:{w.agent_channel}:{ping['ts']}"
    assert stored.state is TicketState.QUEUED and stored.conversation_id == f"slack:{dm}"
    blocks = ping["blocks"]
    assert blocks[0]["type"] == "header" and f"Ticket {ticket_id}" in blocks[0]["text"]["text"]
    fields = {f["text"].split("\n")[0].strip("*"): f["text"] for f in blocks[1]["fields"]}
    assert set(fields) == {"Customer", "Channel", "Topic", "Sentiment", "Waiting", "Reason"}
    assert "slack" in fields["Channel"] and "requested" in fields["Reason"]
    assert stored.customer_name == "Casey" and "Casey" in fields["Customer"]  # users.info
    assert any(w in fields["Sentiment"] for w in ("neutral", "negative", "positive"))
    assert "<!date^" in fields["Waiting"]
    text = ping_mrkdwn(ping)
    assert "*Summary*" in text and ASK_FOR_A_PERSON in text and "*Last turns*" in text
    [row] = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in row["elements"]] == [
        (CLAIM_ACTION, str(ticket_id)),
        (RESOLVE_ACTION, str(ticket_id)),
    ]
    # the customer's next message goes to the ping's thread, not to the bot
    answered = len(dm_texts(fake_slack, dm))
    # what Slack sends when a customer types "<!channel>" literally: entities, not a mention
    await customer_says(
        fake_slack, agents_bot, dm, "my router shows a *red* light &lt;!channel&gt;"
    )

    def relayed_post() -> ApiCall | None:
        in_thread = fake_slack.calls_of(
            "chat.postMessage", channel=w.agent_channel, thread_ts=ping["ts"]
        )
        return next((c for c in in_thread if "my router" in c.params["text"]), None)

    relayed: ApiCall = await eventually(relayed_post, what="the customer's words in the thread")
    assert "my router shows a" in visible(relayed.params["text"])
    assert "<!channel>" not in relayed.params["text"]  # escaped: no channel-wide alert
    assert "&lt;!channel&gt;" in relayed.params["text"]
    await asyncio.sleep(1)
    assert len(dm_texts(fake_slack, dm)) == answered  # the paused bot stayed silent


async def test_claim_race_reply_and_resolve_with_the_button(
    agents_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    dm, ping, ticket_id = await escalate_from_slack(fake_slack, agents_bot)

    await asyncio.gather(
        click(fake_slack, agents_bot, ping, CLAIM_ACTION, w.agent_id),
        click(fake_slack, agents_bot, ping, CLAIM_ACTION, w.second_agent_id),
    )
    claimed = await eventually(
        lambda: (
            (t := fake_slack.messages[(w.agent_channel, ping["ts"])])
            and "Claimed by" in ping_mrkdwn(t)
            and t
        ),
        what="the ping updated",
    )
    stored = await ticket(agents_bot, ticket_id)
    assert stored.state is TicketState.CLAIMED
    assert stored.claimed_by is not None
    winner = stored.claimed_by.removeprefix("slack:")
    loser = w.second_agent_id if winner == w.agent_id else w.agent_id
    winner_name = "Dana" if winner == w.agent_id else "Robin Second"
    assert f"Claimed by <@{winner}>" in ping_mrkdwn(claimed)
    [row] = [b for b in claimed["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in row["elements"]] == [RESOLVE_ACTION]
    [refusal] = await eventually(lambda: ephemerals(fake_slack, loser), what="the ephemeral")
    assert "already claimed by" in refusal and f"<@{winner}>" in refusal
    assert not ephemerals(fake_slack, winner)
    await customer_hears(fake_slack, dm, f"{winner_name} from our support team has joined")

    # the owner's thread reply reaches the customer, marked as from a person
    await agent_says(
        fake_slack, agents_bot, winner, "Could you restart your Lumen Hub?", ping["ts"]
    )
    await customer_hears(fake_slack, dm, f"{winner_name} from support: Could you restart")
    # the other agent is not the owner: told so, nothing reaches the customer
    await agent_says(fake_slack, agents_bot, loser, "I can help too", ping["ts"])
    await eventually(lambda: len(ephemerals(fake_slack, loser)) == 2, what="owner-only notice")
    assert "claim it first" in ephemerals(fake_slack, loser)[1]

    await click(fake_slack, agents_bot, claimed, RESOLVE_ACTION, winner)
    resolved = await eventually(
        lambda: (
            (t := fake_slack.messages[(w.agent_channel, ping["ts"])])
            and "Resolved by" in ping_mrkdwn(t)
            and t
        ),
        what="the ping resolved",
    )
    assert f"Resolved by <@{winner}>" in ping_mrkdwn(resolved)
    assert not [b for b in resolved["blocks"] if b["type"] == "actions"]
    assert (await ticket(agents_bot, ticket_id)).state is TicketState.RESOLVED
    assert not any("I can help too" in t for t in dm_texts(fake_slack, dm))
    # the bot takes over: hand-back and the rating buttons, in the customer's DM
    await customer_hears(fake_slack, dm, "I'm back to help")
    csat = await customer_hears(fake_slack, dm, "How would you rate")
    buttons = [e for b in csat.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    # each rating button carries its payload sealed for this conversation (bot/inbound/seal.py)
    assert buttons[0]["value"].startswith('/csat{"csat_score": 1}~') and len(buttons) == 5


async def test_resolve_typed_in_the_thread(agents_bot: RunningBot, fake_slack: FakeSlack) -> None:
    w = fake_slack.workspace
    dm, ping, ticket_id = await escalate_from_slack(fake_slack, agents_bot)
    await click(fake_slack, agents_bot, ping, CLAIM_ACTION, w.agent_id)
    await customer_hears(fake_slack, dm, "Dana from our support team has joined")
    await agent_says(fake_slack, agents_bot, w.agent_id, "/resolve", ping["ts"])
    await eventually(
        lambda: "Resolved by" in ping_mrkdwn(fake_slack.messages[(w.agent_channel, ping["ts"])]),
        what="the ping resolved",
    )
    assert (await ticket(agents_bot, ticket_id)).state is TicketState.RESOLVED
    await customer_hears(fake_slack, dm, "How would you rate")
    assert not any("resolve" in t for t in dm_texts(fake_slack, dm))


async def test_people_outside_the_agents_channel_and_customers_are_refused(
    agents_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    dm, ping, ticket_id = await escalate_from_slack(fake_slack, agents_bot)
    heard = len(dm_texts(fake_slack, dm))

    await click(fake_slack, agents_bot, ping, CLAIM_ACTION, w.outsider_id)
    [refusal] = await eventually(lambda: ephemerals(fake_slack, w.outsider_id), what="refusal")
    assert f"Only members of <#{w.agent_channel}>" in refusal
    await agent_says(fake_slack, agents_bot, w.outsider_id, "Hi, I'm support!", ping["ts"])
    await eventually(lambda: len(ephemerals(fake_slack, w.outsider_id)) == 2, what="2nd refusal")

    # a customer forging a Claim / Resolve click in their own DM is ignored
    forged = {**ping, "channel": dm}
    await click(fake_slack, agents_bot, forged, CLAIM_ACTION, w.user_id)
    await click(fake_slack, agents_bot, forged, RESOLVE_ACTION, w.user_id)
    # a member clicking the buttons of a copy outside the ping (wrong ts) is refused too
    copy = {**ping, "ts": "1600000000.000009"}
    await click(fake_slack, agents_bot, copy, RESOLVE_ACTION, w.agent_id)
    await eventually(lambda: ephemerals(fake_slack, w.agent_id), what="not its ping")

    await asyncio.sleep(2)
    assert (await ticket(agents_bot, ticket_id)).state is TicketState.QUEUED
    assert not fake_slack.calls_of("chat.update")
    assert len(dm_texts(fake_slack, dm)) == heard
    assert not ephemerals(fake_slack, w.user_id)


async def test_the_agents_channel_never_talks_to_rasa(
    agents_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    await agent_says(fake_slack, agents_bot, w.agent_id, "/greet", None)
    await agent_says(fake_slack, agents_bot, w.agent_id, "/greet", "1600000000.000001")
    mention = w.mention("/greet")
    mention["channel"] = w.agent_channel
    await fake_slack.post_event(events_url(agents_bot), w.wrap(mention))
    await asyncio.sleep(2)
    assert not fake_slack.calls_of("chat.postMessage", channel=w.agent_channel)
    assert not fake_slack.calls_of("chat.postEphemeral")
    conversations = agents_bot.conversations()
    for sender in (f"slack:{w.agent_channel}", f"slack:{w.agent_channel}:1600000000.000001"):
        tracker = await conversations.tracker(sender)
        assert not [e for e in tracker["events"] if e["event"] == "user"], sender
    tracker = await conversations.tracker(f"slack:{w.agent_channel}:{mention['ts']}")
    assert not [e for e in tracker["events"] if e["event"] == "user"]


async def test_a_rest_customer_with_a_slack_agent(
    agents_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    sender = f"rest-{time.monotonic_ns()}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{agents_bot.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": "I want to talk to a real person"},
            headers=agents_bot.rest_headers,
        ) as response,
    ):
        assert response.status == 200
    [call] = await eventually(lambda: pings(fake_slack), what="the ping of a REST customer")
    ping = fake_slack.posted(call)
    fields = next(b for b in ping["blocks"] if b["type"] == "section")["fields"]
    assert any(f["text"] == "*Channel*\nrest" for f in fields)
    ticket_id = claim_value(ping)

    await click(fake_slack, agents_bot, ping, CLAIM_ACTION, w.agent_id)
    await agent_says(fake_slack, agents_bot, w.agent_id, "Hello from Slack!", ping["ts"])
    conversations = agents_bot.conversations()

    async def agent_lines() -> list[dict[str, Any]]:
        events = (await conversations.tracker(agents_bot.rest_conversation(sender)))["events"]
        return [e for e in events if (e.get("metadata") or {}).get("source") == "agent"]

    deadline = time.monotonic() + 30
    while not (lines := await agent_lines()):
        assert time.monotonic() < deadline, "the agent's reply never reached the REST customer"
        await asyncio.sleep(0.2)
    assert lines[0]["text"] == "Dana from support: Hello from Slack!"
    assert lines[0]["metadata"]["agent"] == {"id": f"slack:{w.agent_id}", "name": "Dana"}

    await agent_says(fake_slack, agents_bot, w.agent_id, "resolve", ping["ts"])
    deadline = time.monotonic() + 30
    while (await ticket(agents_bot, ticket_id)).state is not TicketState.RESOLVED:
        assert time.monotonic() < deadline, "not resolved"
        await asyncio.sleep(0.2)
    handback = rendered_variants("utter_handback")

    async def handed_back() -> bool:
        events = (await conversations.tracker(agents_bot.rest_conversation(sender)))["events"]
        return any(e.get("text") in handback for e in events if e["event"] == "bot")

    deadline = time.monotonic() + 30
    while not await handed_back():
        assert time.monotonic() < deadline, "the bot never handed back to the REST customer"
        await asyncio.sleep(0.2)


async def test_a_file_reaches_the_agents_thread_and_never_mind_updates_the_ping(
    agents_bot: RunningBot, fake_slack: FakeSlack
) -> None:
    w = fake_slack.workspace
    dm, ping, ticket_id = await escalate_from_slack(fake_slack, agents_bot)
    heard_before = len(dm_texts(fake_slack, dm))
    shared = w.file_share("here is my bill")
    file_event = w.message(
        "here is my bill",
        channel=dm,
        subtype="file_share",
        files=shared["files"],
        upload=False,
    )
    status, _ = await fake_slack.post_event(events_url(agents_bot), w.wrap(file_event))
    assert status == 200

    def in_thread() -> list[ApiCall]:
        return [
            c
            for c in fake_slack.calls_of("chat.postMessage", channel=w.agent_channel)
            if c.params.get("thread_ts") == ping["ts"] and "F0FILE0001" in str(c.params["text"])
        ]

    [relayed] = (await eventually(in_thread, what="the file in the ping's thread"))[:1]
    posted = str(relayed.params["text"])
    assert "bill.pdf" in posted and "/unsupported_content" not in posted

    await customer_says(fake_slack, agents_bot, dm, "never mind")
    deadline = time.monotonic() + 30
    while (await ticket(agents_bot, ticket_id)).state is not TicketState.ABANDONED:
        assert time.monotonic() < deadline, "the ticket was not cancelled"
        await asyncio.sleep(0.2)

    def updated() -> list[ApiCall]:
        return [
            c
            for c in fake_slack.calls_of("chat.update", channel=w.agent_channel)
            if c.params.get("ts") == ping["ts"] and "Cancelled by the customer" in str(c.params)
        ]

    await eventually(updated, what="the ping marked as cancelled")
    cancelled = rendered_variants("utter_handoff_cancelled")
    await eventually(
        lambda: any(t in cancelled for t in dm_texts(fake_slack, dm)), what="the friendly line"
    )
    unsupported = rendered_variants("utter_unsupported_content")
    assert not any(t in unsupported for t in dm_texts(fake_slack, dm)[heard_before:])

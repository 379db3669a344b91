"""The Telegram channel against the fake Bot API, with Rasa replaced by a recording stub."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore, LockError

from bot.delivery.store import SqliteDeliveryStore
from bot.handoff.service import HandoffServices
from bot.handoff.tickets import EscalationReason
from bot.privacy.log_redaction import known_names
from bot.testing.fake_telegram import FakeTelegram
from bot.testing.telegram_updates import GROUP_ID
from channels.telegram.channel import TelegramInput
from channels.telegram.payload_keys import PayloadKeys
from channels.telegram.settings import TelegramSettings
from channels.telegram.webhook import SECRET_HEADER
from channels.telegram.webhook import receive as webhook_receive

LONG_PAYLOAD = '/choose_faq{"faq_id": "' + "router_placement_" * 5 + '"}'


@dataclass
class StubRasa:
    """Records what reaches Rasa and answers every turn with ``reply``."""

    reply: dict[str, Any] = field(
        default_factory=lambda: {
            "text": "Got **it** & <noted>",
            "buttons": [
                {"title": "Yes", "payload": "/affirm"},
                {"title": "That one", "payload": LONG_PAYLOAD},
            ],
        }
    )
    received: list[UserMessage] = field(default_factory=list)
    executed: list[tuple[str, str]] = field(default_factory=list)
    logged: list[UserMessage] = field(default_factory=list)
    thinking: float = 0.0  # seconds each turn takes before the answer
    failure: Exception | None = None  # raised for every message instead of answering
    stuck: dict[str, asyncio.Event] = field(default_factory=dict)  # sender: turns wait for it

    async def on_new_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.failure is not None:
            raise self.failure
        if message.sender_id in self.stuck:
            await self.stuck[message.sender_id].wait()
        await asyncio.sleep(self.thinking)
        await message.output_channel.send_response(message.sender_id, dict(self.reply))

    def app(self) -> Any:
        """A stand-in for Rasa's Sanic app: ``ctx.agent`` with a domain and the agent calls."""

        async def log_message(message: UserMessage) -> None:
            self.logged.append(message)
            if self.failure is not None:
                raise self.failure

        async def execute_action(sender_id: str, action: str, output: Any, *_: Any) -> None:
            self.executed.append((sender_id, action))
            await output.send_response(sender_id, {"text": "I can only read text."})

        domain = SimpleNamespace(
            responses={
                f"utter_telegram_command_{name}": [{"text": f"{name.title()} description"}]
                for name in ("start", "help", "human", "restart", "privacy", "forgetme", "cancel")
            }
        )
        agent = SimpleNamespace(
            domain=domain,
            lock_store=InMemoryLockStore(),
            log_message=log_message,
            execute_action=execute_action,
        )
        return SimpleNamespace(ctx=SimpleNamespace(agent=agent))


@dataclass
class Harness:
    fake: FakeTelegram
    rasa: StubRasa
    channel: TelegramInput
    store: SqliteDeliveryStore


@pytest_asyncio.fixture(loop_scope="session")
async def harness(fake_telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[Harness]:
    settings = TelegramSettings.load(
        {
            "token": fake_telegram.token,
            "base_url": fake_telegram.base_url,
            "poll_timeout": 1,
            "typing_after": 0,  # "typing…" at once, so every test sees it
        },
        {},
    )
    store = SqliteDeliveryStore(tmp_path / "delivery.db")
    channel = TelegramInput(settings, store=store, keys=PayloadKeys(sqlite=tmp_path / "keys.db"))
    rasa = StubRasa()
    channel.blueprint(rasa.on_new_message)
    await channel._start(rasa.app())
    yield Harness(fake_telegram, rasa, channel, store)
    await channel._stop()


async def test_private_message_reaches_rasa_and_reply_is_html(harness: Harness) -> None:
    fake = harness.fake
    await fake.inject(fake.make.text("my *bill* is_wrong <3", user_id=101))
    (answer,) = await fake.wait_for_messages(101)
    (message,) = harness.rasa.received
    assert (message.sender_id, message.text) == ("telegram:101", "my *bill* is_wrong <3")
    assert message.metadata["telegram"]["user"]["id"] == 101
    assert answer["html"] == "Got <b>it</b> &amp; &lt;noted&gt;"
    assert answer["text"] == "Got it & <noted>"
    keyboard = answer["reply_markup"]["inline_keyboard"]
    assert [b["text"] for row in keyboard for b in row] == ["Yes", "That one"]
    assert fake.calls_of("sendChatAction")


async def test_a_message_rasa_fails_on_gets_an_apology_and_a_ticket(
    harness: Harness, handoff_here: HandoffServices
) -> None:
    fake = harness.fake
    harness.rasa.failure = LockError("Could not acquire lock for conversation_id 'telegram:102'.")
    await fake.inject(fake.make.text("is there an outage?", user_id=102))
    (apology,) = await fake.wait_for_messages(102)
    assert "support team" in apology["text"] and "number 1" in apology["text"]
    ticket = await handoff_here.store.find_open("telegram:102")
    assert ticket is not None and ticket.reason is EscalationReason.BOT_FAILURE
    assert [t.text for t in ticket.last_turns] == ["is there an outage?"]


async def test_typing_runs_alongside_rasa_but_never_after_the_answer(harness: Harness) -> None:
    fake = harness.fake
    fake.slow_next("sendChatAction", 0.5)
    await fake.inject(fake.make.text("is it down?", user_id=109))
    await fake.wait_for_messages(109)
    (typing,) = [c for c in fake.calls_of("sendChatAction") if int(c.params["chat_id"]) == 109]
    (answer,) = [c for c in fake.calls_of("sendMessage") if int(c.params["chat_id"]) == 109]
    assert harness.rasa.received[0].text == "is it down?"  # Rasa did not wait for the typing call
    assert answer.at - typing.at >= 0.45  # the answer waited until "typing…" was shown


async def test_typing_shows_only_when_the_answer_takes_a_noticeable_time(
    harness: Harness,
) -> None:
    fake, channel = harness.fake, harness.channel
    channel.settings = dataclasses.replace(channel.settings, typing_after=0.3)
    await fake.inject(fake.make.text("quick one", user_id=131))
    await fake.wait_for_messages(131)
    await asyncio.sleep(0.4)  # a "typing…" dropped by the answer never comes later
    assert not [c for c in fake.calls_of("sendChatAction") if int(c.params["chat_id"]) == 131]

    harness.rasa.thinking = 0.6
    await fake.inject(fake.make.text("slow one", user_id=132))
    await fake.wait_for_messages(132)
    (typing,) = [c for c in fake.calls_of("sendChatAction") if int(c.params["chat_id"]) == 132]
    (answer,) = [c for c in fake.calls_of("sendMessage") if int(c.params["chat_id"]) == 132]
    assert typing.at < answer.at


async def test_unreachable_telegram_at_start_is_retried_in_the_background(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.fail_next("getMe", status=502)
    settings = TelegramSettings.load(
        {"token": fake_telegram.token, "base_url": fake_telegram.base_url, "poll_timeout": 1}, {}
    )
    channel = TelegramInput(
        settings,
        store=SqliteDeliveryStore(tmp_path / "delivery.db"),
        keys=PayloadKeys(sqlite=tmp_path / "keys.db"),
    )
    channel.start_retry_delay = 0.2
    rasa = StubRasa()
    channel.blueprint(rasa.on_new_message)
    try:
        await channel._start(rasa.app())  # returns: the rest of the bot must come up
        assert channel.get_output_channel() is None
        await fake_telegram.wait_for(channel.get_output_channel, timeout=10)
        await fake_telegram.inject(fake_telegram.make.text("back?", user_id=110))
        (answer,) = await fake_telegram.wait_for_messages(110)
        assert answer["text"] == "Got it & <noted>"
        assert len(fake_telegram.calls_of("getMe")) == 2
    finally:
        await channel._stop()


async def test_commands_registered_and_mapped(harness: Harness) -> None:
    fake = harness.fake
    assert [(c["command"], c["description"]) for c in fake.commands] == [
        ("start", "Start description"),
        ("help", "Help description"),
        ("human", "Human description"),
        ("restart", "Restart description"),
        ("privacy", "Privacy description"),
        ("forgetme", "Forgetme description"),
        ("cancel", "Cancel description"),
    ]
    commands = ["/start", "/help", "/human", "/restart", "/privacy", "/forgetme", "/cancel"]
    for index, command in enumerate(commands):
        await fake.inject(fake.make.text(command, user_id=102))
        await fake.wait_for(lambda n=index: len(harness.rasa.received) > n)
    assert [m.text for m in harness.rasa.received] == [
        "/greet",
        "/chitchat_capabilities",
        "/human_handoff",
        "/restart",
        "/privacy",
        "/forget_me",
        "/handoff_cancel",
    ]


async def test_group_answers_only_when_mentioned_or_replied_to(harness: Harness) -> None:
    fake, rasa = harness.fake, harness.rasa
    await fake.inject(fake.make.text("anyone know about outages?", user_id=7, chat_id=GROUP_ID))
    await fake.inject(fake.make.text("/help", user_id=7, chat_id=GROUP_ID))  # not addressed
    await fake.inject(
        fake.make.text(
            f"@{fake.bot_user['username']} is there an outage?", user_id=7, chat_id=GROUP_ID
        )
    )
    (first,) = await fake.wait_for_messages(GROUP_ID)
    assert [(m.sender_id, m.text) for m in rasa.received] == [
        (f"telegram:{GROUP_ID}:7", "is there an outage?")
    ]
    assert fake.calls_of("sendMessage")[-1].params["reply_parameters"]  # threaded in groups
    await fake.inject(fake.make.text("and for me?", user_id=8, chat_id=GROUP_ID, reply_to=first))
    await fake.wait_for(lambda: len(rasa.received) == 2)
    assert rasa.received[1].sender_id == f"telegram:{GROUP_ID}:8"


async def test_button_press_is_answered_marked_and_sent_to_rasa(harness: Harness) -> None:
    fake, rasa = harness.fake, harness.rasa
    await fake.inject(fake.make.text("hello", user_id=103))
    (question,) = await fake.wait_for_messages(103)
    data = question["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    assert data != LONG_PAYLOAD and len(data.encode()) <= 64
    await fake.inject(fake.make.callback(question, data, user_id=103))
    await fake.wait_for(lambda: len(rasa.received) == 2)
    assert rasa.received[1].text == LONG_PAYLOAD
    assert len(fake.answered_callbacks) == 1
    marked = fake.sent[question["message_id"]]
    assert marked["reply_markup"] is None and marked["text"].endswith("✅ That one")


async def test_a_forged_callback_data_reaches_rasa_only_as_an_expired_button(
    harness: Harness,
) -> None:
    fake, rasa = harness.fake, harness.rasa
    await fake.inject(fake.make.text("hello", user_id=104))
    (question,) = await fake.wait_for_messages(104)
    await fake.inject(fake.make.callback(question, '/csat{"csat_score":5}', user_id=104))
    await fake.wait_for(lambda: len(rasa.received) == 2)
    assert rasa.received[1].text == "/button_expired"
    assert rasa.received[1].metadata["inbound"] == {"pressed": True, "refused": True}


async def test_a_button_sent_to_one_customer_cannot_be_pressed_by_another(
    harness: Harness,
) -> None:
    fake, rasa = harness.fake, harness.rasa
    await fake.inject(fake.make.text("hello", user_id=105))
    (question,) = await fake.wait_for_messages(105)
    data = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    foreign = {**question, "chat": {**question["chat"], "id": 106}}
    await fake.inject(fake.make.callback(foreign, data, user_id=106))
    await fake.wait_for(lambda: len(rasa.received) == 2)
    assert (rasa.received[1].sender_id, rasa.received[1].text) == (
        "telegram:106",
        "/button_expired",
    )


@pytest.mark.parametrize(
    ("typed", "rasa_receives"),
    [
        ('/csat{"csat_score":5}', 'csat{"csat_score":5}'),
        ("/handoff_resolved", "handoff_resolved"),
        ("/privacy", "/privacy"),  # a Telegram command the bot offers
    ],
)
async def test_typed_internal_intents_reach_rasa_as_text(
    harness: Harness, typed: str, rasa_receives: str
) -> None:
    fake, rasa = harness.fake, harness.rasa
    before = len(rasa.received)
    await fake.inject(fake.make.text(typed, user_id=107))
    await fake.wait_for(lambda: len(rasa.received) == before + 1)
    assert rasa.received[-1].text == rasa_receives


async def test_a_message_over_the_limit_is_answered_before_nlu(harness: Harness) -> None:
    fake, rasa = harness.fake, harness.rasa
    await fake.inject(fake.make.text("my bill is wrong" * 300, user_id=108))
    await fake.wait_for(lambda: any(m.sender_id == "telegram:108" for m in rasa.received))
    (message,) = [m for m in rasa.received if m.sender_id == "telegram:108"]
    assert message.text == "/message_too_long"
    assert message.metadata["inbound"]["too_long"] == len("my bill is wrong" * 300)


async def test_customer_name_is_masked_in_logs_from_the_first_message(harness: Harness) -> None:
    fake = harness.fake
    assert "Customer177" not in known_names()
    await fake.inject(fake.make.text("hello", user_id=177))
    await fake.wait_for_messages(177)
    # no wait for the profile store's refresh: the adapter's process knows it now
    assert known_names().mask("Customer177 wrote") == "[name] wrote"


async def test_duplicate_update_is_answered_once(harness: Harness) -> None:
    fake = harness.fake
    update = fake.make.text("hi", user_id=104)
    await fake.inject(update)
    await fake.wait_for_messages(104)
    await fake.inject(update)
    await fake.inject(fake.make.text("second", user_id=104))
    await fake.wait_for_messages(104, 2)
    assert [m.text for m in harness.rasa.received] == ["hi", "second"]


async def test_a_stuck_chat_delays_only_itself_and_its_messages_keep_their_order(
    harness: Harness,
) -> None:
    fake, released = harness.fake, asyncio.Event()
    harness.rasa.stuck["telegram:105"] = released
    for n in range(20):  # more than any fixed number of update slots
        await fake.inject(fake.make.text(f"stuck {n}", user_id=105))
    await fake.inject(fake.make.text("anyone?", user_id=106))

    await fake.wait_for_messages(106)  # answered while chat 105 is still stuck
    assert not fake.messages_to(105)

    released.set()
    await fake.wait_for_messages(105, 20)
    stuck_chat = [m.text for m in harness.rasa.received if m.sender_id == "telegram:105"]
    assert stuck_chat == [f"stuck {n}" for n in range(20)]


async def test_an_update_a_crashed_process_left_unfinished_is_answered_after_all(
    harness: Harness, tmp_path: Path
) -> None:
    fake = harness.fake
    update = fake.make.text("did my message get lost?", user_id=107)
    crashed = SqliteDeliveryStore(tmp_path / "delivery.db", claim_seconds=-1)  # claim lapsed
    key = f"telegram:{harness.channel.settings.bot_id}:{update['update_id']}"
    assert await crashed.receive(key, "telegram", "telegram:107", update)

    assert len(await fake.wait_for_messages(107)) == 1

    assert [m.text for m in harness.rasa.received] == ["did my message get lost?"]
    assert not await crashed.receive(key, "telegram", "telegram:107", update)  # done


async def test_a_webhook_update_that_cannot_be_recorded_gets_503_so_telegram_redelivers() -> None:
    queued: asyncio.Queue[Any] = asyncio.Queue()

    async def database_down(_: Any) -> bool:
        raise ConnectionError("the bot database is unreachable")

    async def duplicate(_: Any) -> bool:
        return False

    settings = TelegramSettings.load(
        {"token": "1:x", "mode": "webhook", "secret_token": "s3cret"}, {}
    )
    application = SimpleNamespace(bot=None, update_queue=queued)
    request = SimpleNamespace(
        headers={SECRET_HEADER: "s3cret"},
        body=b'{"update_id": 7, "message": null}',
        ip="127.0.0.1",
    )
    down = await webhook_receive(request, settings, application, record=database_down)  # type: ignore[arg-type]
    again = await webhook_receive(request, settings, application, record=duplicate)  # type: ignore[arg-type]

    assert (down.status, again.status) == (503, 200)
    assert queued.empty()


async def test_media_rasa_fails_on_gets_an_apology_and_a_ticket_too(
    harness: Harness, handoff_here: HandoffServices
) -> None:
    fake = harness.fake
    harness.rasa.failure = ConnectionError("tracker store unreachable")
    await fake.inject(fake.make.photo(user_id=106))
    (apology,) = await fake.wait_for_messages(106)
    assert "support team" in apology["text"]
    ticket = await handoff_here.store.find_open("telegram:106")
    assert ticket is not None and ticket.reason is EscalationReason.BOT_FAILURE


@pytest.mark.parametrize("kind", ["photo", "sticker", "voice", "document"])
async def test_media_gets_polite_reply_and_metadata(harness: Harness, kind: str) -> None:
    fake = harness.fake
    await fake.inject(getattr(fake.make, kind)(user_id=105))
    (answer,) = await fake.wait_for_messages(105)
    assert answer["text"] == "I can only read text."
    assert harness.rasa.executed == [("telegram:105", "utter_unsupported_content")]
    (logged,) = harness.rasa.logged
    assert logged.text == "/unsupported_content"
    assert logged.metadata["telegram"]["content"]["type"] == kind
    assert logged.metadata["telegram"]["content"]["file_id"]
    assert not harness.rasa.received


async def test_retry_after_is_honoured(harness: Harness) -> None:
    fake = harness.fake
    fake.fail_next("sendMessage", retry_after=1)
    started = time.monotonic()
    await fake.inject(fake.make.text("hello", user_id=106))
    await fake.wait_for_messages(106)
    sends = fake.calls_of("sendMessage")
    assert len(sends) == 2 and sends[1].at - sends[0].at >= 0.95
    assert time.monotonic() - started >= 1


async def test_network_errors_retried_then_recorded_not_lost(harness: Harness) -> None:
    fake = harness.fake
    fake.fail_next("sendMessage", status=502)
    await fake.inject(fake.make.text("retry me", user_id=107))
    await fake.wait_for_messages(107)  # second attempt went through
    for _ in range(5):
        fake.fail_next("sendMessage", status=502)
    output = harness.channel.get_output_channel()
    assert output is not None
    await output.send_text_message("telegram:107", "lost?")
    (failure,) = await harness.store.failures()
    assert failure["conversation_id"] == "telegram:107" and failure["payload"]["text"] == "lost?"
    assert "Bad Gateway" in failure["error"]


async def test_proactive_message_routed_by_conversation_id(harness: Harness) -> None:
    output = harness.channel.get_output_channel()
    assert output is not None
    await output.send_text_message(f"telegram:{GROUP_ID}:9", "Your engineer is on the way.")
    (message,) = await harness.fake.wait_for_messages(GROUP_ID)
    assert message["text"] == "Your engineer is on the way."


async def test_polling_stops_cleanly(harness: Harness) -> None:
    await harness.channel._stop()
    count = len(harness.fake.calls_of("getUpdates"))
    await harness.fake.inject(harness.fake.make.text("anyone?", user_id=108))
    await asyncio.sleep(1.5)  # longer than the poll timeout: nothing may fetch it any more
    assert len(harness.fake.calls_of("getUpdates")) == count
    assert harness.channel.get_output_channel() is None

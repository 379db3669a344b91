"""End to end: the trained bot behind channels.telegram.TelegramInput, against the fake Bot API.

One Rasa server per transport (long polling, webhook) for the session; each test uses its
own chat ids so conversations never mix.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.testing.telegram_plugin import TelegramBot
from bot.testing.telegram_updates import GROUP_ID

pytestmark = pytest.mark.e2e
DOMAIN = yaml.safe_load((Path(__file__).parents[1] / "domain.yml").read_text())
WAIT = 60.0


def texts(response: str) -> list[str]:
    """The variants of a domain response, as plain text (for responses without markup)."""
    return [variant["text"] for variant in DOMAIN["responses"][response]]


async def tracker(bot: TelegramBot, sender_id: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        url = f"{bot.server.rasa_url}/conversations/{sender_id}/tracker"
        async with session.get(url, params=bot.server.api_params) as response:
            assert response.status == 200
            return dict(await response.json())


def with_buttons() -> str:
    """A domain response that carries buttons (the handoff offer, if it still exists)."""
    responses = DOMAIN["responses"]
    if any(v.get("buttons") for v in responses.get("utter_offer_human", [])):
        return "utter_offer_human"
    return next(name for name, variants in responses.items() if variants[0].get("buttons"))


async def send_offer(bot: TelegramBot, user_id: int) -> dict[str, Any]:
    """Has Rasa send a response with buttons to ``telegram:<user_id>`` (proactively)."""
    await bot.fake.inject(bot.fake.make.text("hello", user_id=user_id))  # starts the conversation
    await bot.fake.wait_for_messages(user_id, timeout=WAIT)
    url = f"{bot.server.rasa_url}/conversations/telegram:{user_id}/execute"
    params = {"output_channel": "telegram", **bot.server.api_params}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, params=params, json={"name": with_buttons()}) as response,
    ):
        assert response.status == 200, await response.text()
    _, offer = await bot.fake.wait_for_messages(user_id, 2, timeout=WAIT)
    return offer


async def wait_for_user_text(bot: TelegramBot, sender_id: str, text: str) -> dict[str, Any]:
    """The user event with ``text`` in the tracker, waiting for Rasa to record it."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        events = [e for e in user_events(await tracker(bot, sender_id)) if e["text"] == text]
        if events:
            return events[-1]
        await asyncio.sleep(0.2)
    pytest.fail(f"{text!r} never reached Rasa for {sender_id}")


async def settled_user_events(bot: TelegramBot, sender_id: str, count: int) -> list[dict[str, Any]]:
    """User events once at least ``count`` are saved (replies go out before the save)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        events = user_events(await tracker(bot, sender_id))
        if len(events) >= count:
            await asyncio.sleep(0.5)  # let any extra (wrong) event land too
            return user_events(await tracker(bot, sender_id))
        await asyncio.sleep(0.2)
    pytest.fail(f"fewer than {count} user turns reached Rasa for {sender_id}")


def user_events(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in state["events"] if e["event"] == "user"]


# -- long polling ----------------------------------------------------------------------
async def test_private_message_gets_the_formatted_answer(telegram_polling_bot: TelegramBot) -> None:
    fake = telegram_polling_bot.fake
    await fake.inject(fake.make.text("hello", user_id=2001))
    (answer,) = await fake.wait_for_messages(2001, timeout=WAIT)
    assert answer["text"] in texts("utter_greet")
    await fake.inject(fake.make.text("/help", user_id=2001))
    _, capabilities = await fake.wait_for_messages(2001, 2, timeout=WAIT)
    assert (
        "<b>Billing</b>" in capabilities["html"]
        and "\n• <b>Your account</b>" in capabilities["html"]
    )
    assert "**" not in capabilities["text"] and "Billing: paying" in capabilities["text"]


async def test_commands_registered_from_domain(telegram_polling_bot: TelegramBot) -> None:
    bot, fake = telegram_polling_bot, telegram_polling_bot.fake
    commands = {c["command"]: c["description"] for c in fake.commands}
    assert list(commands) == ["start", "help", "human", "restart", "privacy", "forgetme", "cancel"]
    assert commands["human"] in texts("utter_telegram_command_human")
    await fake.inject(fake.make.text("/human", user_id=2002))
    await fake.wait_for_messages(2002, timeout=WAIT)  # whatever the handoff answers
    (event,) = await settled_user_events(bot, "telegram:2002", 1)
    assert event["parse_data"]["intent"]["name"] == "human_handoff"
    assert event["metadata"]["telegram"]["command"] == "human"


async def test_group_mentions_and_replies_with_one_conversation_per_user(
    telegram_polling_bot: TelegramBot,
) -> None:
    bot, fake = telegram_polling_bot, telegram_polling_bot.fake
    username = fake.bot_user["username"]
    await fake.inject(fake.make.text("hello everyone", user_id=2003, chat_id=GROUP_ID))
    await fake.inject(fake.make.text(f"hello @{username}", user_id=2003, chat_id=GROUP_ID))
    (first,) = await fake.wait_for_messages(GROUP_ID, timeout=WAIT)
    assert first["text"] in texts("utter_greet")
    await fake.inject(fake.make.text("hi there", user_id=2004, chat_id=GROUP_ID, reply_to=first))
    await fake.wait_for_messages(GROUP_ID, 2, timeout=WAIT)
    one = await settled_user_events(bot, f"telegram:{GROUP_ID}:2003", 1)
    two = await settled_user_events(bot, f"telegram:{GROUP_ID}:2004", 1)
    assert [e["text"] for e in one] == ["hello"]  # the unaddressed message never reached Rasa
    assert [e["text"] for e in two] == ["hi there"]


async def test_button_flow(telegram_polling_bot: TelegramBot) -> None:
    bot, fake = telegram_polling_bot, telegram_polling_bot.fake
    offer = await send_offer(bot, 2005)
    button = offer["reply_markup"]["inline_keyboard"][-1][-1]
    payload = DOMAIN["responses"][with_buttons()][0]["buttons"][-1]["payload"]
    await fake.inject(fake.make.callback(offer, button["callback_data"], user_id=2005))
    pressed = await wait_for_user_text(bot, "telegram:2005", payload)
    assert pressed["metadata"]["telegram"]["button"] == button["text"]
    assert len(fake.answered_callbacks) == 1 and not fake.pending_callbacks
    marked = fake.sent[offer["message_id"]]
    assert marked["reply_markup"] is None and marked["text"].endswith(f"✅ {button['text']}")


async def test_duplicate_update_gets_one_answer(telegram_polling_bot: TelegramBot) -> None:
    fake = telegram_polling_bot.fake
    update = fake.make.text("hello", user_id=2006)
    await fake.inject(update)
    await fake.wait_for_messages(2006, timeout=WAIT)
    await fake.inject(update)
    await fake.inject(fake.make.text("thanks", user_id=2006))
    await fake.wait_for_messages(2006, 2, timeout=WAIT)
    events = await settled_user_events(telegram_polling_bot, "telegram:2006", 2)
    assert [e["text"] for e in events] == ["hello", "thanks"]
    assert len(fake.messages_to(2006)) == 2


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice"])
async def test_media_gets_a_polite_reply(telegram_polling_bot: TelegramBot, kind: str) -> None:
    fake, user_id = telegram_polling_bot.fake, 2010 + ["sticker", "photo", "voice"].index(kind)
    await fake.inject(getattr(fake.make, kind)(user_id=user_id))
    (answer,) = await fake.wait_for_messages(user_id, timeout=WAIT)
    assert answer["text"] in texts("utter_unsupported_content")
    (event,) = await settled_user_events(telegram_polling_bot, f"telegram:{user_id}", 1)
    assert event["metadata"]["telegram"]["content"]["type"] == kind


async def test_a_photo_during_a_handoff_is_kept_for_the_agent_and_gets_no_bot_reply(
    telegram_polling_bot: TelegramBot,
) -> None:
    fake, user_id = telegram_polling_bot.fake, 2036  # its own chat: it stays with a person
    await fake.inject(fake.make.text("talk to a human", user_id=user_id))
    queued = await fake.wait_for_messages(user_id, timeout=WAIT)
    await fake.inject(fake.make.photo(user_id=user_id))
    events = await settled_user_events(telegram_polling_bot, f"telegram:{user_id}", 2)
    assert events[-1]["metadata"]["telegram"]["content"]["type"] == "photo"  # for the agent
    await asyncio.sleep(1.0)  # a polite reply would have been sent by now
    later = fake.messages_to(user_id)[len(queued) :]
    assert not any(m["text"] in texts("utter_unsupported_content") for m in later)


async def test_retry_after_honoured(telegram_polling_bot: TelegramBot) -> None:
    fake = telegram_polling_bot.fake
    fake.fail_next("sendMessage", retry_after=2)
    await fake.inject(fake.make.text("hello", user_id=2020))
    await fake.wait_for_messages(2020, timeout=WAIT)
    first, second = [c for c in fake.calls_of("sendMessage") if c.params["chat_id"] == "2020"]
    assert second.at - first.at >= 1.95


# -- webhook ---------------------------------------------------------------------------
async def test_webhook_registered_with_secret(telegram_webhook_bot: TelegramBot) -> None:
    (call,) = telegram_webhook_bot.fake.calls_of("setWebhook")
    assert call.params["url"] == telegram_webhook_bot.webhook_url
    assert call.params["secret_token"] == telegram_webhook_bot.secret
    assert not telegram_webhook_bot.fake.calls_of("getUpdates")


async def test_webhook_message_gets_answer(telegram_webhook_bot: TelegramBot) -> None:
    fake = telegram_webhook_bot.fake
    assert await fake.inject(fake.make.text("hello", user_id=3001)) == 200
    (answer,) = await fake.wait_for_messages(3001, timeout=WAIT)
    assert answer["text"] in texts("utter_greet")


async def test_webhook_button_flow(telegram_webhook_bot: TelegramBot) -> None:
    fake = telegram_webhook_bot.fake
    offer = await send_offer(telegram_webhook_bot, 3002)
    button = offer["reply_markup"]["inline_keyboard"][-1][-1]
    payload = DOMAIN["responses"][with_buttons()][0]["buttons"][-1]["payload"]
    assert (
        await fake.inject(fake.make.callback(offer, button["callback_data"], user_id=3002)) == 200
    )
    await wait_for_user_text(telegram_webhook_bot, "telegram:3002", payload)
    assert fake.sent[offer["message_id"]]["reply_markup"] is None
    assert not fake.pending_callbacks


@pytest.mark.parametrize("secret", [None, "wrong-secret-value"])
async def test_webhook_rejects_wrong_or_missing_secret(
    telegram_webhook_bot: TelegramBot, secret: str | None
) -> None:
    fake = telegram_webhook_bot.fake
    user_id = 3010 if secret is None else 3011
    assert await fake.inject(fake.make.text("hello", user_id=user_id), secret=secret) == 403
    assert await fake.inject(fake.make.text("/start", user_id=3099)) == 200  # still serving
    await fake.wait_for(lambda: fake.messages_to(3099), timeout=WAIT)
    assert not fake.messages_to(user_id)
    log = (telegram_webhook_bot.server.state / "rasa.log").read_text()
    assert "rejected" in log
    assert "wrong-secret-value" not in log and str(telegram_webhook_bot.secret) not in log
    assert fake.token not in log and fake.token.split(":")[1] not in log


async def test_proactive_message_routed_from_conversation_id(
    telegram_polling_bot: TelegramBot,
) -> None:
    bot, fake = telegram_polling_bot, telegram_polling_bot.fake
    for sender_id, chat_id in (("telegram:2030", 2030), (f"telegram:{GROUP_ID}:2031", GROUP_ID)):
        before = len(fake.messages_to(chat_id))
        url = f"{bot.server.rasa_url}/conversations/{sender_id}/trigger_intent"
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                url,
                params={"output_channel": "telegram", **bot.server.api_params},
                json={"name": "greet"},
            ) as response,
        ):
            assert response.status == 200, await response.text()
        messages = await fake.wait_for_messages(chat_id, before + 1, timeout=WAIT)
        assert messages[-1]["text"] in texts("utter_greet")


async def test_webhook_answers_an_update_ptb_cannot_parse(
    telegram_webhook_bot: TelegramBot,
) -> None:
    """A document whose thumbnail is {} from a user without is_bot: 200 (no redelivery),
    the repair logged with the update id, and the polite reply all the same."""
    fake, user_id = telegram_webhook_bot.fake, 2040
    update = fake.make.document(user_id=user_id)
    update["message"]["document"]["thumbnail"] = {}
    del update["message"]["from"]["is_bot"]
    assert await fake.inject(update, as_recorded=True) == 200
    (answer,) = await fake.wait_for_messages(user_id, timeout=WAIT)
    assert answer["text"] in texts("utter_unsupported_content")
    log = (telegram_webhook_bot.server.state / "rasa.log").read_text()
    assert f"Telegram update {update['update_id']} could not be read as sent" in log


async def test_webhook_acknowledges_an_unreadable_update(telegram_webhook_bot: TelegramBot) -> None:
    fake = telegram_webhook_bot.fake
    assert (
        await fake.inject({"update_id": 990001, "message": {"message_id": 1}}, as_recorded=True)
        == 200
    )


async def test_a_private_die_gets_the_polite_reply(telegram_polling_bot: TelegramBot) -> None:
    fake, user_id = telegram_polling_bot.fake, 2041
    await fake.inject(
        fake.make.update(
            message=fake.make.message(user_id=user_id, dice={"emoji": "🎲", "value": 3})
        )
    )
    (answer,) = await fake.wait_for_messages(user_id, timeout=WAIT)
    assert answer["text"] in texts("utter_unsupported_content")

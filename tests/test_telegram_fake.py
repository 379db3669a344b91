"""The fake Bot API itself: it must catch what real Telegram would reject."""

from __future__ import annotations

import json
import socket
from typing import Any

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError

from bot.testing.fake_telegram import FakeTelegram
from bot.testing.telegram_net_guard import NetworkBlocked, guard_network
from bot.testing.telegram_spec import BotApiSpec


async def call(
    fake: FakeTelegram, method: str, *, json_body: Any = None, form: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    url = f"{fake.base_url}{fake.token}/{method}"
    async with aiohttp.ClientSession() as http, http.post(url, json=json_body, data=form) as r:
        return r.status, await r.json()


async def test_conforming_json_and_form_requests(fake_telegram: FakeTelegram) -> None:
    markup = {"inline_keyboard": [[{"text": "Yes", "callback_data": "/affirm"}]]}
    status, body = await call(
        fake_telegram, "sendMessage", json_body={"chat_id": 5, "text": "hi", "reply_markup": markup}
    )
    assert status == 200 and body["result"]["text"] == "hi"
    status, _ = await call(
        fake_telegram,
        "sendMessage",
        form={
            "chat_id": "5",
            "text": "<b>hi</b>",
            "parse_mode": "HTML",
            "reply_markup": json.dumps(markup),
        },
    )
    assert status == 200 and fake_telegram.messages_to(5)[-1]["text"] == "hi"


@pytest.mark.parametrize(
    "method, body, problem",
    [
        ("sendMessage", {"text": "no chat"}, "missing required field 'chat_id'"),
        ("sendMessage", {"chat_id": 5, "text": 7}, "sendMessage.text: expected String"),
        ("sendMessage", {"chat_id": 5, "text": "x", "colour": "red"}, "unknown field 'colour'"),
        (
            "sendMessage",
            {
                "chat_id": 5,
                "text": "x",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": 1}]]},
            },
            "inline_keyboard[0][0].callback_data: expected String",
        ),
        (
            "sendMessage",
            {"chat_id": 5, "text": "x", "reply_markup": {"inline_keyboard": [{"text": "a"}]}},
            "reply_markup",
        ),
        ("sendTelepathy", {"chat_id": 5}, "no such method"),
    ],
)
async def test_non_conforming_requests_are_violations(
    telegram_spec: BotApiSpec, method: str, body: dict[str, Any], problem: str
) -> None:
    async with FakeTelegram(telegram_spec) as fake:
        status, _ = await call(fake, method, json_body=body)
    assert status == 400
    assert any(problem in violation for violation in fake.violations), fake.violations


async def test_form_values_are_typed_like_telegram(telegram_spec: BotApiSpec) -> None:
    async with FakeTelegram(telegram_spec) as fake:
        status, _ = await call(fake, "getUpdates", form={"offset": "not-a-number"})
    assert status == 400 and "getUpdates.offset: expected Integer" in fake.violations[0]


async def test_produced_updates_are_validated(telegram_spec: BotApiSpec) -> None:
    async with FakeTelegram(telegram_spec) as fake:
        update = fake.make.text("hi", user_id=1)
        del update["message"]["chat"]
        await fake.inject(update)
    assert any("missing required field 'chat'" in v for v in fake.violations)


async def test_telegram_rules_beyond_types(fake_telegram: FakeTelegram) -> None:
    bot = Bot(fake_telegram.token, base_url=fake_telegram.base_url)
    async with bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(5, "a < b", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)too long"):
            await bot.send_message(5, "x" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            button = InlineKeyboardButton("a", callback_data="x" * 65)
            await bot.send_message(5, "x", reply_markup=InlineKeyboardMarkup([[button]]))
        with pytest.raises(BadRequest, match=r"(?i)query"):
            await bot.answer_callback_query("never-sent")


async def test_get_updates_long_polls_and_confirms(fake_telegram: FakeTelegram) -> None:
    bot = Bot(fake_telegram.token, base_url=fake_telegram.base_url)
    async with bot:
        assert await bot.get_updates(timeout=0) == ()
        await fake_telegram.inject(fake_telegram.make.text("one", user_id=3))
        (update,) = await bot.get_updates(timeout=1)
        assert update.message.text == "one"
        assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


def test_real_network_is_blocked() -> None:
    with guard_network() as blocked:
        with pytest.raises(NetworkBlocked):
            socket.create_connection(("149.154.167.220", 443), timeout=1)  # api.telegram.org
        with socket.socket() as loopback:
            loopback.settimeout(0.2)
            loopback.connect_ex(("127.0.0.1", 9))  # loopback is allowed
    assert blocked == ["149.154.167.220:443"]


async def test_real_telegram_is_blocked_even_on_uvloop() -> None:
    with guard_network() as blocked, pytest.raises(NetworkError):
        async with Bot("1:not-a-real-token") as bot:  # the default base URL: api.telegram.org
            await bot.get_me()
    assert blocked and blocked[0].startswith("api.telegram.org")

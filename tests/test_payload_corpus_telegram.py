"""Real Telegram updates (tests/payloads/telegram, see tests/payloads/README.md) replayed
through the channel (long polling against the fake Bot API, Rasa stubbed): texts answered,
media, dice, contacts and places get the polite reply, service messages, groups not
addressed to the bot, edits, reactions and payments stay silent, and nothing crashes,
also where python-telegram-bot cannot read the update as sent (older Bot API shapes)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from channels.telegram.settings import TelegramSettings
from channels.telegram.webhook import SECRET_HEADER, receive
from tests.test_telegram_channel import Harness, harness  # noqa: F401 (the fixture)

CORPUS = Path(__file__).parent / "payloads" / "telegram"
PAYLOADS = sorted(CORPUS.glob("*.json"))
PRIVATE = "telegram:7000001"
# texts Rasa receives (the stub answers them)
ANSWERED = {
    "aiogram_forwarded_message": "Forwarded text with entities from public channel",
    "aiogram_message": "Hi, world!",
    "aiogram_reply_message": "Reply to quoted message",
    "teloxide_message_03_message_text": "Лол кек 😂",
    "teloxide_message_29_message_text": "El Psy Kongroo",
    "teloxide_update_00_message": "hello there",
    "teloxide_update_03_message": "4",
}
# content the bot cannot read: the polite reply (utter_unsupported_content)
POLITE = {
    "aiogram_message_with_audio",
    "aiogram_message_with_contact",
    "aiogram_message_with_dice",
    "aiogram_message_with_document",
    "aiogram_message_with_location",
    "aiogram_message_with_media_group",
    "aiogram_message_with_photo",
    "aiogram_message_with_sticker",
    "aiogram_message_with_venue",
    "aiogram_message_with_video",
    "aiogram_message_with_video_note",
    "aiogram_message_with_voice",
    "teloxide_message_00_message_video",
    "teloxide_message_02_message_media_group_id",
    "teloxide_message_04_message_sticker",
    "teloxide_message_05_message_photo",
    "teloxide_message_09_message_location",
    "teloxide_message_11_message_photo",
    "teloxide_message_30_message_photo",
    "variant_document_empty_thumbnail",
}
SENTINEL_USER = 555


def test_the_corpus_covers_the_kinds_telegram_sends() -> None:
    updates = [json.loads(path.read_text()) for path in PAYLOADS]
    kinds = {next(k for k in u if k != "update_id") for u in updates}
    assert len(PAYLOADS) >= 40
    assert {"message", "edited_message", "channel_post", "callback_query"} <= kinds
    assert {"my_chat_member", "message_reaction", "pre_checkout_query"} <= kinds
    assert set(ANSWERED) | POLITE <= {p.stem for p in PAYLOADS}


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.stem)
async def test_replayed_update_is_answered_as_expected(harness: Harness, path: Path) -> None:  # noqa: F811
    fake, rasa = harness.fake, harness.rasa
    update = json.loads(path.read_text())
    await fake.inject(update, as_recorded=True)  # older Bot API shapes break today's spec
    if path.stem in ANSWERED or path.stem in POLITE:
        await fake.wait_for_messages(update["message"]["chat"]["id"])
    # a customer writing afterwards is answered: the update never stopped the channel
    await fake.inject(fake.make.text("still there?", user_id=SENTINEL_USER))
    await fake.wait_for_messages(SENTINEL_USER)
    received = [(m.sender_id, m.text) for m in rasa.received if m.text != "still there?"]
    expected_text = ANSWERED.get(path.stem)
    assert received == ([(PRIVATE, expected_text)] if expected_text else [])
    polite = ["utter_unsupported_content"] if path.stem in POLITE else []
    assert [action for _, action in rasa.executed] == polite
    others = [m for m in fake.sent.values() if m["chat"]["id"] != SENTINEL_USER]
    assert len(others) == (1 if expected_text or polite else 0)


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda p: p.stem)
async def test_replayed_update_is_acknowledged_by_the_webhook(path: Path) -> None:
    """Every update gets a 200 and reaches the Application readable (repaired if need be)."""
    settings = TelegramSettings.load({"token": "1:x", "mode": "webhook", "secret_token": "s"}, {})
    queue: asyncio.Queue[Any] = asyncio.Queue()
    application: Any = SimpleNamespace(bot=None, update_queue=queue)
    request: Any = SimpleNamespace(
        body=path.read_bytes(), headers={SECRET_HEADER: "s"}, ip="127.0.0.1"
    )
    assert (await receive(request, settings, application)).status == 200
    update = queue.get_nowait()
    assert update.update_id == json.loads(path.read_text())["update_id"]

"""Updates python-telegram-bot cannot parse as sent are repaired and answered, never retried
forever; private dice and polls get the polite reply stickers get; the fake accepts what
Telegram really sends."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from bot.testing.fake_telegram import FakeTelegram
from bot.testing.telegram_spec import BotApiSpec
from channels.telegram.lenient import parse_update
from channels.telegram.settings import TelegramSettings
from channels.telegram.webhook import SECRET_HEADER, receive
from tests.test_telegram_channel import Harness, harness  # noqa: F401 (the fixture)


def document_with_empty_thumbnail(fake: FakeTelegram, user_id: int) -> dict[str, Any]:
    """A real-world shape: ``thumbnail: {}`` (PTB needs its file_id) and a user without
    ``is_bot`` (updates recorded before the field existed)."""
    update = fake.make.document(user_id=user_id)
    update["message"]["document"]["thumbnail"] = {}
    del update["message"]["from"]["is_bot"]
    return update


def test_an_unparsable_update_is_repaired_and_the_repairs_named(
    fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    update = document_with_empty_thumbnail(fake_telegram, 301)
    parsed = parse_update(update)
    assert parsed.update is not None and parsed.update.message is not None
    assert parsed.update.message.document is not None
    assert parsed.update.message.document.thumbnail is None
    assert parsed.update.message.from_user is not None
    assert parsed.update.message.from_user.is_bot is False
    assert f"Telegram update {update['update_id']} could not be read as sent" in caplog.text


def test_an_update_beyond_repair_is_logged_with_its_id(caplog: pytest.LogCaptureFixture) -> None:
    parsed = parse_update({"update_id": 77, "message": {"message_id": 1, "text": "no chat"}})
    assert parsed.update is None and parsed.update_id == 77
    assert "Telegram update 77 could not be read" in caplog.text


async def test_polling_answers_a_repaired_update_and_goes_on(harness: Harness) -> None:  # noqa: F811
    fake = harness.fake
    await fake.inject(document_with_empty_thumbnail(fake, 302), as_recorded=True)
    (answer,) = await fake.wait_for_messages(302)
    assert answer["text"] == "I can only read text."
    await fake.inject({"update_id": 900001, "message": {"message_id": 5}}, as_recorded=True)
    await fake.inject(fake.make.text("still there?", user_id=303))
    await fake.wait_for_messages(303)  # polling went past the unreadable update
    assert [m.text for m in harness.rasa.received] == ["still there?"]


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("dice", {"emoji": "🎲", "value": 4}),
        (
            "poll",
            {
                "id": "5001",
                "question": "Best router spot?",
                "options": [
                    {"persistent_id": "o1", "text": "Hall", "voter_count": 0},
                    {"persistent_id": "o2", "text": "Attic", "voter_count": 0},
                ],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
                "allows_revoting": False,
                "members_only": False,
            },
        ),
    ],
)
async def test_private_dice_and_polls_get_the_polite_reply(
    harness: Harness,  # noqa: F811
    kind: str,
    content: dict[str, Any],
) -> None:
    fake = harness.fake
    await fake.inject(fake.make.update(message=fake.make.message(user_id=304, **{kind: content})))
    (answer,) = await fake.wait_for_messages(304)
    assert answer["text"] == "I can only read text."
    assert harness.rasa.executed == [("telegram:304", "utter_unsupported_content")]
    assert harness.rasa.logged[0].metadata["telegram"]["content"]["type"] == kind


class _Request(SimpleNamespace):
    pass


async def test_webhook_acknowledges_what_it_cannot_read(
    fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    import json

    settings = TelegramSettings.load(
        {"token": fake_telegram.token, "mode": "webhook", "secret_token": "s3cret"}, {}
    )
    queue: asyncio.Queue[Any] = asyncio.Queue()
    application: Any = SimpleNamespace(bot=None, update_queue=queue)
    caplog.set_level(logging.INFO)

    async def post(body: bytes) -> int:
        request = _Request(body=body, headers={SECRET_HEADER: "s3cret"}, ip="127.0.0.1")
        return (await receive(request, settings, application)).status  # type: ignore[arg-type]

    repaired = document_with_empty_thumbnail(fake_telegram, 305)
    assert await post(json.dumps(repaired).encode()) == 200
    assert (await queue.get()).update_id == repaired["update_id"]
    assert await post(b'{"update_id": 78, "message": {"message_id": 1}}') == 200
    assert await post(b"not json") == 200
    assert queue.empty()
    assert "Telegram update 78 could not be read" in caplog.text


def test_the_fake_accepts_fields_real_clients_still_send(telegram_spec: BotApiSpec) -> None:
    chat = {
        "id": -42,
        "type": "group",
        "title": "Old group",
        "all_members_are_administrators": True,
    }
    update = {"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": chat, "text": "hi"}}
    assert telegram_spec.validate_object("Update", update, strict=False) == []
    [problem] = telegram_spec.validate_object("Update", update)  # the project's own: strict
    assert "all_members_are_administrators" in problem
    del update["message"]["chat"]["id"]
    assert telegram_spec.validate_object("Update", update, strict=False)  # required stays

"""Oversized and malformed input: refused early with a short JSON error, never a 5xx, a
traceback or an echo of the body; the bot keeps answering; logs carry a bounded excerpt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from attacker import (
    LOG_EXCERPT_LIMIT,
    MESSAGE_LIMIT,
    REFUSAL_TIMEOUT,
    REST_PATH,
    Answer,
    api_params,
    bearer,
    request,
    say,
    shows_a_traceback,
    still_answers,
    tracker,
    user_events,
)

from bot.testing.servers import RunningBot

pytestmark = pytest.mark.e2e
MEGABYTE = 1024 * 1024
ECHO_MARKER = "zqxj-echo-marker"
NESTED = "[" * 1000 + "]" * 1000
MALFORMED = {
    "empty": b"",
    "null": b"null",
    "array": b'["' + ECHO_MARKER.encode() + b'"]',
    "string": json.dumps(ECHO_MARKER).encode(),
    "number": b"42",
    "nested 1000 deep": NESTED.encode(),
    "nested objects": ('{"a":' * 1000 + "1" + "}" * 1000).encode(),
    "not json": f"{{{ECHO_MARKER}".encode(),
    "wrong types": json.dumps({"sender": [ECHO_MARKER], "message": {"text": 1}}).encode(),
}


def short_json_error(answer: Answer) -> None:
    """400 with a short JSON error: no traceback, no echo of what was sent."""
    assert answer.status == 400, (answer.status, answer.text[:300])
    assert answer.content_type == "application/json"
    assert isinstance(answer.json(), dict) and len(answer.text) < 500
    assert not shows_a_traceback(answer.text)
    assert ECHO_MARKER not in answer.text


def customer_text(length: int) -> str:
    """Distinct words, so any long run of them in a log is this message."""
    words = (f"w{index:05d}" for index in range(length // 6 + 1))
    return " ".join(words)[:length]


async def test_a_message_over_the_limit_gets_a_polite_reply(rest_bot: RunningBot) -> None:
    text = customer_text(MESSAGE_LIMIT + 1)
    replies = await say(rest_bot, "too-long", text)
    assert any(r.get("text") for r in replies)
    for conversation in ("rest:too-long", "too-long"):
        stored = user_events(await tracker(rest_bot, conversation))
        assert all(len(e.get("text") or "") <= MESSAGE_LIMIT for e in stored)


async def test_a_message_at_the_limit_is_answered_normally(rest_bot: RunningBot) -> None:
    text = ("How do I reset my password? " * 200)[:MESSAGE_LIMIT]
    assert await say(rest_bot, "at-limit", text)


async def test_a_megabyte_body_is_refused_quickly(rest_bot: RunningBot) -> None:
    body = json.dumps({"sender": "megabyte", "message": customer_text(MEGABYTE)}).encode()
    answer = await request(
        "POST",
        rest_bot.rasa_url + REST_PATH,
        headers=bearer(rest_bot, "rest"),
        data=body,
        timeout=REFUSAL_TIMEOUT,
    )
    assert answer.status in (400, 413)
    assert not shows_a_traceback(answer.text) and "w00001 w00002" not in answer.text
    await still_answers(rest_bot, "after-megabyte")


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_rest_bodies_get_400(rest_bot: RunningBot, body: bytes) -> None:
    answer = await request(
        "POST", rest_bot.rasa_url + REST_PATH, headers=bearer(rest_bot, "rest"), data=body
    )
    short_json_error(answer)


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_action_server_bodies_get_400(rest_bot: RunningBot, body: bytes) -> None:
    answer = await request(
        "POST",
        f"{rest_bot.actions_url}/webhook",
        headers=bearer(rest_bot, "action_server"),
        data=body,
    )
    short_json_error(answer)


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_parse_bodies_get_400(rest_bot: RunningBot, body: bytes) -> None:
    answer = await request(
        "POST", f"{rest_bot.rasa_url}/model/parse", params=api_params(rest_bot), data=body
    )
    short_json_error(answer)


async def test_the_bot_answers_after_malformed_input(rest_bot: RunningBot) -> None:
    await still_answers(rest_bot, "after-malformed")


async def test_logs_carry_a_bounded_excerpt_of_customer_text(rest_bot: RunningBot) -> None:
    text = customer_text(3 * LOG_EXCERPT_LIMIT)
    await say(rest_bot, "log-bound", text)
    windows = {text[i : i + LOG_EXCERPT_LIMIT] for i in range(0, len(text) - LOG_EXCERPT_LIMIT, 97)}
    for log in sorted(Path(rest_bot.state).glob("*.log")):
        for number, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
            if "w0" in line and len(line) > LOG_EXCERPT_LIMIT:
                assert not any(w in line for w in windows), f"{log.name}:{number} carries it"

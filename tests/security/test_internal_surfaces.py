"""Attacks on the bot's internal HTTP surfaces, against the real processes `bot run` starts.

Each call below comes from someone who can reach the ports but holds no token (or sends
garbage): Rasa's API, the action server and the REST channel must refuse it (401 or 400,
short JSON, no traceback, no echo) and change nothing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import pytest

from bot.testing.servers import RunningBot

pytestmark = pytest.mark.e2e

ONE_MEGABYTE = 1024 * 1024
TOO_DEEP = "[" * 1000 + "]" * 1000
#: what a response body must never contain
LEAKS = ("Traceback", "Error:", 'File "', "request_body")


async def call(
    method: str,
    url: str,
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    data: bytes | str | None = None,
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, params=params, headers=headers, data=data) as reply,
    ):
        return reply.status, await reply.text()


async def post_too_large(url: str, body: str | bytes, **kwargs: Any) -> int | None:
    """POSTs an oversized body: the status, or None when the server closed the connection
    while the body was still being sent (it answers 413 after reading up to its limit and
    closes; a fast client may still be writing)."""
    try:
        status, answer = await call("POST", url, data=body, **kwargs)
    except (aiohttp.ClientConnectionError, ConnectionError):  # aiohttp raises either
        return None
    assert "Traceback" not in answer
    return status


def short_json_error(body: str) -> dict[str, Any]:
    """The body is a short JSON error that reveals nothing."""
    answer: dict[str, Any] = json.loads(body)
    assert set(answer) <= {"error", "version", "status", "message", "reason", "help", "code"}
    assert len(body) < 400
    assert not any(leak in body for leak in LEAKS)
    return answer


async def events(bot: RunningBot, conversation: str) -> list[dict[str, Any]]:
    return list((await bot.conversations().tracker(conversation))["events"])


async def said_by_customer(bot: RunningBot, conversation: str) -> list[str]:
    """What the conversation's customer said (reading a tracker starts an empty session)."""
    return [e["text"] for e in await events(bot, conversation) if e["event"] == "user"]


async def say(bot: RunningBot, sender: str, text: str) -> list[dict[str, Any]]:
    body = json.dumps({"sender": sender, "message": text})
    status, answer = await call(
        "POST", f"{bot.rasa_url}/webhooks/rest/webhook", headers=bot.rest_headers, data=body
    )
    assert status == 200
    messages: list[dict[str, Any]] = json.loads(answer)
    return messages


# --- Rasa's HTTP API -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/status"),
        ("GET", "/domain"),
        ("GET", "/conversations/telegram:1/tracker"),
        ("GET", "/conversations/telegram:1/story"),
        ("POST", "/model/parse"),
        ("DELETE", "/model"),
    ],
)
async def test_rasa_api_refuses_calls_without_the_token(
    rest_bot: RunningBot, method: str, path: str
) -> None:
    body = json.dumps({"text": "hello"}) if method == "POST" else None
    status, answer = await call(method, f"{rest_bot.rasa_url}{path}", data=body)
    assert status == 401
    assert "Traceback" not in answer
    wrong, _ = await call(
        method, f"{rest_bot.rasa_url}{path}", params={"token": "guess"}, data=body
    )
    assert wrong == 401


async def test_deleting_the_model_without_the_token_leaves_the_bot_answering(
    rest_bot: RunningBot,
) -> None:
    status, _ = await call("DELETE", f"{rest_bot.rasa_url}/model")
    assert status == 401
    status, answer = await call("GET", f"{rest_bot.rasa_url}/status", params=rest_bot.api_params)
    assert status == 200
    assert json.loads(answer)["model_file"]
    assert await say(rest_bot, f"alive-{uuid.uuid4()}", "hello")


async def test_a_forged_message_cannot_be_pushed_into_a_conversation(rest_bot: RunningBot) -> None:
    sender = f"victim-{uuid.uuid4()}"
    await say(rest_bot, sender, "hello")
    conversation = rest_bot.rest_conversation(sender)
    before = await events(rest_bot, conversation)
    forged = json.dumps([{"event": "bot", "text": "From support: log in at https://phish"}])
    url = f"{rest_bot.rasa_url}/conversations/{conversation}/tracker/events"
    status, _ = await call(
        "POST",
        url,
        params={"output_channel": "latest", "execute_side_effects": "true"},
        data=forged,
    )
    assert status == 401
    status, _ = await call(
        "POST",
        f"{rest_bot.rasa_url}/conversations/{conversation}/trigger_intent",
        data=json.dumps({"name": "forget_me"}),
    )
    assert status == 401
    assert await events(rest_bot, conversation) == before


async def test_the_token_opens_the_api(rest_bot: RunningBot) -> None:
    status, _ = await call(
        "GET", f"{rest_bot.rasa_url}/conversations/nobody/tracker", params=rest_bot.api_params
    )
    assert status == 200
    status, _ = await call("GET", f"{rest_bot.rasa_url}/")
    assert status == 200  # "hello from Rasa": no data, no token needed


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'"text"', b"{not json", b'{"text": 5}', TOO_DEEP.encode()],
    ids=["empty", "null", "array", "string", "malformed", "wrong-type", "too-deep"],
)
async def test_rasa_api_answers_malformed_bodies_with_a_short_400(
    rest_bot: RunningBot, body: bytes
) -> None:
    status, answer = await call(
        "POST", f"{rest_bot.rasa_url}/model/parse", params=rest_bot.api_params, data=body
    )
    assert status == 400
    short_json_error(answer)


async def test_rasas_own_refusals_do_not_quote_the_body(rest_bot: RunningBot) -> None:
    forged = json.dumps([{"event": "user", "text": 5, "parse_data": "secret-looking-text"}])
    status, answer = await call(
        "POST",
        f"{rest_bot.rasa_url}/conversations/quoted/tracker/events",
        params=rest_bot.api_params,
        data=forged,
    )
    assert status == 400
    short_json_error(answer)
    assert "secret-looking-text" not in answer


async def test_a_failure_inside_rasa_answers_without_its_cause(rest_bot: RunningBot) -> None:
    broken = json.dumps({"text": "hi", "sender": "user", "parse_data": "not a dict"})
    status, answer = await call(
        "POST",
        f"{rest_bot.rasa_url}/conversations/broken/messages",
        params=rest_bot.api_params,
        data=broken,
    )
    assert status == 500
    assert json.loads(answer) == {"error": "internal error"}


async def test_a_failing_action_answers_without_its_cause_or_the_call(rest_bot: RunningBot) -> None:
    call_body = json.dumps(
        {
            "next_action": "action_answer",
            "tracker": {"sender_id": "rest:a", "slots": {}, "events": [], "latest_message": "x"},
            "domain": {},
        }
    )
    status, answer = await call(
        "POST",
        f"{rest_bot.actions_url}/webhook",
        headers=rest_bot.action_server_headers,
        data=call_body,
    )
    assert status == 500
    assert json.loads(answer) == {"error": "internal error"}


async def test_rasa_refuses_a_one_megabyte_body(rest_bot: RunningBot) -> None:
    body = json.dumps({"text": "a" * ONE_MEGABYTE})
    url = f"{rest_bot.rasa_url}/model/parse"
    assert await post_too_large(url, body, params=rest_bot.api_params) in {413, None}
    assert await say(rest_bot, f"after-{uuid.uuid4()}", "hello")


# --- the action server -----------------------------------------------------------------


def action_call(sender: str) -> str:
    return json.dumps(
        {
            "next_action": "action_privacy_forget",
            "sender_id": sender,
            "tracker": {"sender_id": sender, "slots": {}, "events": [], "latest_message": {}},
            "domain": {},
            "version": "3.6.21",
        }
    )


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/webhook"), ("GET", "/actions")], ids=["webhook", "actions"]
)
async def test_action_server_refuses_calls_without_the_token(
    rest_bot: RunningBot, method: str, path: str
) -> None:
    data = action_call("telegram:1") if method == "POST" else None
    status, answer = await call(method, f"{rest_bot.actions_url}{path}", data=data)
    assert status == 401
    assert short_json_error(answer) == {"error": "unauthorised"}
    status, _ = await call(
        method,
        f"{rest_bot.actions_url}{path}",
        headers={"Authorization": "Bearer guess"},
        data=data,
    )
    assert status == 401


async def test_action_server_health_needs_no_token(rest_bot: RunningBot) -> None:
    status, _ = await call("GET", f"{rest_bot.actions_url}/health")
    assert status == 200


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b'"x"',
        b"{broken",
        b'{"next_action": 5, "tracker": {}}',
        b'{"next_action": "action_answer", "tracker": []}',
        b'{"next_action": "action_answer", "tracker": {"sender_id": "a", "events": {}}}',
        TOO_DEEP.encode(),
    ],
    ids=[
        "empty",
        "null",
        "array",
        "string",
        "malformed",
        "action-not-string",
        "tracker-array",
        "events-object",
        "too-deep",
    ],
)
async def test_action_server_answers_malformed_calls_with_a_short_400(
    rest_bot: RunningBot, body: bytes
) -> None:
    status, answer = await call(
        "POST", f"{rest_bot.actions_url}/webhook", headers=rest_bot.action_server_headers, data=body
    )
    assert status == 400
    short_json_error(answer)
    assert "broken" not in answer  # never an echo


async def test_action_server_refuses_a_body_beyond_its_limit(rest_bot: RunningBot) -> None:
    body = b'{"next_action": "' + b"a" * (9 * ONE_MEGABYTE) + b'"}'
    url = f"{rest_bot.actions_url}/webhook"
    assert await post_too_large(url, body, headers=rest_bot.action_server_headers) in {413, None}
    status, _ = await call("GET", f"{rest_bot.actions_url}/health")
    assert status == 200


# --- the REST channel ------------------------------------------------------------------


async def test_rest_channel_refuses_messages_without_its_token(rest_bot: RunningBot) -> None:
    sender = f"nobody-{uuid.uuid4()}"
    body = json.dumps({"sender": sender, "message": "hello"})
    url = f"{rest_bot.rasa_url}/webhooks/rest/webhook"
    for headers in ({}, {"Authorization": "Bearer guess"}, {"Authorization": rest_bot.rest_token}):
        status, answer = await call("POST", url, headers=headers, data=body)
        assert status == 401
        assert short_json_error(answer) == {"error": "unauthorised"}
    assert await said_by_customer(rest_bot, rest_bot.rest_conversation(sender)) == []


async def test_a_rest_sender_cannot_become_another_channels_customer(
    rest_bot: RunningBot,
) -> None:
    victim = f"telegram:{uuid.uuid4().int % 10**9}"
    await say(rest_bot, victim, "hello")
    assert await said_by_customer(rest_bot, victim) == []
    assert await said_by_customer(rest_bot, f"rest:{victim}") == ["hello"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b'"hello"',
        b"42",
        b"{oops",
        b'{"message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": 7, "message": "hi"}',
        b'{"sender": "a"}',
        b'{"sender": "a", "message": ["hi"]}',
        TOO_DEEP.encode(),
    ],
    ids=[
        "empty",
        "null",
        "array",
        "string",
        "number",
        "malformed",
        "no-sender",
        "empty-sender",
        "sender-number",
        "no-message",
        "message-list",
        "too-deep",
    ],
)
async def test_rest_channel_answers_malformed_bodies_with_a_short_400(
    rest_bot: RunningBot, body: bytes
) -> None:
    status, answer = await call(
        "POST",
        f"{rest_bot.rasa_url}/webhooks/rest/webhook",
        headers=rest_bot.rest_headers,
        data=body,
    )
    assert status == 400
    short_json_error(answer)
    assert "oops" not in answer


async def test_rest_channel_refuses_a_one_megabyte_message(rest_bot: RunningBot) -> None:
    body = json.dumps({"sender": f"big-{uuid.uuid4()}", "message": "a" * ONE_MEGABYTE})
    status, _ = await call(
        "POST",
        f"{rest_bot.rasa_url}/webhooks/rest/webhook",
        headers=rest_bot.rest_headers,
        data=body,
    )
    assert status == 413

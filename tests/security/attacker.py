"""What an attacker on the network can do to the bot's HTTP surfaces, and what the tests check
afterwards (the owner's view, with the internal tokens).

The tokens of a started bot are read in one place, :func:`token` (``running_bot`` exposes them
on ``RunningBot``).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from bot.inbound.limits import MAX_MESSAGE_CHARS
from bot.privacy.log_redaction import MAX_LOG_LINE_CHARS
from bot.testing.servers import RunningBot
from channels.rest.ids import conversation_id as rest_conversation

TokenKind = Literal["rasa", "action_server", "rest"]
#: The ``RunningBot`` attribute holding each token.
_TOKEN_ATTRIBUTES: dict[TokenKind, str] = {
    "rasa": "rasa_token",
    "action_server": "action_server_token",
    "rest": "rest_token",
}
#: Environment names of the tokens (``bot run`` reads them; the tests pass their own).
TOKEN_ENV: dict[TokenKind, str] = {
    "rasa": "BOT_RASA_TOKEN",
    "action_server": "BOT_ACTION_SERVER_TOKEN",
    "rest": "BOT_REST_TOKEN",
}
REST_PATH = "/webhooks/rest/webhook"
#: Longest customer message the bot accepts (the contract's default).
MESSAGE_LIMIT = MAX_MESSAGE_CHARS
#: How much of one customer message a single log line may carry, at most (a bounded excerpt).
LOG_EXCERPT_LIMIT = MAX_LOG_LINE_CHARS
#: A refused request answers within this (a 1 MB body took up to 67 s when it was processed).
REFUSAL_TIMEOUT = aiohttp.ClientTimeout(total=30)
TIMEOUT = aiohttp.ClientTimeout(total=120)
_TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|"
    r"\b(?:KeyError|TypeError|AttributeError|ValueError|JSONDecodeError|RecursionError)\b"
)


def token(bot: RunningBot, kind: TokenKind) -> str | None:
    """The bot's ``kind`` token."""
    return str(getattr(bot, _TOKEN_ATTRIBUTES[kind])) or None


def api_params(bot: RunningBot) -> dict[str, str]:
    """The query string that authenticates a call to Rasa's HTTP API."""
    value = token(bot, "rasa")
    return {"token": value} if value else {}


def bearer(bot: RunningBot, kind: TokenKind) -> dict[str, str]:
    """The ``Authorization`` header for the action server or the REST channel."""
    value = token(bot, kind)
    return {"Authorization": f"Bearer {value}"} if value else {}


def rest_conversation_id(sender: str) -> str:
    """The conversation a REST ``sender`` is stored as (namespaced: never another channel's)."""
    return rest_conversation(sender)


def shows_a_traceback(text: str) -> bool:
    """Whether a response body carries exception text or a stack trace."""
    return _TRACEBACK.search(text) is not None


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, body text, JSON when the body is JSON."""

    status: int
    text: str
    content_type: str

    def json(self) -> Any:
        return json.loads(self.text)


async def request(
    method: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    data: bytes | None = None,
    timeout: aiohttp.ClientTimeout = TIMEOUT,
) -> Answer:
    """One HTTP call; a body given as ``data`` is sent as is (JSON content type)."""
    if data is not None:
        headers = {"Content-Type": "application/json", **(headers or {})}
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(
            method,
            url,
            params=params,
            headers=headers,
            json=json_body if data is None else None,
            data=data,
        ) as response,
    ):
        return Answer(response.status, await response.text(), response.content_type)


def request_sync(
    method: str,
    url: str,
    *,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> Answer:
    """One HTTP call from a plain thread (the fuzzing loops run outside the event loop)."""
    call = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(call, timeout=timeout) as response:
            body = response.read().decode("utf-8", "replace")
            return Answer(response.status, body, response.headers.get_content_type())
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")
        return Answer(error.code, body, error.headers.get_content_type())


async def say(bot: RunningBot, sender: str, text: str) -> list[dict[str, Any]]:
    """A customer's message over the REST channel (with the REST token); the bot's replies."""
    answer = await request(
        "POST",
        bot.rasa_url + REST_PATH,
        headers=bearer(bot, "rest"),
        json_body={"sender": sender, "message": text},
    )
    assert answer.status == 200, (answer.status, answer.text[:300])
    return list(answer.json())


async def tracker(bot: RunningBot, conversation_id: str) -> dict[str, Any]:
    """The owner's view of a conversation (Rasa's API with its token)."""
    answer = await request(
        "GET", f"{bot.rasa_url}/conversations/{conversation_id}/tracker", params=api_params(bot)
    )
    assert answer.status == 200, (answer.status, answer.text[:300])
    return dict(answer.json())


async def rest_tracker(bot: RunningBot, sender: str, text: str) -> dict[str, Any]:
    """The tracker of the REST conversation in which ``sender`` said ``text`` (stored under
    the namespaced id, as the customer-text gate passed it)."""
    state = await tracker(bot, rest_conversation_id(sender))
    assert user_events(state), f"REST sender {sender!r} said nothing ({text[:60]!r})"
    return state


def user_events(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [e for e in state.get("events") or [] if e.get("event") == "user"]


def bot_utterances(state: Mapping[str, Any]) -> list[str]:
    """The responses the bot sent (``utter_action`` of its bot events)."""
    return [
        str((e.get("metadata") or {}).get("utter_action") or "")
        for e in state.get("events") or []
        if e.get("event") == "bot"
    ]


def slot_values(state: Mapping[str, Any], slot: str) -> list[Any]:
    """Every value ``slot`` was set to in the conversation (what ``bot report`` reads)."""
    return [
        e.get("value")
        for e in state.get("events") or []
        if e.get("event") == "slot" and e.get("name") == slot
    ]


def reply_texts(replies: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(str(r.get("text") or "") for r in replies)


async def still_answers(bot: RunningBot, sender: str) -> None:
    """The bot still holds a conversation (its model is loaded, its actions run)."""
    replies = await say(bot, sender, "hello")
    assert replies, "the bot went silent"

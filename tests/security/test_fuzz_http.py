"""Property-based fuzzing of every HTTP endpoint of the running bot: the REST channel, Rasa's
API (with its token), the action server (with its token), Slack's Events API (validly signed)
and Telegram's webhook (with its secret). Whatever the body: no 5xx, no traceback in the
answer, and the process still answers afterwards.

Hypothesis drives plain-thread HTTP calls (``asyncio.to_thread``) so the session's event loop
keeps serving the fake Slack and Telegram the bot talks to meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from attacker import (
    REST_PATH,
    Answer,
    api_params,
    bearer,
    request,
    request_sync,
    shows_a_traceback,
    still_answers,
)
from fuzz_inputs import customer_text, encoded, json_values
from hypothesis import given
from hypothesis import strategies as st

from bot.testing.fake_slack import FakeSlack
from bot.testing.servers import RunningBot
from bot.testing.slack_bot import events_url
from bot.testing.telegram_plugin import TelegramBot
from channels.telegram.webhook import SECRET_HEADER as TELEGRAM_SECRET_HEADER

pytestmark = pytest.mark.e2e
JSON = {"Content-Type": "application/json"}
_ids = itertools.count(1)


def survived(answer: Answer) -> None:
    """The endpoint handled the input: no server error, no exception text."""
    assert answer.status < 500, (answer.status, answer.text[:300])
    assert not shows_a_traceback(answer.text), answer.text[:300]


async def fuzz(run: Callable[[], None]) -> None:
    """Runs a hypothesis test in a thread, the event loop free meanwhile."""
    await asyncio.to_thread(run)


# -- REST channel -------------------------------------------------------------------------
rest_messages = st.fixed_dictionaries(
    {},
    optional={
        "sender": st.one_of(st.text(max_size=40), json_values),
        "message": st.one_of(customer_text, json_values),
        "metadata": json_values,
    },
)


async def test_fuzz_rest_channel(rest_bot: RunningBot) -> None:
    url, headers = rest_bot.rasa_url + REST_PATH, {**JSON, **bearer(rest_bot, "rest")}

    @given(body=encoded(rest_messages))
    def post(body: bytes) -> None:
        survived(request_sync("POST", url, data=body, headers=headers))

    await fuzz(post)
    await still_answers(rest_bot, "after-rest-fuzz")


# -- Rasa's API ---------------------------------------------------------------------------
events = st.lists(
    st.fixed_dictionaries(
        {"event": st.sampled_from(["slot", "bot", "user", "action", "followup", "pause", "x"])},
        optional={"name": json_values, "value": json_values, "text": json_values},
    ),
    max_size=3,
)
api_calls = st.sampled_from(
    [
        ("POST", "/model/parse"),
        ("POST", "/conversations/{id}/tracker/events"),
        ("PUT", "/conversations/{id}/tracker/events"),
        ("POST", "/conversations/{id}/messages"),
        ("POST", "/conversations/{id}/trigger_intent"),
        ("POST", "/conversations/{id}/execute"),
        ("POST", "/conversations/{id}/predict"),
        ("GET", "/conversations/{id}/tracker"),
        ("GET", "/conversations/{id}/story"),
    ]
)


async def test_fuzz_rasa_api(rest_bot: RunningBot) -> None:
    params = urlencode(api_params(rest_bot))

    @given(
        call=api_calls,
        conversation=st.text(min_size=1, max_size=30),
        body=encoded(
            st.one_of(
                events,
                st.fixed_dictionaries({}, optional={"text": customer_text, "name": json_values}),
                json_values,
            )
        ),
    )
    def call_api(call: tuple[str, str], conversation: str, body: bytes) -> None:
        method, path = call
        path = path.format(id=quote(f"fuzz-{conversation}", safe=""))
        url = f"{rest_bot.rasa_url}{path}?{params}"
        data = None if method == "GET" else body
        survived(request_sync(method, url, data=data, headers=JSON))

    await fuzz(call_api)
    status = await request("GET", f"{rest_bot.rasa_url}/status", params=api_params(rest_bot))
    assert status.status == 200
    await still_answers(rest_bot, "after-api-fuzz")


# -- the action server --------------------------------------------------------------------
ACTIONS = ["action_answer", "action_forget_me", "action_record_csat", "action_escalate", "nope"]
action_calls = st.fixed_dictionaries(
    {},
    optional={
        "next_action": st.one_of(st.sampled_from(ACTIONS), json_values),
        "sender_id": st.one_of(st.text(max_size=30), json_values),
        "tracker": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "sender_id": st.text(max_size=30),
                    "slots": st.dictionaries(st.text(max_size=10), json_values, max_size=3),
                    "latest_message": json_values,
                    "events": st.one_of(events, json_values),
                },
            ),
            json_values,
        ),
        "domain": json_values,
        "version": st.one_of(st.just("3.6.21"), json_values),
    },
)


async def test_fuzz_action_server(rest_bot: RunningBot) -> None:
    url = f"{rest_bot.actions_url}/webhook"
    headers = {**JSON, **bearer(rest_bot, "action_server")}

    @given(body=encoded(action_calls))
    def post(body: bytes) -> None:
        survived(request_sync("POST", url, data=body, headers=headers))

    await fuzz(post)
    assert (await request("GET", f"{rest_bot.actions_url}/health")).status == 200
    await still_answers(rest_bot, "after-actions-fuzz")


# -- Slack's Events API, validly signed ---------------------------------------------------
def slack_events(fake: FakeSlack) -> st.SearchStrategy[Any]:
    w = fake.workspace
    event = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["message", "app_mention", "reaction_added"]),
            "user": st.sampled_from([w.user_id, w.outsider_id]),
            "text": customer_text,
            "channel": st.just(w.new_dm_channel()),
            "channel_type": st.sampled_from(["im", "channel"]),
        },
        optional={"subtype": json_values, "thread_ts": json_values, "files": json_values},
    ).map(lambda e: {**e, "ts": f"{time.time():.6f}", "event_ts": f"{time.time():.6f}"})
    return st.one_of(event.map(w.wrap), json_values)


async def test_fuzz_slack_events(slack_http_bot: RunningBot, fake_slack: FakeSlack) -> None:
    url = events_url(slack_http_bot)

    @given(body=st.one_of(slack_events(fake_slack).map(json.dumps), st.text(max_size=200)))
    def post(body: str) -> None:
        headers = {**JSON, **fake_slack.sign(body)}
        survived(request_sync("POST", url, data=body.encode(), headers=headers))

    @given(payload=json_values, raw=st.booleans())
    def click(payload: Any, raw: bool) -> None:
        form = json.dumps(payload) if raw else urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **fake_slack.sign(form)}
        survived(request_sync("POST", url, data=form.encode(), headers=headers))

    await fuzz(post)
    await fuzz(click)
    w = fake_slack.workspace
    fake_slack.reset()
    status, _ = await fake_slack.post_event(
        url, w.wrap(w.message("hello", channel=w.new_dm_channel()))
    )
    assert status == 200
    await fake_slack.wait_for("chat.postMessage")


# -- Telegram's webhook, with the secret --------------------------------------------------
def telegram_updates(user_ids: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    message = st.fixed_dictionaries(
        {
            "message_id": st.integers(1, 2**31),
            "date": st.just(1_700_000_000),
            "chat": user_ids.map(lambda uid: {"id": uid, "type": "private"}),
            "text": customer_text,
        },
        optional={"entities": json_values, "caption": json_values, "from": json_values},
    )
    update = st.fixed_dictionaries(
        {"update_id": st.builds(lambda: next(_ids) + 10**6)},
        optional={"message": st.one_of(message, json_values), "callback_query": json_values},
    )
    return st.one_of(update, json_values)


async def test_fuzz_telegram_webhook(_telegram_webhook: TelegramBot) -> None:
    bot = _telegram_webhook
    assert bot.secret is not None
    headers: Mapping[str, str] = {**JSON, TELEGRAM_SECRET_HEADER: bot.secret}

    @given(body=encoded(telegram_updates(st.integers(720000, 720999))))
    def post(body: bytes) -> None:
        survived(request_sync("POST", bot.webhook_url, data=body, headers=headers))

    await fuzz(post)
    fake = bot.fake
    await fake.inject(fake.make.text("hello", user_id=721000))
    await fake.wait_for_messages(721000, timeout=60)

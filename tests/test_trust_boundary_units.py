"""The trust boundary's pure parts: secrets, bind address, body checks, private files."""

from __future__ import annotations

import json
import stat
import zlib
from pathlib import Path

import pytest

from bot.privacy.launch import with_auth_token
from bot.runtime.action_server import action_call, authorised, decompressed
from bot.runtime.json_body import MAX_JSON_DEPTH, BadBody, declared_too_large, depth, parse_json
from bot.runtime.private_files import PRIVATE_MODE, write_private_text
from bot.runtime.rasa_api_guard import check_body, short_reason
from bot.runtime.secrets import (
    SECRET_VARIABLES,
    MissingSecrets,
    authenticated_action_endpoint,
    bind_host,
    is_loopback,
    runtime_secrets,
)
from bot.runtime.services import action_server_url, rasa_url
from bot.runtime.settings import REST_CHANNEL, with_rest_channel
from channels.rest.ids import conversation_id
from channels.rest.request import rest_message

# --- where the servers listen and which secrets they get ---------------------------------


def test_servers_listen_on_loopback_unless_told_otherwise() -> None:
    assert bind_host({}) == "127.0.0.1"
    assert bind_host({"BOT_BIND_HOST": " 10.0.0.5 "}) == "10.0.0.5"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_addresses_are_recognised(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "bot.internal"])
def test_other_addresses_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_on_loopback_missing_secrets_are_generated_afresh_each_start() -> None:
    first, second = runtime_secrets("127.0.0.1", {}), runtime_secrets("127.0.0.1", {})
    assert len(set(first.environment().values())) == len(SECRET_VARIABLES)
    assert all(len(value) >= 40 for value in first.environment().values())
    assert first.rasa_token != second.rasa_token


def test_secrets_from_the_environment_are_used_as_given() -> None:
    env = {name: f"value-of-{name}" for name in SECRET_VARIABLES}
    assert runtime_secrets("10.0.0.5", env).environment() == env


def test_a_public_interface_needs_every_secret_from_the_environment() -> None:
    with pytest.raises(MissingSecrets) as refused:
        runtime_secrets("0.0.0.0", {"BOT_RASA_TOKEN": "hunter2"})
    message = str(refused.value)
    assert "BOT_ACTION_SERVER_TOKEN" in message and "BOT_REST_TOKEN" in message
    assert "BOT_RASA_TOKEN," not in message and "hunter2" not in message


def test_secrets_never_show_in_a_repr() -> None:
    secrets = runtime_secrets("127.0.0.1", {"BOT_RASA_TOKEN": "hunter2"})
    assert "hunter2" not in repr(secrets)


def test_the_action_endpoint_sends_the_token_from_rasas_environment() -> None:
    endpoint = authenticated_action_endpoint({"url": "http://127.0.0.1:5055/webhook"})
    assert endpoint == {
        "url": "http://127.0.0.1:5055/webhook",
        "headers": {"Authorization": "Bearer ${BOT_ACTION_SERVER_TOKEN}"},
    }


def test_rasas_endpoint_reader_fills_the_token_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.setenv("BOT_ACTION_SERVER_TOKEN", "tok-en_42")
    endpoint = authenticated_action_endpoint({"url": "http://127.0.0.1:5055/webhook"})
    (tmp_path / "endpoints.yml").write_text(yaml.safe_dump({"action_endpoint": endpoint}))
    config = read_endpoint_config(str(tmp_path / "endpoints.yml"), "action_endpoint")
    assert config is not None and config.headers == {"Authorization": "Bearer tok-en_42"}


def test_local_callers_reach_a_server_bound_to_every_interface_on_loopback() -> None:
    assert rasa_url("0.0.0.0", 5005) == "http://127.0.0.1:5005"
    assert action_server_url("10.0.0.5", 5055) == "http://10.0.0.5:5055/webhook"
    assert rasa_url("::1", 5005) == "http://[::1]:5005"


def test_the_rasa_token_is_added_inside_the_launcher_for_rasa_run_only() -> None:
    env = {"BOT_RASA_TOKEN": "t0k"}
    assert with_auth_token(["run", "--enable-api"], env) == [
        "run",
        "--enable-api",
        "--auth-token=t0k",
    ]
    assert with_auth_token(["run", "actions"], env) == ["run", "actions"]
    assert with_auth_token(["train"], env) == ["train"]
    assert with_auth_token(["run"], {}) == ["run"]


def test_a_token_that_starts_like_an_option_still_reaches_rasa() -> None:
    from rasa.__main__ import create_argument_parser

    arguments = with_auth_token(["run", "--enable-api"], {"BOT_RASA_TOKEN": "-Xb3_token"})
    assert create_argument_parser().parse_args(arguments).auth_token == "-Xb3_token"


# --- the REST channel ----------------------------------------------------------------------


def test_the_rest_channel_replaces_rasas_and_steps_aside_for_real_channels() -> None:
    assert with_rest_channel({"rest": None}, {}) == {REST_CHANNEL: None}
    slack = {"rest": None, "channels.slack.SlackInput": {"bot_token": "x"}}
    assert with_rest_channel(slack, {}) == {"channels.slack.SlackInput": {"bot_token": "x"}}
    assert REST_CHANNEL in with_rest_channel(slack, {"BOT_REST_ENABLED": "true"})
    assert REST_CHANNEL not in with_rest_channel(slack, {"BOT_REST_ENABLED": "yes please"})


def test_a_rest_sender_always_speaks_in_a_rest_conversation() -> None:
    assert conversation_id("abc") == "rest:abc"
    message = rest_message(b'{"sender": "telegram:42", "message": "hi"}')
    assert (message.conversation_id, message.text) == ("rest:telegram:42", "hi")


@pytest.mark.parametrize(
    "body",
    [b"", b"  ", b"null", b"[]", b'"hi"', b"{", b"{}", b'{"sender": "a", "message": 3}'],
)
def test_a_rest_body_that_is_not_a_message_is_refused_briefly(body: bytes) -> None:
    with pytest.raises(BadBody) as refused:
        rest_message(body)
    assert len(str(refused.value)) < 60


def test_bearer_tokens_must_match_exactly() -> None:
    assert authorised("Bearer s3cret", "s3cret")
    for header in (None, "", "s3cret", "Bearer s3cre", "bearer s3cret", "Bearer s3cret "):
        assert not authorised(header, "s3cret")


# --- bodies ------------------------------------------------------------------------------


def test_json_nesting_is_bounded_without_recursion() -> None:
    assert depth(1) == 0 and depth([]) == 1 and depth({"a": [{"b": 1}]}) == 3
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(BadBody, match="too deep"):
        parse_json(deep.encode())
    with pytest.raises(BadBody, match="malformed"):
        parse_json(b"[" * 100_000)


def test_a_declared_length_beyond_the_limit_is_too_large() -> None:
    assert declared_too_large("1048577", 1024 * 1024)
    assert declared_too_large("nonsense", 10)
    assert not declared_too_large("10", 10) and not declared_too_large(None, 10)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/model/parse", b"[]"),
        ("POST", "/model/parse", b'{"text": 5}'),
        ("POST", "/conversations/a/trigger_intent", b"{}"),
        ("POST", "/conversations/a/tracker/events", b'"event"'),
        ("PUT", "/conversations/a/tracker/events", b"{}"),
        ("POST", "/conversations/a/messages", b'{"text": "hi"}'),
        ("PUT", "/model", b""),
    ],
)
def test_rasa_api_bodies_of_the_wrong_shape_are_refused(
    method: str, path: str, body: bytes
) -> None:
    with pytest.raises(BadBody):
        check_body(method, path, body)


def test_rasa_api_bodies_of_the_right_shape_pass() -> None:
    check_body("POST", "/model/parse", b'{"text": "hello"}')
    check_body("POST", "/conversations/rest:a/tracker/events", b'[{"event": "bot"}]')
    check_body("POST", "/conversations/a/predict", b"")  # takes no body
    check_body("POST", "/model/train", b"version: '3.1'")  # YAML: not ours to check


def test_a_long_rasa_refusal_is_cut_to_its_reason() -> None:
    quoted = {"reason": "BadRequest", "message": "Error: {'text': 'the refused body'} ..."}
    assert short_reason(json.dumps(quoted).encode()) == "BadRequest"
    assert short_reason(b"<html>") == "bad request"
    assert short_reason(json.dumps({"reason": "x" * 200}).encode()) == "bad request"


def test_an_action_call_must_have_the_shape_rasa_sends() -> None:
    call = {"next_action": "action_answer", "tracker": {"sender_id": "rest:a", "events": []}}
    assert action_call(json.dumps(call).encode()) == call
    for broken in (
        {"tracker": {"sender_id": "a"}},
        {"next_action": "x", "tracker": []},
        {"next_action": "x", "tracker": {}},
        {"next_action": "x", "tracker": {"sender_id": "a", "slots": []}},
        {"next_action": "x", "tracker": {"sender_id": "a"}, "domain": "d"},
    ):
        with pytest.raises(BadBody):
            action_call(json.dumps(broken).encode())


def test_a_compressed_action_call_is_inflated_only_up_to_the_limit() -> None:
    assert decompressed(zlib.compress(b"x" * 100), limit=100) == b"x" * 100
    with pytest.raises(BadBody, match="too large"):
        decompressed(zlib.compress(b"x" * 10_000), limit=100)
    with pytest.raises(BadBody, match="malformed"):
        decompressed(b"not deflate")


# --- files that hold secrets -------------------------------------------------------------


def test_a_private_file_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yml"
    write_private_text(path, "token: x\n")
    assert stat.S_IMODE(path.stat().st_mode) == PRIVATE_MODE
    assert path.read_text() == "token: x\n"


def test_an_existing_readable_file_is_narrowed_before_it_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.yml"
    path.write_text("old\n")
    path.chmod(0o644)
    write_private_text(path, "password: s3cret\n")
    assert stat.S_IMODE(path.stat().st_mode) == PRIVATE_MODE
    assert path.read_text() == "password: s3cret\n"

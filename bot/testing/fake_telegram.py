"""A fake Telegram Bot API server for tests, and the pytest fixtures around it.

It speaks the real wire protocol (``/bot<token>/<method>``, JSON or form bodies, the
``{"ok": ...}`` envelope), so the unmodified python-telegram-bot client talks to it
through ``base_url``. Every request is validated against the shared Bot API spec and so
is every Update it produces; :attr:`FakeTelegram.violations` collects what does not
conform and the ``fake_telegram`` fixture fails the test when it is not empty.

Fixtures (``fake_telegram`` ...) live in :mod:`bot.testing.telegram_plugin`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.testing.telegram_spec import BotApiSpec
from bot.testing.telegram_updates import UpdateFactory
from bot.testing.telegram_wire import (
    ApiCall,
    ApiError,
    check_markup,
    error_response,
    read_params,
    visible_message_text,
)

TOKEN = "123456789:TEST-token_for-the-fake-server"
BOT_USERNAME = "lumen_support_test_bot"


class FakeTelegram:
    """The Bot API on 127.0.0.1 at an ephemeral port; start with ``async with``."""

    def __init__(self, spec: BotApiSpec, token: str = TOKEN, username: str = BOT_USERNAME) -> None:
        self.spec = spec
        self.token = token
        self.bot_user = {
            "id": int(token.split(":", maxsplit=1)[0]),
            "is_bot": True,
            "first_name": "Lumen",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.make = UpdateFactory(self.bot_user)
        self.violations: list[str] = []
        self.calls: list[ApiCall] = []
        self.sent: dict[int, dict[str, Any]] = {}  # message_id -> message (with "html")
        self.deleted: list[tuple[int, int]] = []  # (chat_id, message_id) of deleteMessage
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.answered_callbacks: set[str] = set()
        self.pending_callbacks: set[str] = set()
        self.chat_members: dict[int, dict[int, tuple[str, dict[str, Any]]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._failures: dict[str, list[web.Response]] = {}
        self._delays: dict[str, list[float]] = {}
        self._message_ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------
    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (the token is appended by the client)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- test controls -----------------------------------------------------------------
    def fail_next(self, method: str, *, retry_after: int | None = None, status: int = 502) -> None:
        """The next call of ``method`` fails: 429 with ``retry_after``, else HTTP ``status``."""
        if retry_after is not None:
            body = {
                "ok": False,
                "error_code": 429,
                "parameters": {"retry_after": retry_after},
                "description": f"Too Many Requests: retry after {retry_after}",
            }
            response = web.json_response(body, status=429)
        else:
            body = {"ok": False, "error_code": status, "description": "Bad Gateway"}
            response = web.json_response(body, status=status)
        self._failures.setdefault(method, []).append(response)

    def slow_next(self, method: str, seconds: float) -> None:
        """The next call of ``method`` is answered only after ``seconds`` (a slow network)."""
        self._delays.setdefault(method, []).append(seconds)

    async def inject(
        self, update: dict[str, Any], *, secret: str | None = "", as_recorded: bool = False
    ) -> int | None:
        """Delivers ``update`` like Telegram: to the webhook when one is set, else to getUpdates.

        The update is checked as Telegram sends it (required fields and types; fields the
        spec no longer lists are accepted); ``as_recorded`` skips the check for an update
        recorded from the real platform that breaks the spec (a ``thumbnail`` of ``{}``).
        For a webhook, ``secret`` overrides the header ("" = the registered secret,
        None = no header); returns the webhook's HTTP status.
        """
        if as_recorded:
            if "callback_query" in update:
                self.pending_callbacks.add(update["callback_query"]["id"])
        else:
            self._check("Update", update, strict=False)
        if self.webhook is None:
            async with self._changed:
                self._updates.append(update)
                self._changed.notify_all()
            return None
        headers = {}
        token = self.webhook.get("secret_token") if secret == "" else secret
        if token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        url = self.webhook["url"]
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json=update, headers=headers) as r,
        ):
            if r.status != 200 and "callback_query" in update:
                self.pending_callbacks.discard(update["callback_query"]["id"])
            return r.status

    def set_member(self, chat_id: int, user: dict[str, Any], status: str = "member") -> None:
        """``user`` (a User dict) has ``status`` in ``chat_id`` for getChatMember:
        creator, administrator, member, left or kicked (unknown users have left)."""
        self.chat_members.setdefault(chat_id, {})[int(user["id"])] = (status, dict(user))

    def calls_of(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent to ``chat_id``, oldest first (current state after edits)."""
        return [m for m in self.sent.values() if m["chat"]["id"] == chat_id]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Waits until ``predicate()`` is truthy; returns its value or fails the test."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := predicate():
                return value
            await asyncio.sleep(0.05)
        pytest.fail(f"timed out after {timeout}s; calls so far: {[c.method for c in self.calls]}")

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """The first ``count`` messages sent to ``chat_id``, waiting for them."""
        messages: list[dict[str, Any]] = await self.wait_for(
            lambda: (
                self.messages_to(chat_id)[:count]
                if len(self.messages_to(chat_id)) >= count
                else None
            ),
            timeout,
        )
        return messages

    # -- the API -----------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return error_response(401, "Unauthorized")
        params, form = await read_params(request)
        self.calls.append(ApiCall(method, params))
        problems = self.spec.validate_request(method, params, form=form)
        self.violations.extend(problems)
        if problems:
            return error_response(400, f"Bad Request: {problems[0]}")
        values = self.spec.decode_form(method, params) if form else dict(params)
        if self._delays.get(method):
            await asyncio.sleep(self._delays[method].pop(0))
        if self._failures.get(method):
            return self._failures[method].pop(0)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            self.violations.append(f"{method}: valid but not implemented by the fake")
            return error_response(404, "Not Found")
        try:
            result = await handler(values)
        except ApiError as error:
            return error_response(400, f"Bad Request: {error}")
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, _: dict[str, Any]) -> Any:
        return self.bot_user

    async def _api_getUpdates(self, values: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError("can't use getUpdates method while webhook is active")
        offset, limit = int(values.get("offset", 0)), int(values.get("limit", 100))
        timeout = min(float(values.get("timeout", 0)), 10.0)
        async with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout > 0 and not self._closing:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)
            return self._updates[:limit]

    async def _api_setWebhook(self, values: dict[str, Any]) -> Any:
        self.webhook = {"url": values["url"], "secret_token": values.get("secret_token")}
        return True

    async def _api_deleteWebhook(self, _: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _api_getWebhookInfo(self, _: dict[str, Any]) -> Any:
        url = (self.webhook or {}).get("url", "")
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _api_setMyCommands(self, values: dict[str, Any]) -> Any:
        for command in values["commands"]:
            name, description = command["command"], command["description"]
            if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
                raise ApiError(f"BOT_COMMAND_INVALID: {name!r}")
            if not 1 <= len(description) <= 256:
                raise ApiError("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = list(values["commands"])
        return True

    async def _api_getMyCommands(self, _: dict[str, Any]) -> Any:
        return self.commands

    async def _api_sendChatAction(self, _: dict[str, Any]) -> Any:
        return True

    async def _api_sendMessage(self, values: dict[str, Any]) -> Any:
        chat_id = int(values["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "date": int(time.time()),
            "chat": self.make.chat_of(chat_id),
        }
        self._render(message, values)
        self.sent[message["message_id"]] = message
        return self._public(message)

    async def _api_sendPhoto(self, values: dict[str, Any]) -> Any:
        values = {**values, "text": values.get("caption", ""), "photo": values["photo"]}
        return await self._api_sendMessage(values)

    async def _api_editMessageText(self, values: dict[str, Any]) -> Any:
        message = self._stored(values)
        self._render(message, {"reply_markup": None, **values})
        return self._public(message)

    async def _api_deleteMessage(self, values: dict[str, Any]) -> Any:
        message = self.sent.get(int(values.get("message_id", 0)))
        if message is None or message["chat"]["id"] != int(values.get("chat_id", 0)):
            raise ApiError("message to delete not found")
        del self.sent[message["message_id"]]
        self.deleted.append((message["chat"]["id"], message["message_id"]))
        return True

    async def _api_editMessageReplyMarkup(self, values: dict[str, Any]) -> Any:
        message = self._stored(values)
        markup = values.get("reply_markup")
        check_markup(markup)
        message["reply_markup"] = markup
        return self._public(message)

    async def _api_answerCallbackQuery(self, values: dict[str, Any]) -> Any:
        query_id = values["callback_query_id"]
        if query_id not in self.pending_callbacks:
            raise ApiError("query is too old and response timeout expired or query ID is invalid")
        self.pending_callbacks.discard(query_id)
        self.answered_callbacks.add(query_id)
        return True

    async def _api_getChatMember(self, values: dict[str, Any]) -> Any:
        chat_id, user_id = int(values["chat_id"]), int(values["user_id"])
        if user_id == self.bot_user["id"]:
            status, user = "member", self.bot_user
        else:
            status, user = self.chat_members.get(chat_id, {}).get(
                user_id, ("left", self.make.user(user_id))
            )
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            rights = [
                "can_be_edited",
                "is_anonymous",
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_promote_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
            ]
            member.update({right: right == "can_manage_chat" for right in rights})
        elif status == "kicked":
            member["until_date"] = 0
        self._check("ChatMember", member)
        return member

    # -- helpers -----------------------------------------------------------------------
    def _render(self, message: dict[str, Any], values: dict[str, Any]) -> None:
        if values.get("parse_mode") not in (None, "HTML"):
            self.violations.append(f"unexpected parse_mode {values.get('parse_mode')!r}")
        visible = visible_message_text(values)
        check_markup(values.get("reply_markup"))
        message.update(
            text=visible, html=values.get("text", ""), reply_markup=values.get("reply_markup")
        )
        if "photo" in values:
            message["photo_url"] = values["photo"]

    def _stored(self, values: dict[str, Any]) -> dict[str, Any]:
        message = self.sent.get(int(values.get("message_id", 0)))
        if message is None or message["chat"]["id"] != int(values.get("chat_id", 0)):
            raise ApiError("message to edit not found")
        return message

    def _public(self, message: dict[str, Any]) -> dict[str, Any]:
        public = {
            k: v for k, v in message.items() if k not in {"html", "photo_url"} and v is not None
        }
        self._check("Message", public)
        return public

    def _check(self, type_name: str, value: dict[str, Any], *, strict: bool = True) -> None:
        self.violations.extend(self.spec.validate_object(type_name, value, strict=strict))
        if type_name == "Update" and "callback_query" in value:
            self.pending_callbacks.add(value["callback_query"]["id"])

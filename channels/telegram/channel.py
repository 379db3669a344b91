"""``channels.telegram.TelegramInput``: the Rasa input channel, composing PTB's Application.

Long polling (default) starts and stops with the Rasa server; webhook mode serves
``POST /webhooks/telegram/webhook`` verified by ``X-Telegram-Bot-Api-Secret-Token``.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest, HTTPXRequest

from bot.delivery.ordering import PerConversation
from bot.delivery.store import DeliveryStore, delivery_store_from_env
from bot.handoff.bot_failure import answer_failure
from bot.inbound import gate
from bot.inbound.limits import max_message_chars
from bot.inbound.seal import PayloadSeal
from bot.privacy.log_redaction import known_names
from channels.telegram.agent_desk import TelegramAgents
from channels.telegram.agent_render import is_handoff_callback
from channels.telegram.inbound import (
    PREFIX,
    UNSUPPORTED_RESPONSE,
    Inbound,
    bot_commands,
    chosen_title,
    from_callback,
    from_message,
)
from channels.telegram.lenient import LenientUpdates
from channels.telegram.output import TelegramOutput
from channels.telegram.payload_keys import PayloadKeys
from channels.telegram.render import chosen_html
from channels.telegram.settings import TelegramSettings, redact_token_in_logs
from channels.telegram.webhook import AnyApplication
from channels.telegram.webhook import receive as webhook_receive

logger = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
#: At shutdown, how long the updates already queued may still take to be answered.
STOP_GRACE_SECONDS = 10.0
#: How often customer updates left unfinished (a crash mid-turn) are looked for.
REPLAY_EVERY_SECONDS = 5.0


class TelegramInput(InputChannel):
    """Telegram for Rasa: private chats, and groups when the bot is mentioned or replied to."""

    #: First wait before retrying a start that failed because Telegram was unreachable.
    start_retry_delay: float = 2.0

    def __init__(
        self,
        settings: TelegramSettings,
        *,
        request: BaseRequest | None = None,
        store: DeliveryStore | None = None,
        keys: PayloadKeys | None = None,
        seal: PayloadSeal | None = None,
    ) -> None:
        self.settings = settings
        self._seal = seal or PayloadSeal.from_env()
        self._max_chars = max_message_chars()
        self._request = request
        self._store, self._keys = store, keys
        self._application: AnyApplication | None = None
        self._username = settings.username or ""
        self._on_new_message: OnNewMessage | None = None
        self._sanic: Any = None
        self.agents: TelegramAgents | None = None  # the agents' group (TELEGRAM_AGENT_CHAT_ID)
        self._built: AnyApplication | None = None  # built, maybe not reachable yet
        self._retrying: asyncio.Task[None] | None = None  # start retried in the background
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._conversations = PerConversation()  # one chat's updates in order, chats apart
        self._held: set[str] = set()  # intake keys this process recorded and will process
        self._replaying: asyncio.Task[None] | None = None

    @classmethod
    def name(cls) -> str:
        return PREFIX

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        return cls(TelegramSettings.load(credentials))

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        self._on_new_message = on_new_message
        blueprint = Blueprint("telegram_webhook", __name__)

        @blueprint.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "mode": self.settings.mode})

        @blueprint.route("/webhook", methods=["POST"])  # type: ignore[untyped-decorator]
        async def webhook(request: Request) -> HTTPResponse:
            return await webhook_receive(
                request, self.settings, self._application, record=self._record
            )

        blueprint.listener("after_server_start")(self._start)
        blueprint.listener("before_server_stop")(self._stop)
        return blueprint

    def get_output_channel(self) -> TelegramOutput | None:
        """For proactive messages (trigger_intent, reminders): routed by conversation id."""
        if self._application is None or self._store is None or self._keys is None:
            return None
        return TelegramOutput(self._application.bot, self._store, self._keys, self._seal)

    # -- lifecycle ---------------------------------------------------------------------
    async def _start(self, app: Any, _loop: Any = None) -> None:
        self._sanic = app
        redact_token_in_logs(self.settings.token)
        self._store = self._store or delivery_store_from_env()
        self._keys = self._keys or PayloadKeys.from_env()
        builder = ApplicationBuilder().token(self.settings.token).concurrent_updates(16)
        if self.settings.base_url:
            builder = builder.base_url(self.settings.base_url)
            builder = builder.base_file_url(self.settings.base_file_url or "")
        if self._request is not None:
            builder = builder.request(self._request)
        if self.settings.mode == "webhook":
            builder = builder.updater(None)
        else:  # an update PTB cannot parse is repaired, never fetched forever
            builder = builder.get_updates_request(
                LenientUpdates(HTTPXRequest(connection_pool_size=1))
            )
        application = self._built = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_error)
        try:
            await self._bring_up(application)
        except NetworkError as error:  # Telegram unreachable at boot: the other channels stay up
            logger.warning(
                "Telegram unreachable at start (%s); retrying in the background",
                type(error).__name__,
            )
            self._retrying = asyncio.create_task(self._bring_up_later(application))

    async def _bring_up(self, application: AnyApplication) -> None:
        """getMe, setMyCommands, then the webhook or long polling; raises on failure."""
        await application.initialize()  # getMe
        self._username = self.settings.username or application.bot.username or ""
        self._application = application
        if self.settings.agent_chat_id is not None and self._store is not None:
            self.agents = TelegramAgents(application.bot, self.settings.agent_chat_id, self._store)
        await self._register_commands()
        if self.settings.mode == "webhook":
            if self.settings.webhook_url:
                await application.bot.set_webhook(
                    self.settings.webhook_url,
                    secret_token=self.settings.secret_token,
                    allowed_updates=ALLOWED_UPDATES,
                )
        elif application.updater is not None:
            await application.updater.start_polling(
                timeout=self.settings.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=lambda error: logger.warning("polling: %s", type(error).__name__),
            )
        await application.start()
        if self._replaying is None:
            self._replaying = asyncio.create_task(self._replay_unfinished())
        logger.info(
            "Telegram channel started (%s) for bot id %s", self.settings.mode, self.settings.bot_id
        )

    async def _bring_up_later(self, application: AnyApplication) -> None:
        """Retries the start with backoff (doubling to 60 s) until it works or we stop."""
        delay = self.start_retry_delay
        while True:
            await asyncio.sleep(delay)
            try:
                await self._bring_up(application)
                return
            except NetworkError as error:
                delay = min(delay * 2, 60.0)
                logger.warning(
                    "Telegram still unreachable (%s); next try in %.0f s",
                    type(error).__name__,
                    delay,
                )

    async def _stop(self, _app: Any = None, _loop: Any = None) -> None:
        retrying, self._retrying = self._retrying, None
        if retrying is not None:
            retrying.cancel()
        replaying, self._replaying = self._replaying, None
        if replaying is not None:
            replaying.cancel()
        application, self._application = self._application or self._built, None
        self._built = None
        if application is not None:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await self._conversations.finish(STOP_GRACE_SECONDS)
            await application.shutdown()
        for resource in (self._store, self._keys):
            if resource is not None:
                await resource.close()
        logger.info("Telegram channel stopped")

    async def _register_commands(self) -> None:
        """``setMyCommands`` with descriptions from the domain's ``utter_telegram_command_*``."""
        domain = getattr(getattr(getattr(self._sanic, "ctx", None), "agent", None), "domain", None)
        try:
            await self._bot().set_my_commands(bot_commands(getattr(domain, "responses", None)))
        except TelegramError as error:
            logger.warning("setMyCommands failed: %s", type(error).__name__)

    # -- updates -----------------------------------------------------------------------
    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Queues the update behind its chat's earlier ones and returns at once: a chat
        stuck on a slow or locked turn never holds the Application's update slots."""
        chat, user = update.effective_chat, update.effective_user
        key = f"{chat.id if chat else ''}:{user.id if user else ''}"
        self._conversations.submit(key, self._handle(update))

    async def _handle(self, update: Update) -> None:
        if self.agents is not None and self.agents.owns(update):
            if await self._first_time(update):
                await self.agents.on_update(update)
            return  # the agents' group never talks to Rasa
        if update.callback_query is not None:
            await self._on_callback(update)
        elif update.message is not None:
            await self._on_message(update, update.message)

    async def _on_message(self, update: Update, message: Message) -> None:
        inbound = from_message(message, self._bot().id, self._username)
        if inbound is None:
            await self._drop(update)
            return
        _mask_in_logs(update)
        async with self._lock(inbound.sender_id):
            if not await self._receive(update, inbound.sender_id):
                return
            output = self._output(reply_to=inbound.message_id if inbound.group else None)
            output.start_typing(inbound.sender_id)
            try:
                if inbound.unsupported:
                    await self._unsupported(inbound, output)
                else:
                    turn = (
                        gate.command(inbound.text)
                        if inbound.command
                        else gate.typed(inbound.text, self._max_chars)
                    )
                    await self._to_rasa(
                        turn.text, output, inbound.sender_id, turn.merged(inbound.metadata)
                    )
            finally:
                await output.typing_done()  # a turn without an answer leaves no task behind
            await self._finish(update)

    async def _on_callback(self, update: Update) -> None:
        query = update.callback_query
        assert query is not None
        target = from_callback(update)
        if target is None or is_handoff_callback(query.data):  # handoff buttons: agents only
            await self._answer(update)
            await self._drop(update)
            return
        sender_id, _chat_id = target
        _mask_in_logs(update)
        async with self._lock(sender_id):
            if not await self._receive(update, sender_id):
                return
            await self._answer(update)
            data = await self._keys_().resolve(query.data or "")
            turn = gate.pressed(self._seal, sender_id, data or "")
            if turn.text == gate.BUTTON_EXPIRED:
                logger.warning("a button the bot did not send to %s was pressed", sender_id)
            title = chosen_title(update) or ""
            await self._mark_choice(update, title)
            metadata = {
                "telegram": {
                    "callback_query_id": query.id,
                    "button": title,
                    "message_id": getattr(query.message, "message_id", None),
                }
            }
            await self._to_rasa(turn.text, self._output(), sender_id, turn.merged(metadata))
            await self._finish(update)

    async def _answer(self, update: Update) -> None:
        try:
            await update.callback_query.answer()  # type: ignore[union-attr]
        except TelegramError as error:
            logger.warning("answerCallbackQuery failed: %s", type(error).__name__)

    async def _mark_choice(self, update: Update, title: str) -> None:
        """Removes the keyboard and shows the choice under the message text."""
        query = update.callback_query
        message = query.message if query else None
        if not isinstance(message, Message):
            return
        try:
            if message.text:
                await message.edit_text(
                    chosen_html(message.text_html, title), parse_mode=ParseMode.HTML
                )
            else:
                await message.edit_reply_markup(None)
        except TelegramError as error:
            logger.warning("could not mark the chosen button: %s", type(error).__name__)

    async def _unsupported(self, inbound: Inbound, output: TelegramOutput) -> None:
        """Logs the media message (metadata kept for agents) and sends the polite reply,
        unless a person has the conversation (it is paused)."""
        agent = getattr(getattr(self._sanic, "ctx", None), "agent", None)
        message = UserMessage(
            inbound.text,
            output,
            inbound.sender_id,
            input_channel=self.name(),
            metadata=inbound.metadata,
        )
        if agent is None:
            await self._to_rasa(inbound.text, output, inbound.sender_id, inbound.metadata)
            return
        try:
            async with agent.lock_store.lock(inbound.sender_id):
                tracker = await agent.log_message(message)
                if tracker is not None and tracker.is_paused():
                    return  # during a handoff the relay passes it to the agent: no bot reply
                await agent.execute_action(
                    inbound.sender_id, UNSUPPORTED_RESPONSE, output, None, None
                )
        except Exception:
            logger.exception("Rasa failed on a Telegram media message for %s", inbound.sender_id)
            await answer_failure(
                output, inbound.sender_id, self.name(), inbound.text, inbound.metadata
            )

    async def _to_rasa(
        self, text: str, output: TelegramOutput, sender_id: str, metadata: dict[str, Any]
    ) -> None:
        assert self._on_new_message is not None
        try:
            await self._on_new_message(
                UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata)
            )
        except Exception:
            logger.exception("Rasa failed to handle a Telegram message for %s", sender_id)
            await answer_failure(output, sender_id, self.name(), text, metadata)

    # -- durable intake (bot/delivery/store.py) ------------------------------------------
    def _intake_key(self, update: Update) -> str:
        return f"telegram:{self.settings.bot_id}:{update.update_id}"

    async def _record(self, update: Update) -> bool:
        """The webhook records a customer update before Telegram gets its 200 (raises when
        it cannot: the webhook answers 503 and Telegram redelivers); False: a duplicate."""
        if self.agents is not None and self.agents.owns(update):
            return True  # the agents' group: deduplicated by key when handled
        key = self._intake_key(update)
        if not await self._store_().receive(key, PREFIX, _conversation(update), update.to_dict()):
            logger.info("duplicate Telegram update %s ignored", update.update_id)
            return False
        self._held.add(key)
        return True

    async def _receive(self, update: Update, sender_id: str) -> bool:
        """Whether to process the update: recorded by this process already (webhook,
        replay), or recorded now (polling: Telegram has its offset already, so an update
        that cannot be recorded is still processed, once)."""
        key = self._intake_key(update)
        if key in self._held:
            self._held.discard(key)
            return True
        try:
            fresh = await self._store_().receive(key, PREFIX, sender_id, update.to_dict())
        except Exception:
            logger.exception("could not record Telegram update %s; handling it anyway", key)
            return True
        if not fresh:
            logger.info("duplicate Telegram update %s ignored", update.update_id)
        return fresh

    async def _finish(self, update: Update) -> None:
        try:
            await self._store_().finish(self._intake_key(update))
        except Exception:  # the record is handed out again later: at worst a second answer
            logger.exception("could not mark Telegram update %s done", update.update_id)

    async def _drop(self, update: Update) -> None:
        """An update recorded for processing that is not for the bot after all."""
        key = self._intake_key(update)
        if key in self._held:
            self._held.discard(key)
            await self._finish(update)

    async def _replay_unfinished(self) -> None:
        """Customer updates a crashed process recorded but never finished: handled again."""
        while True:
            try:
                for inbound in await self._store_().claim_unfinished(PREFIX):
                    update = Update.de_json(inbound.payload, self._bot())
                    if update is None:
                        continue
                    logger.warning("handling Telegram update %s again", update.update_id)
                    self._held.add(inbound.key)
                    await self._on_update(update, None)  # type: ignore[arg-type]
            except Exception:
                logger.exception("could not look for unfinished Telegram updates")
            await asyncio.sleep(REPLAY_EVERY_SECONDS)

    def _store_(self) -> DeliveryStore:
        assert self._store is not None
        return self._store

    # -- helpers -----------------------------------------------------------------------
    async def _first_time(self, update: Update) -> bool:
        """False for an update seen before (Telegram redelivers after timeouts)."""
        assert self._store is not None
        fresh = await self._store.first_time(f"telegram:{self.settings.bot_id}:{update.update_id}")
        if not fresh:
            logger.info("duplicate Telegram update %s ignored", update.update_id)
        return fresh

    def _lock(self, sender_id: str) -> asyncio.Lock:
        lock = self._locks.get(sender_id)
        if lock is None:
            lock = self._locks[sender_id] = asyncio.Lock()
        return lock

    def _output(self, reply_to: int | None = None) -> TelegramOutput:
        assert self._store is not None
        return TelegramOutput(
            self._bot(),
            self._store,
            self._keys_(),
            self._seal,
            reply_to=reply_to,
            typing_after=self.settings.typing_after,
        )

    def _bot(self) -> Any:
        assert self._application is not None, "the Telegram channel has not started"
        return self._application.bot

    def _keys_(self) -> PayloadKeys:
        assert self._keys is not None
        return self._keys

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        logger.error("Telegram update failed: %r", context.error, exc_info=context.error)


def _conversation(update: Update) -> str:
    """The conversation an update belongs to (for forget-me on intake records)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type == "private" or user is None:
        return f"{PREFIX}:{chat.id if chat else ''}"
    return f"{PREFIX}:{chat.id}:{user.id}"


def _mask_in_logs(update: Update) -> None:
    """A customer's name is masked in this process's logs from their first update on."""
    if update.effective_user is not None:
        known_names().add(update.effective_user.full_name)

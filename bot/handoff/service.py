"""The handoff services of one process, built from the environment on first use."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import lru_cache

from bot.faq.knowledge_base import KnowledgeBase
from bot.faq.service import knowledge_base
from bot.handoff.config import HandoffConfig, load_handoff_config
from bot.handoff.desk import AgentDesk
from bot.handoff.exits import HandoffExits
from bot.handoff.notifier import FanoutNotifier, LogNotifier, Notifier
from bot.handoff.rasa_api import RasaConversations
from bot.handoff.store import TicketStore, ticket_store_from_env
from bot.handoff.texts import domain_texts

#: Agent notifiers by the environment variable that switches them on.
NOTIFIERS = {
    "SLACK_AGENT_CHANNEL": "channels.slack.agents:notifier_from_env",
    "TELEGRAM_AGENT_CHAT_ID": "channels.telegram.agents:notifier_from_env",
    "BOT_AGENT_WEBHOOK_URL": "bot.handoff.webhook_notifier:notifier_from_env",
}


@dataclass(frozen=True)
class HandoffServices:
    """Everything the handoff needs, shared within a process."""

    config: HandoffConfig
    store: TicketStore
    notifier: Notifier
    desk: AgentDesk
    knowledge_base: KnowledgeBase
    exits: HandoffExits


def notifier_from_env() -> Notifier:
    """The log, plus Slack and/or Telegram agent pings when configured."""
    notifiers: list[Notifier] = [LogNotifier()]
    for variable, target in NOTIFIERS.items():
        if os.environ.get(variable):
            module, factory = target.split(":")
            notifiers.append(getattr(importlib.import_module(module), factory)())
    return FanoutNotifier(notifiers)


@lru_cache(maxsize=1)
def handoff_services() -> HandoffServices:
    """This process's services (created once, on first use)."""
    config = load_handoff_config()
    store = ticket_store_from_env(config=config)
    notifier = notifier_from_env()
    conversations, texts = RasaConversations(), domain_texts()
    desk = AgentDesk(store, conversations, notifier, texts)
    exits = HandoffExits(store, conversations, notifier, texts)
    return HandoffServices(config, store, notifier, desk, knowledge_base(), exits)

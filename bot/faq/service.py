"""The knowledge base as the action server sees it: loaded once, on first use."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bot.faq.knowledge_base import KnowledgeBase, load_knowledge_base
from bot.faq.parser import RasaParser


@lru_cache(maxsize=1)
def knowledge_base(data_path: str = "data") -> KnowledgeBase:
    """The FAQ knowledge base under ``data_path`` (relative to the working directory)."""
    return load_knowledge_base([Path(data_path)])


@lru_cache(maxsize=1)
def faq_parser() -> RasaParser:
    """Reads pieces of a message with the Rasa server's model (``BOT_RASA_URL``)."""
    return RasaParser()

"""Telegram for the support bot: the Rasa input channel ``channels.telegram.TelegramInput``.

Modules: ``settings`` (configuration), ``inbound`` (updates -> Rasa turns, conversation
ids), ``render`` (replies -> Telegram HTML and keyboards), ``output`` (sending with
retries), ``payload_keys`` (long button payloads), ``channel`` (the input channel).
"""

from channels.telegram.channel import TelegramInput

__all__ = ["TelegramInput"]

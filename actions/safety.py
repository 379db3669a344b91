"""Safety actions: the warning after a customer shared a secret (docs/personalisation.md).

The secret itself never reaches here: the inbound gate replaced it with a placeholder and
listed its kinds in the message metadata (bot.safety.secrets)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.safety.component import masked_kinds
from bot.safety.warnings import GENERAL_WARNING, warning_response


def warn_about_secrets(dispatcher: CollectingDispatcher, latest_message: dict[str, Any]) -> bool:
    """Sends the warning when the customer's latest message held secrets; whether it did."""
    response = warning_response(masked_kinds(latest_message.get("metadata")))
    if response is None:
        return False
    dispatcher.utter_message(response=response)
    return True


class ActionWarnSecret(Action):
    """A message that was nothing but a secret: the warning and the secure route."""

    def name(self) -> str:
        return "action_warn_secret"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not warn_about_secrets(dispatcher, tracker.latest_message):
            dispatcher.utter_message(response=GENERAL_WARNING)
        return []

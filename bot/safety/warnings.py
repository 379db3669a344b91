"""Which warning a customer gets after sharing a secret: one response per family of
secret (the texts live in domain.yml), a general one when the message mixed families."""

from __future__ import annotations

from collections.abc import Iterable

#: The domain response that warns about each kind of secret (bot.safety.secrets).
WARNING_RESPONSES: dict[str, str] = {
    "card_number": "utter_secret_warning_card",
    "cvv": "utter_secret_warning_card",
    "card_expiry": "utter_secret_warning_card",
    "password": "utter_secret_warning_login",
    "pin": "utter_secret_warning_login",
    "one_time_code": "utter_secret_warning_login",
    "iban": "utter_secret_warning_bank",
    "bank_account": "utter_secret_warning_bank",
    "api_key": "utter_secret_warning_key",
}
GENERAL_WARNING = "utter_secret_warning"


def warning_response(kinds: Iterable[str]) -> str | None:
    """The response that warns about these kinds (None when there were none)."""
    responses = {WARNING_RESPONSES.get(kind, GENERAL_WARNING) for kind in kinds}
    if not responses:
        return None
    return responses.pop() if len(responses) == 1 else GENERAL_WARNING

"""Personal data never leaves the tracker store: what is redacted, and what is not."""

from __future__ import annotations

import pytest

from bot.analytics.redact import luhn_valid, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jo.bloggs+bills@example.co.uk please", "mail me at [email] please"),
        ("JO@EXAMPLE.COM", "[email]"),
        ("call me on 07700 900123", "call me on [phone]"),
        ("my landline is 020 7946 0958", "my landline is [phone]"),
        ("ring +44 20 7946 0958 or +44 (0)7700 900123", "ring [phone] or [phone]"),
        ("US: (415) 555-0100, 415-555-0100, +1 415 555 0100", "US: [phone], [phone], [phone]"),
        ("card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("amex 378282246310005", "amex [card]"),
        ("I live at 221B Baker Street, London NW1 6XE", "I live at [address], London [postcode]"),
        ("12 high st, sw1a 1aa", "[address], [postcode]"),
        ("5 Elm Close", "[address]"),
        (
            "1600 Pennsylvania Avenue NW, Washington, DC 20500",
            "[address], Washington, DC [postcode]",
        ),
        ("postcode M1 1AE", "postcode [postcode]"),
    ],
)
def test_personal_data_is_replaced_by_its_kind(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "my order number is 12345678",
        "order 4111 1111 1111 1112 is late",  # card-shaped, fails the Luhn check
        "ticket 100200300400",
        "it was on 2024-01-15 at 10:30",
        "since 15/01/2024 I paid £45.50 twice",
        "invoice INV-2024-0042",
        "I paid 3 times the way you said",
        "we moved 3 weeks ago",
        "my zip is not needed, account 90210",  # five digits without a state stay
        "speed test says 940 mbps down, 100 up",
        "version 2.4.1 of the app",
        "",
    ],
)
def test_order_numbers_dates_and_amounts_stay(text: str) -> None:
    assert redact(text) == text


def test_a_card_number_is_only_a_card_number_when_its_luhn_check_passes() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")

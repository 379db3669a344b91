"""The Rasa hot-path shortcuts answer exactly what stock Rasa answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from bot.runtime import rasa_hot_paths

STOCK_VALIDATE = RemoteAction._validate_action_result
STOCK_RESOLVE = Event.resolve_by_type

VALID = {
    "events": [{"event": "slot", "name": "topic", "value": "billing"}],
    "responses": [{"text": "Here is your bill."}],
}
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},  # a slot event without its name
    {"responses": ["a bare string"]},
    {"events": [{"event": "no_such_event"}]},
]


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # undone after the test, so every other test sees the Rasa it imported
    monkeypatch.setattr(RemoteAction, "_validate_action_result", STOCK_VALIDATE)
    monkeypatch.setattr(Event, "resolve_by_type", staticmethod(STOCK_RESOLVE))
    rasa_hot_paths.install()
    yield


def stock_error(response: dict[str, Any]) -> str | None:
    try:
        STOCK_VALIDATE(RemoteAction("action_answer", None), response)
    except jsonschema.ValidationError as error:
        return str(error.message)
    return None


@pytest.mark.usefixtures("installed")
def test_a_valid_action_response_passes() -> None:
    assert RemoteAction("action_answer", None)._validate_action_result(VALID) is True


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("response", INVALID)
def test_an_invalid_action_response_fails_with_stock_rasas_message(
    response: dict[str, Any],
) -> None:
    expected = stock_error(response)
    assert expected is not None
    with pytest.raises(jsonschema.ValidationError) as raised:
        RemoteAction("action_answer", None)._validate_action_result(response)
    assert raised.value.message == expected
    assert "Failed to validate Action server response" in raised.value.message


@pytest.mark.usefixtures("installed")
def test_every_event_type_resolves_to_the_stock_class_and_again_from_memory() -> None:
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in sorted(names):
        assert Event.resolve_by_type(name) is STOCK_RESOLVE(name)
        assert Event.resolve_by_type(name) is STOCK_RESOLVE(name)


@pytest.mark.usefixtures("installed")
def test_an_unknown_event_type_still_fails_or_falls_back_every_time() -> None:
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", default=Event) is Event
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


@pytest.mark.usefixtures("installed")
def test_installing_twice_keeps_one_layer() -> None:
    resolve = Event.resolve_by_type
    rasa_hot_paths.install()
    assert Event.resolve_by_type is resolve
    assert RemoteAction._validate_action_result is rasa_hot_paths.validate_action_result

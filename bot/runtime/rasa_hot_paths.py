"""Two hot paths of the Rasa 3.6 server made cheap, without changing what they do.

Profiling a turn (py-spy, docs/benchmarks.md) showed the Rasa server spending most of its
CPU on work whose result never changes:

- ``RemoteAction._validate_action_result`` calls ``jsonschema.validate`` for every
  action-server response. That function first checks the *schema* against the JSON-Schema
  meta-schema, every time: about 40 % of the server's CPU in a long conversation. Here the
  schema is checked and compiled once; each response is still validated against it and a
  bad one raises the same ``ValidationError`` with the same message.
- ``Event.resolve_by_type`` lists every ``Event`` subclass, recursively, for each event it
  deserialises (every event of a tracker, on every load). Here a type name, once resolved,
  is remembered; a name never seen before goes the original way.

:func:`install` applies both; the launcher (:mod:`bot.privacy.launch`) calls it before it
starts ``rasa``. A Rasa started any other way (a bare ``rasa run``) behaves as stock.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _response_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    validator_class = validator_for(spec)
    validator_class.check_schema(spec)
    return validator_class(spec)


def validate_action_result(_action: Any, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the schema compiled once."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    error = best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Applies both shortcuts to the imported Rasa (once; later calls do nothing)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    if RemoteAction._validate_action_result is validate_action_result:
        return
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    original = Event.resolve_by_type
    resolved: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        found = resolved.get(type_name)
        if found is None:
            found = original(type_name, default)
            if found is not None and found is not default:
                resolved[type_name] = found
        return found

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]

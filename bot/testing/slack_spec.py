"""Checks what the fake Slack receives and sends against Slack's published specs.

The specs are read in place from ``../shared/specs/slack/`` (never copied into the repo).
Known quirks of the 2020 Web API spec, handled here on purpose:
- ``token`` is modelled as a header/query parameter; the SDKs send ``Authorization: Bearer``,
  which satisfies it;
- each method lists one HTTP verb, but Slack accepts GET and POST for every method, so the
  verb is not checked;
- parameters are modelled as form fields; JSON bodies may carry arrays/objects for the
  JSON-encoded string fields (``blocks``, ``attachments``);
- methods newer than the spec (``apps.connections.open``) are described in ``NEWER_METHODS``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPECS = PROJECT_ROOT.parent / "shared" / "specs" / "slack"
WEB_API_SPEC = SPECS / "slack_web_openapi_v2_without_examples.json"
EVENT_WRAPPER_SCHEMA = SPECS / "slack_common_event_wrapper_schema.json"

Param = dict[str, Any]
NEWER_METHODS: dict[str, list[Param]] = {
    # https://api.slack.com/methods/apps.connections.open (2021): app-level token only
    "apps.connections.open": [{"name": "token", "in": "header", "type": "string", "required": True}],
}


def specs_available() -> bool:
    """Whether ``../shared/specs/slack`` is present."""
    return WEB_API_SPEC.is_file() and EVENT_WRAPPER_SCHEMA.is_file()


@functools.lru_cache(maxsize=1)
def web_api_methods() -> dict[str, list[Param]]:
    """Method name -> its parameters, from the OpenAPI 2.0 spec (plus ``NEWER_METHODS``)."""
    spec = json.loads(WEB_API_SPEC.read_text())
    methods: dict[str, list[Param]] = {}
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            if isinstance(operation, dict):
                methods.setdefault(path.lstrip("/"), []).extend(operation.get("parameters", []))
    return {**methods, **NEWER_METHODS}


def _type_ok(kind: str | None, value: Any) -> bool:
    if kind == "string":
        # JSON bodies carry the JSON-encoded fields (blocks, attachments) as arrays/objects
        return isinstance(value, (str, list, dict))
    if kind == "boolean":
        return isinstance(value, bool) or str(value).lower() in {"true", "false", "1", "0"}
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or str(value).lstrip("-").isdigit()
    if kind == "number":
        if isinstance(value, bool):
            return False
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return True
    return True


def web_api_violations(method: str, params: Mapping[str, Any], authorization: str | None) -> list[str]:
    """What is wrong with one Web API call: unknown method, missing/unknown/mistyped params."""
    methods = web_api_methods()
    if method not in methods:
        return [f"{method}: no such method in the Web API spec"]
    problems = []
    declared = {p["name"]: p for p in methods[method]}
    for name, param in declared.items():
        present = params.get(name) is not None
        if name == "token" and authorization and authorization.startswith("Bearer "):
            present = True
        if param.get("required") and not present:
            problems.append(f"{method}: required parameter {name!r} missing")
    for name, value in params.items():
        if name not in declared:
            problems.append(f"{method}: parameter {name!r} is not in the spec")
        elif not _type_ok(declared[name].get("type"), value):
            problems.append(f"{method}: {name}={value!r} is not a {declared[name].get('type')}")
    return problems


@functools.lru_cache(maxsize=1)
def _event_validator() -> Any:
    import jsonschema

    schema = json.loads(EVENT_WRAPPER_SCHEMA.read_text())
    return jsonschema.Draft7Validator(schema)


def event_violations(body: Mapping[str, Any]) -> list[str]:
    """Schema errors of an Events API ``event_callback`` body (the common event wrapper)."""
    return [f"event {body.get('event_id')}: {e.message}" for e in _event_validator().iter_errors(body)]

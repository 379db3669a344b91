"""Checks what the fake Slack receives and sends against Slack's published specs.

The specs are read in place from ``../shared/specs/slack/`` (never copied into the repo).
Known quirks of the 2020 Web API spec, handled here on purpose:
- ``token`` is modelled as a header/query parameter; the SDKs send ``Authorization: Bearer``,
  which satisfies it;
- each method lists one HTTP verb, but Slack accepts GET and POST for every method, so the
  verb is not checked;
- parameters are modelled as form fields; JSON bodies may carry arrays/objects for the
  JSON-encoded string fields (``blocks``, ``attachments``);
- methods newer than the spec (``apps.connections.open``) are described in ``NEWER_METHODS``;
- ``team_id`` is accepted on every method: slack_sdk's ``WebClient(team_id=...)`` adds it to
  every call (bolt builds such clients per request) for org-wide apps.
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
    "apps.connections.open": [
        {"name": "token", "in": "header", "type": "string", "required": True}
    ],
}


SDK_DEFAULT_PARAMS = {"team_id"}


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
        return (isinstance(value, int) and not isinstance(value, bool)) or str(value).lstrip(
            "-"
        ).isdigit()
    if kind == "number":
        if isinstance(value, bool):
            return False
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return True
    return True


def web_api_violations(
    method: str, params: Mapping[str, Any], authorization: str | None
) -> list[str]:
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
        if name not in declared and name not in SDK_DEFAULT_PARAMS:
            problems.append(f"{method}: parameter {name!r} is not in the spec")
        elif name in declared and not _type_ok(declared[name].get("type"), value):
            problems.append(f"{method}: {name}={value!r} is not a {declared[name].get('type')}")
    return problems


@functools.lru_cache(maxsize=1)
def _event_validator() -> Any:
    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(EVENT_WRAPPER_SCHEMA.read_text())
    return jsonschema.Draft7Validator(schema)


# Deprecated in the pinned 2020 wrapper schema's own terms: Slack replaced ``authed_users``
# with ``authorizations`` in 2021 and new apps never get it, so it is not required.
DEPRECATED_FIELDS = {"authed_users"}
# Events Slack documents and sends without an ``event_ts`` (the schema requires it).
NO_EVENT_TS = {
    "tokens_revoked",
    "app_uninstalled",
    "grid_migration_started",
    "grid_migration_finished",
}


def event_violations(body: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Schema errors of an Events API ``event_callback`` body (the common event wrapper).

    By default what Slack really sends passes; ``strict`` applies the pinned schema as it
    is. What real deliveries showed the schema gets wrong:
    - ``authorizations`` replaced ``authed_users`` (2021): it may be absent or empty;
    - org-wide installs (``is_enterprise_install``) carry ``enterprise_id``, no ``team_id``;
    - many events come without ``event_ts`` (``member_joined_channel``, ``team_join``,
      ``tokens_revoked``, ``user_change``, ``scope_granted``... as Slack documents them).
    """
    return [
        f"event {body.get('event_id')}: {error.message}"
        for error in _event_validator().iter_errors(body)
        if strict or not _schema_is_wrong(error, body)
    ]


def _schema_is_wrong(error: Any, body: Mapping[str, Any]) -> bool:
    """Whether a schema error is one of the pinned schema's known disagreements with Slack."""
    path = list(error.path)
    if path[:1] and path[0] in DEPRECATED_FIELDS:
        return True
    if error.validator != "required":
        return False
    missing = str(error.message).split("'")[1] if "'" in error.message else ""
    if not path and missing in DEPRECATED_FIELDS:
        return True
    if not path and missing == "team_id":
        return bool(body.get("enterprise_id"))
    return path == ["event"] and missing == "event_ts"


# Block Kit limits (https://api.slack.com/reference/block-kit/blocks): the Web API spec models
# ``blocks`` as a JSON string, so the fake checks the documented structure and limits itself.
BLOCK_TYPES = {"section", "actions", "context", "header", "image", "divider"}
TEXT_TYPES = {"mrkdwn", "plain_text"}


def _text_problems(where: str, text: Any, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(text, Mapping) or text.get("type") not in TEXT_TYPES:
        return [f"{where}: not a text object"]
    if plain_only and text.get("type") != "plain_text":
        return [f"{where}: must be plain_text"]
    body = text.get("text")
    if not isinstance(body, str) or not body:
        return [f"{where}: empty text"]
    return [f"{where}: text longer than {limit}"] if len(body) > limit else []


def _element_problems(where: str, element: Any) -> list[str]:
    if not isinstance(element, Mapping) or element.get("type") != "button":
        return [f"{where}: only buttons are used here"]
    problems = _text_problems(f"{where}.text", element.get("text"), 75, plain_only=True)
    if not element.get("action_id") or len(str(element["action_id"])) > 255:
        problems.append(f"{where}: action_id missing or longer than 255")
    if "value" in element and len(str(element["value"])) > 2000:
        problems.append(f"{where}: value longer than 2000")
    if element.get("style") not in (None, "primary", "danger"):
        problems.append(f"{where}: unknown style {element.get('style')!r}")
    return problems


def block_kit_violations(method: str, blocks: Any) -> list[str]:
    """What breaks Block Kit's documented structure or limits in a message's ``blocks``."""
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return [f"{method}: blocks is not JSON"]
    if not isinstance(blocks, list):
        return [f"{method}: blocks is not an array"]
    problems = [f"{method}: more than 50 blocks"] if len(blocks) > 50 else []
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{method}: blocks[{i}]"
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind not in BLOCK_TYPES:
            problems.append(f"{where}: unknown block type {kind!r}")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > 255 or block_id in block_ids:
                problems.append(f"{where}: block_id too long or repeated")
            block_ids.add(block_id)
        if kind == "section":
            fields = block.get("fields") or []
            if "text" not in block and not fields:
                problems.append(f"{where}: a section needs text or fields")
            if "text" in block:
                problems += _text_problems(f"{where}.text", block["text"], 3000)
            if len(fields) > 10:
                problems.append(f"{where}: more than 10 fields")
            for j, text in enumerate(fields):
                problems += _text_problems(f"{where}.fields[{j}]", text, 2000)
        elif kind == "header":
            problems += _text_problems(f"{where}.text", block.get("text"), 150, plain_only=True)
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                problems.append(f"{where}: a context needs 1-10 elements")
            for j, text in enumerate(elements):
                if not (isinstance(text, Mapping) and text.get("type") == "image"):
                    problems += _text_problems(f"{where}.elements[{j}]", text, 3000)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > 25:
                problems.append(f"{where}: actions need 1-25 elements")
            for j, element in enumerate(elements):
                problems += _element_problems(f"{where}.elements[{j}]", element)
                action_id = element.get("action_id") if isinstance(element, Mapping) else None
                if action_id in action_ids:
                    problems.append(f"{where}: action_id {action_id!r} repeated in the message")
                if action_id:
                    action_ids.add(action_id)
        elif kind == "image" and not (block.get("image_url") and block.get("alt_text")):
            problems.append(f"{where}: an image needs image_url and alt_text")
    return problems

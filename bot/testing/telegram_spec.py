"""Validation against the published Bot API spec (``../shared/specs/telegram/api_botapi_*.json``).

The fake Telegram server checks every request it receives and every object it produces
with :class:`BotApiSpec`; a non-empty list of violations means the client or the fake
spoke something that real Telegram would not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPEC_FILE = PROJECT_ROOT.parent / "shared" / "specs" / "telegram" / "api_botapi_10.1.json"

_SCALARS: dict[str, Any] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "True": lambda v: v is True,
}


@dataclass(frozen=True)
class BotApiSpec:
    """Methods and types of one Bot API version."""

    methods: Mapping[str, Any]
    types: Mapping[str, Any]
    version: str

    def validate_request(self, method: str, params: Mapping[str, Any], *, form: bool) -> list[str]:
        """Violations of one call: unknown method or field, missing required field, wrong type.

        ``form`` says the values came as form fields, where Telegram JSON-decodes every
        value whose field is not a plain string.
        """
        spec = self.methods.get(method)
        if spec is None:
            return [f"{method}: no such method in {self.version}"]
        fields = {f["name"]: f for f in spec.get("fields", [])}
        problems = [
            f"{method}: missing required field {name!r}"
            for name, field in fields.items()
            if field["required"] and name not in params
        ]
        for name, value in params.items():
            field = fields.get(name)
            if field is None:
                problems.append(f"{method}: unknown field {name!r}")
                continue
            decoded = _decode_form_value(value, field["types"]) if form else value
            problems.extend(self._check_any(decoded, field["types"], f"{method}.{name}"))
        return problems

    def decode_form(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Form field values as Telegram reads them for ``method``."""
        fields = {f["name"]: f["types"] for f in self.methods.get(method, {}).get("fields", [])}
        return {k: _decode_form_value(v, fields.get(k, [])) for k, v in params.items()}

    def validate_object(
        self, type_name: str, value: Any, path: str | None = None, *, strict: bool = True
    ) -> list[str]:
        """Violations of ``value`` as an instance of the spec type ``type_name``.

        ``strict=False`` is for what Telegram itself sends: fields the current spec no
        longer lists (``all_members_are_administrators``, kept by real clients and old
        chats) are accepted; required fields and types are still checked."""
        return self._check(value, type_name, path or type_name, strict)

    def _check_any(
        self, value: Any, type_names: list[str], path: str, strict: bool = True
    ) -> list[str]:
        attempts = [self._check(value, name, path, strict) for name in type_names]
        if any(not problems for problems in attempts):
            return []
        closest = min(attempts, key=len)
        if len(attempts) == 1:
            return closest
        return [f"{path}: none of {' | '.join(type_names)} fits; closest: {closest[0]}"]

    def _check(self, value: Any, type_name: str, path: str, strict: bool = True) -> list[str]:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected {type_name}, got {type(value).__name__}"]
            inner = type_name.removeprefix("Array of ")
            return [
                p
                for i, item in enumerate(value)
                for p in self._check(item, inner, f"{path}[{i}]", strict)
            ]
        if type_name in _SCALARS:
            ok = _SCALARS[type_name](value)
            return [] if ok else [f"{path}: expected {type_name}, got {value!r:.60}"]
        if type_name == "InputFile":
            return []  # an upload (multipart) or a file_id/URL string
        spec = self.types.get(type_name)
        if spec is None:
            return [f"{path}: unknown type {type_name}"]
        if spec.get("subtypes"):
            return self._check_any(value, spec["subtypes"], path, strict)
        if not isinstance(value, Mapping):
            return [f"{path}: expected {type_name} object, got {type(value).__name__}"]
        fields = {f["name"]: f for f in spec.get("fields", [])}
        problems = [
            f"{path}: missing required field {name!r}"
            for name, field in fields.items()
            if field["required"] and name not in value
        ]
        for name, item in value.items():
            if name not in fields:
                if strict:
                    problems.append(f"{path}: unknown field {name!r} for {type_name}")
            else:
                problems.extend(
                    self._check_any(item, fields[name]["types"], f"{path}.{name}", strict)
                )
        return problems


def _decode_form_value(value: Any, type_names: list[str]) -> Any:
    """A form field's value as Telegram reads it (strings stay strings, the rest is JSON)."""
    if not isinstance(value, str) or "String" in type_names:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def spec_available(path: Path = SPEC_FILE) -> bool:
    """Whether the shared spec folder is present next to the repository."""
    return path.exists()


@lru_cache(maxsize=2)
def load_spec(path: Path = SPEC_FILE) -> BotApiSpec:
    """Reads the spec (cached; never copied into the repository)."""
    data = json.loads(path.read_text())
    return BotApiSpec(data["methods"], data["types"], data.get("version", path.stem))

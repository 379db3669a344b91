"""YAML loading that remembers where things are, so errors can name file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class ContentError(Exception):
    """A problem in a content file, reported as ``file:line: message``."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


class LineMap(dict[str, Any]):
    """A YAML mapping that knows the (1-based) line it starts on."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    mapping = LineMap({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parses ``path``; a syntax error becomes a :class:`ContentError` with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ContentError(path, None, f"cannot read the file ({error.strerror})") from error
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or error.context or "invalid YAML"
        raise ContentError(path, line, f"invalid YAML: {problem}") from error
    except yaml.YAMLError as error:
        raise ContentError(path, None, f"invalid YAML: {error}") from error


def line_of(value: Any) -> int | None:
    """The line a loaded mapping started on, if known."""
    return value.line if isinstance(value, LineMap) else None

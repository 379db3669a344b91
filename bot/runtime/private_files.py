"""Files that may hold a password or token: readable by their owner only, from the start."""

from __future__ import annotations

import os
from pathlib import Path

#: owner read/write, nobody else
PRIVATE_MODE = 0o600


def write_private_text(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` created with mode 0600 (no moment at a wider mode); an
    existing file is narrowed to 0600 before it is rewritten."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), PRIVATE_MODE)
        file.write(text)

"""Canned responses: short French texts that agents insert in their replies.

Each commune may have its own JSON file (``CC_CONSOLE__CANNED_RESPONSES_FILES``, commune id ->
path); the others get the generic file shipped here. The format::

    {"responses": [{"id": "bonjour", "title": "Accueil", "text": "Bonjour, ..."}]}

The list is read-only in the console: towns edit the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from foundation.errors import ConfigurationError

DEFAULT_FILE = Path(__file__).parent / "canned_responses_demo.json"


@dataclass(frozen=True)
class CannedResponse:
    """One canned response."""

    id: str
    title: str
    text: str


def canned_responses(tenant_id: str, files: Mapping[str, Path]) -> list[CannedResponse]:
    """The commune's canned responses (its own file, else the generic one)."""
    return list(_load(Path(files.get(tenant_id, DEFAULT_FILE))))


@lru_cache(maxsize=32)
def _load(path: Path) -> tuple[CannedResponse, ...]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data["responses"]
        return tuple(
            CannedResponse(id=str(item["id"]), title=str(item["title"]), text=str(item["text"]))
            for item in items
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f"unreadable canned responses file {path}: {exc}") from exc

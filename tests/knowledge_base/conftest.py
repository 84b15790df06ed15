"""Fixtures of the knowledge-base tests (the package itself comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.documents import Document
from knowledge_base.service_public import iter_fiches


@pytest.fixture(scope="session")
def f1344(fiches_package: Path) -> Document:
    """The fiche "Carte d'identité d'un majeur : en cas de perte"."""
    (document,) = list(iter_fiches(fiches_package, only_ids=["F1344"]))
    return document

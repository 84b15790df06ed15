"""Evaluation indexes: one per embedding model, built once; a mismatching index is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.index import check_index, ensure_index, index_dimension, index_folder
from foundation.errors import ConfigurationError
from retrieval.testing import FakeEmbedder
from tests.conftest import make_settings


def test_an_index_is_built_once_per_embedding_model_and_reused(
    tmp_path: Path, fiches_package: Path
) -> None:
    settings = make_settings(tmp_path, kb={"only_ids": ("F1344", "F1618")})
    small, large = FakeEmbedder(64), FakeEmbedder(96)

    pointed = ensure_index(settings, small, tmp_path / "indexes", progress=False)
    assert pointed.qdrant.path == index_folder(settings, small, tmp_path / "indexes")
    assert index_dimension(pointed) == (64, small.model_id)
    check_index(pointed, small)
    assert small.texts_embedded > 0

    embedded = small.texts_embedded
    again = ensure_index(settings, small, tmp_path / "indexes", progress=False)
    assert again.qdrant.path == pointed.qdrant.path
    assert small.texts_embedded == embedded  # reused, nothing re-embedded

    other = ensure_index(settings, large, tmp_path / "indexes", progress=False)
    assert other.qdrant.path != pointed.qdrant.path
    assert index_dimension(other) == (96, large.model_id)
    with pytest.raises(ConfigurationError, match="96-d vectors"):
        check_index(other, small)


def test_a_missing_index_says_how_to_get_one(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with pytest.raises(ConfigurationError, match="no knowledge-base index"):
        check_index(settings, FakeEmbedder(64))

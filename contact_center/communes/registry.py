"""Which communes this instance serves, read from the ``communes`` table.

Every check of « is this commune served » (the APIs, the voice socket, the CLI) asks
:class:`CommuneRegistry`. It keeps the list in memory for ``ttl_s`` seconds, so that a request
does not cost a query; a commune added through this registry is seen at once by this process,
and by other replicas once their copy expires.

Created by the migration ``0014_communes``.
"""

from __future__ import annotations

import builtins
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from contact_center.db import Base, Database, aware, utcnow
from contact_center.errors import CommuneExistsError, InvalidCommuneError

log = logging.getLogger(__name__)

#: A commune id: lower-case letters, digits and dashes (it appears in URLs and the widget).
COMMUNE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_NAME_CHARS = 200


class CommuneRow(Base):
    """One served commune."""

    __tablename__ = "communes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class Commune:
    """A served commune: its id (in URLs), the name residents read, when it was added."""

    id: str
    name: str
    created_at: datetime


def check_commune(tenant_id: str, name: str) -> tuple[str, str]:
    """The cleaned id and name of a new commune.

    Raises:
        InvalidCommuneError: a malformed id or an empty or overlong name.
    """
    tenant_id, name = tenant_id.strip(), " ".join(name.split())
    if not COMMUNE_ID.match(tenant_id):
        raise InvalidCommuneError(
            "Identifiant de commune invalide : lettres minuscules, chiffres et tirets "
            "(64 caractères au plus), par exemple « ville-b »."
        )
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidCommuneError(
            f"Le nom de la commune est obligatoire ({MAX_NAME_CHARS} caractères au plus)."
        )
    return tenant_id, name


class CommuneRegistry:
    """Repository of the ``communes`` table, with a short in-process cache."""

    def __init__(
        self,
        database: Database,
        *,
        ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = database
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: dict[str, Commune] | None = None
        self._read_at = 0.0

    def seed(self, communes: Mapping[str, str]) -> int:
        """Insert the communes of the settings that are not stored yet; how many were added.

        Stored communes keep their name (the database is the reference once seeded).
        """
        with self._db.session() as session:
            stored = set(session.scalars(select(CommuneRow.id)))
        added = 0
        for tenant_id, name in communes.items():
            if tenant_id not in stored:
                try:
                    self._insert(tenant_id, name)
                    added += 1
                except CommuneExistsError:  # another replica seeded it meanwhile
                    log.info("commune already seeded tenant_id=%s", tenant_id)
        self.forget()
        return added

    def add(self, tenant_id: str, name: str) -> Commune:
        """Serve a new commune (seen at once by this process).

        Raises:
            InvalidCommuneError: a malformed id or name.
            CommuneExistsError: the id is already served.
        """
        tenant_id, name = check_commune(tenant_id, name)
        commune = self._insert(tenant_id, name)
        self.forget()
        return commune

    def _insert(self, tenant_id: str, name: str) -> Commune:
        try:
            with self._db.session() as session:
                row = CommuneRow(id=tenant_id, name=name, created_at=utcnow())
                session.add(row)
                session.flush()
                return _view(row)
        except IntegrityError as exc:
            raise CommuneExistsError(tenant_id) from exc

    def forget(self) -> None:
        """Drop the cached list: the next question reads the database."""
        with self._lock:
            self._cached = None

    def _communes(self) -> dict[str, Commune]:
        with self._lock:
            if self._cached is not None and self._clock() - self._read_at < self._ttl_s:
                return self._cached
        with self._db.session() as session:
            communes = {row.id: _view(row) for row in session.scalars(select(CommuneRow))}
        with self._lock:
            self._cached, self._read_at = communes, self._clock()
        return communes

    def is_served(self, tenant_id: str) -> bool:
        """Whether this instance serves ``tenant_id``."""
        return tenant_id in self._communes()

    def get(self, tenant_id: str) -> Commune | None:
        """A served commune, or None."""
        return self._communes().get(tenant_id)

    def list(self) -> builtins.list[Commune]:
        """Every served commune, by id."""
        return sorted(self._communes().values(), key=lambda commune: commune.id)

    @property
    def names(self) -> CommuneNames:
        """Commune id -> name, read through this registry (what notices are signed with)."""
        return CommuneNames(self)


class CommuneNames(Mapping[str, str]):
    """A live, read-only mapping of the served communes' names."""

    def __init__(self, registry: CommuneRegistry) -> None:
        self._registry = registry

    def __getitem__(self, tenant_id: str) -> str:
        commune = self._registry.get(tenant_id)
        if commune is None:
            raise KeyError(tenant_id)
        return commune.name

    def __iter__(self) -> Iterator[str]:
        return iter([commune.id for commune in self._registry.list()])

    def __len__(self) -> int:
        return len(self._registry.list())


def _view(row: CommuneRow) -> Commune:
    return Commune(id=row.id, name=row.name, created_at=aware(row.created_at))

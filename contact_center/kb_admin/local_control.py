"""Handing a command-line import to the running server (the embedded index has one holder).

The embedded index (Qdrant Edge) is a folder one process holds: while ``contact-center serve``
runs, a ``contact-center kb ...`` command cannot open it. So the server, once listening,
writes a control file in its data folder (:func:`publish`: readable by its owner only, 0600)
with its local URL, its process id and a random token that admits knowledge-base import jobs
from the loopback interface only; it removes the file at shutdown (:func:`withdraw`).

The command line looks for that file (:func:`find`). When it is there, the command posts the
job to the server with the token and follows its progress until it ends
(:class:`ServerImports`); otherwise it imports in-process as before. A file left by a server
that is gone (killed, crashed) gives a clear error naming the file to remove.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from foundation.errors import ContactCenterError

#: The control file's name, in the server's data folder.
CONTROL_FILE = "server-control.json"


class ServerControlError(ContactCenterError):
    """The running server could not take the import (gone, refused it); French message."""


@dataclass(frozen=True)
class LocalControl:
    """What the running server published: where it listens and the token it accepts."""

    url: str
    token: str
    pid: int
    path: Path


def control_path(data_dir: Path) -> Path:
    """Where the server of this data folder writes its control file."""
    return data_dir / CONTROL_FILE


def publish(data_dir: Path, url: str) -> LocalControl:
    """Write the control file (0600) with a new random token, and return what it holds."""
    data_dir.mkdir(parents=True, exist_ok=True)
    control = LocalControl(
        url=url, token=secrets.token_urlsafe(32), pid=os.getpid(), path=control_path(data_dir)
    )
    written = control.path.with_name(f".{CONTROL_FILE}.{os.getpid()}")
    descriptor = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump({"url": url, "token": control.token, "pid": control.pid}, out)
    os.replace(written, control.path)  # never a half-written file
    return control


def withdraw(control: LocalControl) -> None:
    """Remove the control file, unless another server has replaced it since."""
    current = find(control.path.parent)
    if current is not None and current.token == control.token:
        control.path.unlink(missing_ok=True)


def find(data_dir: Path) -> LocalControl | None:
    """The control file of this data folder's server, if there is one.

    Raises:
        ServerControlError: The file is there but unreadable.
    """
    path = control_path(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return LocalControl(
            url=str(raw["url"]), token=str(raw["token"]), pid=int(raw["pid"]), path=path
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ServerControlError(
            f"Le fichier de contrôle du serveur {path} est illisible ({exc}). Si aucun serveur "
            "ne tourne, supprimez-le puis relancez la commande."
        ) from exc


class ServerImports:
    """Import jobs posted to the running server and followed until they end.

    Args:
        control: The server's control file.
        poll_s: Seconds between two readings of the job's progress.
        transport: httpx transport (tests); the network by default.
    """

    def __init__(
        self,
        control: LocalControl,
        *,
        poll_s: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.control = control
        self.poll_s = poll_s
        self._client = httpx.Client(
            base_url=control.url,
            headers={"Authorization": f"Bearer {control.token}"},
            timeout=30,
            transport=transport,
        )

    def run(
        self,
        kind: str,
        tenant_id: str,
        only: tuple[str, ...] = (),
        on_progress: Callable[[dict[str, Any]], None] = lambda job: None,
    ) -> dict[str, Any]:
        """Start the job on the server and follow it; returns the finished job.

        ``on_progress`` is told the job each time its progress changes.

        Raises:
            ServerControlError: The server is gone, refused the token or the job.
        """
        jobs = f"/api/v1/tenants/{tenant_id}/kb/jobs"
        job = self._call("POST", jobs, json={"kind": kind, "only": list(only)})
        on_progress(job)
        while not job["finished"]:
            time.sleep(self.poll_s)
            latest = self._call("GET", f"{jobs}/{job['id']}")
            if latest != job:
                on_progress(latest)
            job = latest
        return job

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        where = f"{self.control.path}"
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServerControlError(
                f"Le fichier {where} annonce un serveur à {self.control.url} (processus "
                f"{self.control.pid}) qui ne répond pas ({exc.__class__.__name__}). Si le serveur "
                "est arrêté, ce fichier est resté d'un arrêt brutal : supprimez-le puis relancez "
                "la commande."
            ) from exc
        if response.status_code == 401:
            raise ServerControlError(
                f"Le serveur à {self.control.url} refuse le jeton du fichier {where} : ce fichier "
                "n'est pas celui du serveur en cours (un autre serveur a-t-il pris cette "
                "adresse ?). Redémarrez le serveur, ou supprimez ce fichier s'il ne correspond à "
                "aucun serveur."
            )
        body = _json(response)
        if response.is_error:
            message = body.get("message") or f"réponse HTTP {response.status_code}"
            raise ServerControlError(
                f"Le serveur à {self.control.url} a refusé l'import : {message}"
            )
        return body


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}

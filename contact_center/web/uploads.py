"""A file sent as ``multipart/form-data``, received within a size limit.

FastAPI reads a form declared with ``UploadFile``/``Form`` parameters before the route's
dependencies run, so before the caller is known, and its own body limit answers a body
declared too large in English plain text. An upload route therefore takes the request and
calls :func:`receive_file` once its caller is allowed: a declared ``Content-Length`` past
the limit is refused before any byte is read, and the body is counted as it arrives and
refused as soon as it passes the limit (chunked bodies declare no length). What was received
is spooled by Starlette (in memory up to 1 MiB, then in a temporary file) and dropped on
refusal. Every refusal is an :class:`~fastapi.HTTPException` with a French message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive

#: Room around the file in the body: boundary lines, part headers and the small fields.
FORM_OVERHEAD = 64 * 1024
#: Longest file name kept (it is shown in version notes).
MAX_FILENAME = 255
_TRUE = {"true", "1", "on", "yes", "oui"}
_FALSE = {"false", "0", "off", "no", "non", ""}


@dataclass(frozen=True)
class ReceivedFile:
    """The uploaded file, whole, and the form's other fields (text)."""

    filename: str
    data: bytes
    fields: dict[str, str]

    def flag(self, name: str) -> bool:
        """A yes/no field (``true``/``false``, ``on`` from a checkbox; absent: no).

        Raises:
            HTTPException: 422, the value is neither.
        """
        value = self.fields.get(name, "").strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise _refusal(422, "invalid_field", f"Le champ « {name} » doit valoir true ou false.")


class _BodyTooLarge(Exception):
    """The body passed the limit while it was being received."""


def _refusal(status: int, code: str, message: str) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message})


def _too_large(max_bytes: int) -> HTTPException:
    shown = f"{max_bytes / (1024 * 1024):g}".replace(".", ",")
    return _refusal(413, "too_large", f"Le fichier dépasse la taille autorisée ({shown} Mo).")


def _counted(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge
        return message

    return counted_receive


def _declared_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


async def receive_file(request: Request, max_bytes: int, field: str = "file") -> ReceivedFile:
    """Receive the body as a form and return its one file (field ``field``) and other fields.

    Raises:
        HTTPException: 413 past ``max_bytes`` (the file) or the body's limit; 415 for a body
            that is not ``multipart/form-data``; 422 without a file; 400 for a malformed form.
    """
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != (
        "multipart/form-data"
    ):
        raise _refusal(
            415,
            "not_multipart",
            f"Envoyez le fichier dans un formulaire multipart/form-data (champ « {field} »).",
        )
    limit = max_bytes + FORM_OVERHEAD
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise _too_large(max_bytes)
    counted = Request(request.scope, _counted(request.receive, limit))
    try:
        form = await counted.form(max_files=1, max_fields=20, max_part_size=FORM_OVERHEAD)
    except _BodyTooLarge:
        raise _too_large(max_bytes) from None
    except StarletteHTTPException as exc:  # its 400 for a malformed form, in English
        raise _refusal(
            400,
            "invalid_form",
            "Le formulaire envoyé n'a pas pu être lu : joignez un seul fichier.",
        ) from exc
    try:
        return await _file_of(form.multi_items(), field, max_bytes)
    finally:
        await form.close()


async def _file_of(items: list[tuple[str, Any]], field: str, max_bytes: int) -> ReceivedFile:
    upload = next((v for k, v in items if k == field and isinstance(v, UploadFile)), None)
    if upload is None or not upload.filename:
        raise _refusal(
            422,
            "missing_file",
            f"Aucun fichier reçu : joignez un fichier dans le champ « {field} » du formulaire.",
        )
    if len(upload.filename) > MAX_FILENAME:
        raise _refusal(
            422,
            "invalid_document",
            f"Le nom du fichier est trop long ({MAX_FILENAME} caractères au plus).",
        )
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    fields = {k: v for k, v in items if isinstance(v, str)}
    return ReceivedFile(upload.filename, data, fields)

"""Characters no part of the product can store, refused at the door with the project's error.

A NUL character (``%00`` in a path or a query, ``\\u0000`` in JSON) is refused by PostgreSQL
("text fields cannot contain NUL bytes"), and a lone UTF-16 surrogate (``\\ud800`` in JSON)
cannot be encoded in UTF-8 for any database or page: both used to reach the store and end in a
500, or in a chat stream cut off in the middle. No resident or agent types them; they are
refused here, once for every route, with a French 400 (``invalid_characters``).

What is checked: the path, the query string, and JSON bodies (only those that contain a ``\\u``
escape are parsed: the others cannot hold such a character once decoded). Files and forms
are left to their own readers: a PDF may hold NUL bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote_plus

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REFUSED = {
    "code": "invalid_characters",
    "message": "La demande contient un caractère non autorisé (caractère nul ou mal encodé). "
    "Pouvez-vous la corriger ?",
}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> bool:
    """Whether ``text`` holds a NUL character or a lone surrogate."""
    return _UNSTORABLE.search(text) is not None


def _json_unstorable(body: bytes) -> bool:
    if b"\\u" not in body:
        return False
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False  # the route's own parser refuses it, in the project's format
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if unstorable(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return False


class InputGuard:
    """ASGI middleware: HTTP requests with an unstorable character get the French 400."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = unquote_plus(scope.get("query_string", b"").decode("latin-1"), errors="replace")
        if unstorable(scope.get("path", "")) or unstorable(query):
            await _refuse(send)
            return
        if not _is_json(scope):
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        if _json_unstorable(body):
            await _refuse(send)
            return
        await self.app(scope, _replay(body, more, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, and a message that ended the reading early (a disconnect) if any."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, early: Message | None, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if early is not None:
            return early
        return await receive()

    return replayed


async def _refuse(send: Send) -> None:
    content = json.dumps(REFUSED, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})

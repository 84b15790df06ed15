"""Publik's signature of API calls (« Signature des URL »), on the calling side.

Every call to a Publik brick (w.c.s., Passerelle...) carries, in its query string, the caller's
identifier ``orig``, then ``algo``, ``timestamp`` (UTC, ``%Y-%m-%dT%H:%M:%SZ``) and ``nonce``,
then ``signature``: the base64 of the HMAC, keyed by the secret shared with the town, of the
whole query string that precedes ``&signature=``. The server recomputes it over the query string
exactly as received, refuses a timestamp more than 30 seconds away from its clock and a nonce
it has already seen. This is the scheme of Publik's reference ``sign_url``/``sign_query``
(``wcs/api_utils.py``, ``hobo/signature.py``); :func:`sign_query` produces the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

#: The timestamp's format (always UTC).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def sign_query(
    query: str,
    key: str,
    *,
    algo: str = "sha256",
    timestamp: datetime | None = None,
    nonce: str | None = None,
) -> str:
    """``query`` followed by ``algo``, ``timestamp``, ``nonce`` and their ``signature``.

    Args:
        query: The query string to sign, already encoded (``orig=...`` first, as Publik's
            clients write it); may be empty.
        key: The secret shared with the town's Publik for this ``orig``.
        algo: A :mod:`hashlib` name the server accepts (``sha256``, Publik's default).
        timestamp: When the call is made (now by default); naive values are taken as UTC.
        nonce: A value never used before (128 random bits in hex by default).
    """
    moment = timestamp or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    signed = f"{query}&" if query else ""
    signed += urlencode(
        (
            ("algo", algo),
            ("timestamp", moment.strftime(TIMESTAMP_FORMAT)),
            ("nonce", nonce or secrets.token_hex(16)),
        )
    )
    digest = hmac.new(key.encode(), signed.encode(), getattr(hashlib, algo)).digest()
    return f"{signed}&signature={quote(base64.b64encode(digest))}"

"""The resident's own credential for a conversation: a random token, of which only a hash is kept.

The channel that opens a conversation for a resident (the web chat, the browser voice page)
hands the token back once; the resident's page sends it with every later request
(``Authorization: Bearer …``). The id alone opens nothing: ids travel in cases, records and
the console, tokens never do. A token is 256 random bits, so a plain SHA-256 is enough to keep
a stolen database from giving the tokens away (there is nothing to guess).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_resident_token() -> str:
    """A fresh, unguessable token (URL-safe text)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored in place of the token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(token: str | None, stored_hash: str | None) -> bool:
    """Whether ``token`` is the one whose hash was stored (constant-time comparison)."""
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)

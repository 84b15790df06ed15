"""Tracking codes: what a resident keeps to follow a case without signing in.

A code is 10 symbols of Crockford's base 32 alphabet (digits and capitals without I, L, O, U),
drawn with :mod:`secrets`: 50 bits, shown as ``XXXX-XXXX-XX``. Residents read it aloud, copy it
by hand or type it on a phone, so input is forgiving: case, spaces, dots and missing dashes do
not matter, and the letters O, I and L are read as the digits 0, 1 and 1.

Only a digest of the code, bound to the commune, is stored (:func:`tracking_digest`): the code
itself is given once to the resident and cannot be read back from the database (the outbox
masks it in the registration notice once that is sent, :func:`mask_tracking_codes`). A plain SHA-256
is enough here because the digest only guards the citizen view, which shows less than anyone who
could read the database already sees.
"""

from __future__ import annotations

import hashlib
import re
import secrets

#: Crockford's base 32: no I, L, O, U, so nothing looks like something else.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Symbols per code: 10 x 5 bits = 50 bits of randomness.
LENGTH = 10
ENTROPY_BITS = 50

_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-._/]+")
_FORMATTED = re.compile(rf"\b[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{2}}\b")
MASK = "XXXX-XXXX-XX"


def new_tracking_code() -> str:
    """A fresh random code, formatted ``XXXX-XXXX-XX``."""
    return format_tracking_code("".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))


def format_tracking_code(symbols: str) -> str:
    """``ABCDEFGHJK`` -> ``ABCD-EFGH-JK``."""
    return f"{symbols[:4]}-{symbols[4:8]}-{symbols[8:]}"


def normalise_tracking_code(text: str) -> str | None:
    """The canonical form of what a resident typed, or None when it cannot be a code.

    >>> normalise_tracking_code(" abcd efgh jk ")
    'ABCD-EFGH-JK'
    >>> normalise_tracking_code("0O1I-L234-56")
    '0011-1234-56'
    """
    symbols = _SEPARATORS.sub("", text or "").upper().translate(_READ_AS)
    if len(symbols) != LENGTH or any(symbol not in ALPHABET for symbol in symbols):
        return None
    return format_tracking_code(symbols)


def mask_tracking_codes(text: str) -> str:
    """``text`` with every formatted tracking code replaced by :data:`MASK`.

    The registration notice is the only stored text that holds a code; it is masked once the
    notice is sent or given up, so the database keeps what was said but not the code.
    """
    return _FORMATTED.sub(MASK, text)


def tracking_digest(tenant_id: str, canonical_code: str) -> str:
    """The stored digest of a canonical code for one commune (hex SHA-256).

    Binding the digest to the commune means another commune's code never matches, even
    before the query filters on the commune.
    """
    return hashlib.sha256(f"{tenant_id}\x1f{canonical_code}".encode()).hexdigest()

"""Agents' passwords: the rules a new one must follow, and argon2id hashing.

Hashes use ``argon2-cffi``'s RFC 9106 defaults (argon2id) and are renewed at sign-in when those
parameters change. :meth:`Passwords.verify_nothing` does the work of a verification for a
sign-in whose account does not exist, so that its timing does not tell.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from contact_center.errors import WeakPasswordError

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256


def password_problems(password: str, email: str = "") -> list[str]:
    """What is wrong with a new password, in French (empty when it is accepted).

    Follows the CNIL's recommendation for password-only sign-in (deliberation 2022-100): at
    least 12 characters mixing several kinds of characters.
    """
    problems = []
    if len(password) < MIN_PASSWORD_CHARS:
        problems.append(f"il doit compter au moins {MIN_PASSWORD_CHARS} caractères")
    if len(password) > MAX_PASSWORD_CHARS:
        problems.append(f"il ne doit pas dépasser {MAX_PASSWORD_CHARS} caractères")
    kinds = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 3:
        problems.append(
            "il doit mêler au moins trois types de caractères parmi minuscules, majuscules, "
            "chiffres et caractères spéciaux"
        )
    local = email.strip().lower().split("@")[0]
    if len(local) >= 3 and local in password.lower():
        problems.append("il ne doit pas contenir votre adresse électronique")
    return problems


class Passwords:
    """Hashes new passwords (rules checked) and verifies given ones."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()  # argon2id
        self._dummy_hash: str | None = None

    def hash(self, password: str, email: str = "") -> str:
        """The hash to store; :class:`WeakPasswordError` when the rules are not met."""
        problems = password_problems(password, email)
        if problems:
            raise WeakPasswordError(problems)
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` is the one hashed (never raises)."""
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_nothing(self, password: str) -> None:
        """The work of a verification, against a hash of nobody's password."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("not-a-password-of-anyone")
        self.verify(self._dummy_hash, password)

    def renewed(self, password_hash: str, password: str) -> str | None:
        """A new hash when the stored one uses outdated parameters, else None."""
        if self._hasher.check_needs_rehash(password_hash):
            return self._hasher.hash(password)
        return None

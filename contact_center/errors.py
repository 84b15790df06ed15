"""The contact centre's exception tree (its base and the lower floors' errors:
:mod:`foundation.errors`).

::

    ContactCenterError
    ├── ConfigurationError          settings that cannot work (missing model, bad URL)
    ├── ModelAssetError             a model cannot be assembled or fails its sha256 check
    ├── SourceUnavailableError      npm missing, a package unreachable, a source file unreadable
    ├── ImportFormatError           a file to import is malformed (reason given, nothing imported)
    ├── BackendError                a backend failed at run time
    │   ├── EmbeddingError
    │   ├── VectorStoreError
    │   ├── LLMError
    │   │   └── LLMTimeoutError
    │   └── NotificationError       an e-mail or SMS could not be sent (``permanent`` or not)
    ├── InputError                  a resident's input is refused (French message for residents)
    │   ├── MessageTooLongError
    │   ├── EmptyMessageError
    │   └── RateLimitedError
    ├── CaseError                   a case operation is refused (French message for people)
    │   ├── CaseNotFoundError
    │   ├── InvalidCaseError        a draft or change that cannot be accepted
    │   ├── InvalidTransitionError  a status change the life cycle does not allow
    │   └── GruUnavailableError     a town's own GRU cannot be reached or refused the call
    │                               (also a BackendError)
    ├── AccountError                sign-in or account management refused (French message)
    │   ├── SignInRefusedError      wrong e-mail or password, inactive account (no hint which)
    │   ├── SignInThrottledError    too many sign-in attempts
    │   ├── WeakPasswordError       the password breaks the rules
    │   ├── AgentExistsError        this e-mail already has an account in the commune
    │   ├── UnknownServiceError     a membership of a service the catalogue does not know
    │   └── SsoError                the OpenID Connect sign-in failed or matches no agent
    └── CommuneError                a commune cannot be created (French message for admins)
        ├── InvalidCommuneError     a malformed id, name or service list
        └── CommuneExistsError      this id is already served

Third-party errors are translated once, at the boundary, with ``raise X(...) from exc``.
Outcomes such as abstaining or handing off are values, not exceptions.
"""

from __future__ import annotations

from foundation.errors import BackendError, ContactCenterError


class InputError(ContactCenterError):
    """A resident's input is refused; ``message_fr`` is shown to the resident."""

    status_code = 400
    code = "invalid_input"

    def __init__(self, message_fr: str) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr


class EmptyMessageError(InputError):
    """The message is empty."""

    code = "empty_message"

    def __init__(self) -> None:
        super().__init__("Votre message est vide. Pouvez-vous écrire votre question ?")


class MessageTooLongError(InputError):
    """The message exceeds the configured size."""

    status_code = 413
    code = "message_too_long"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Votre message est trop long (au maximum {limit} caractères). "
            "Pouvez-vous le raccourcir ou l'envoyer en plusieurs fois ?"
        )
        self.limit = limit


class RateLimitedError(InputError):
    """The client sends messages too fast."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "Vous avez envoyé beaucoup de messages en peu de temps. "
            f"Merci de patienter {retry_after_s} secondes avant de réessayer."
        )
        self.retry_after_s = retry_after_s


class NotificationError(BackendError):
    """An e-mail or SMS could not be sent.

    ``permanent`` errors (a refused recipient, a channel that is not configured) are not
    retried; the others are, with a growing delay.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class CaseError(ContactCenterError):
    """A case operation is refused; ``message_fr`` is shown to the agent or the resident."""

    status_code = 400
    code = "case_error"

    def __init__(self, message_fr: str) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr


class CaseNotFoundError(CaseError):
    """No case of this commune has this id."""

    status_code = 404
    code = "case_not_found"

    def __init__(self) -> None:
        super().__init__("Cette demande est introuvable.")


class InvalidCaseError(CaseError):
    """A draft or a change cannot be accepted (unknown service, malformed contact...)."""

    status_code = 422
    code = "invalid_case"


class InvalidTransitionError(CaseError):
    """The life cycle of a case does not allow this status change."""

    status_code = 409
    code = "invalid_transition"

    def __init__(self, from_label: str, to_label: str) -> None:
        super().__init__(
            f"Une demande au statut « {from_label} » ne peut pas passer au statut « {to_label} »."
        )
        self.from_label = from_label
        self.to_label = to_label


class GruUnavailableError(CaseError, BackendError):
    """A town's own GRU (Publik...) cannot be reached, failed, or refused the contact centre.

    A :class:`CaseError` so that agents read ``message_fr`` (HTTP 503), and a
    :class:`~foundation.errors.BackendError` because the fault is the backend's, not the
    request's: nothing was recorded there (unless ``message_fr`` says it may have been, for a
    call cut off once sent), and the same request may be made again later. ``detail`` keeps
    what the GRU answered, for the logs.
    """

    status_code = 503
    code = "gru_unavailable"

    def __init__(self, message_fr: str, *, detail: str = "") -> None:
        super().__init__(message_fr)
        self.detail = detail


class AccountError(ContactCenterError):
    """Sign-in or account management is refused; ``message_fr`` is shown to the agent."""

    status_code = 400
    code = "account_error"

    def __init__(self, message_fr: str) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr


class SignInRefusedError(AccountError):
    """Wrong e-mail or password, or inactive account: the message never says which."""

    status_code = 401
    code = "sign_in_refused"

    def __init__(self) -> None:
        super().__init__("Adresse électronique ou mot de passe incorrect.")


class SignInThrottledError(AccountError):
    """Too many sign-in attempts from this client or for this account."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "Trop de tentatives de connexion. "
            f"Merci de patienter {retry_after_s} secondes avant de réessayer."
        )
        self.retry_after_s = retry_after_s


class WeakPasswordError(AccountError):
    """The password breaks one or more rules (each listed in the message)."""

    status_code = 422
    code = "weak_password"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Mot de passe refusé : " + " ; ".join(problems) + ".")
        self.problems = problems


class AgentExistsError(AccountError):
    """An account with this e-mail already exists in this commune."""

    status_code = 409
    code = "agent_exists"

    def __init__(self) -> None:
        super().__init__("Un compte existe déjà pour cette adresse électronique.")


class UnknownServiceError(AccountError):
    """A service code that the catalogue does not know."""

    status_code = 422
    code = "unknown_service"

    def __init__(self, code: str) -> None:
        super().__init__(f"Service inconnu : « {code} ».")
        self.service = code


class SsoError(AccountError):
    """The OpenID Connect sign-in failed, or its identity matches no active agent."""

    status_code = 403
    code = "sso_refused"


class CommuneError(ContactCenterError):
    """A commune cannot be created; ``message_fr`` is shown to the administrator."""

    status_code = 422
    code = "invalid_commune"

    def __init__(self, message_fr: str) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr


class InvalidCommuneError(CommuneError):
    """A malformed identifier, name, first administrator or list of services."""


class CommuneExistsError(CommuneError):
    """The identifier is already that of a served commune."""

    status_code = 409
    code = "commune_exists"

    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"La commune « {tenant_id} » est déjà desservie.")

"""One error tree for the agent and the hub, each error with a stable code.

    JeugdhubError                 code            http  exit
    ├── ConfigError               config_error     500    78
    ├── InputError                invalid_input    400    65
    │   └── ExtractError          unusable_extract 400    65
    ├── PayloadError              invalid_payload  400    65
    │   ├── PayloadFieldError     (bad_cell, …)    400    65
    │   ├── SchemaVersionError    unsupported_schema 400  65
    │   ├── PayloadTooLarge       payload_too_large 413   65
    │   └── PsiError              (psi_replay, …)  400    65
    ├── SignatureError            bad_signature    400    77
    ├── AuthError                 unauthorised     401    77
    │   └── ForbiddenError        forbidden        403    77
    ├── NotFoundError             not_found        404    66
    ├── ConflictError             conflict         409    75
    ├── TooManyRequests           too_many_requests 429   75
    ├── ServiceUnavailable        unavailable      503    69
    └── DisclosureAuditFailed     audit_failed     500    70

Subclasses may narrow ``code`` further (``round_closed``, ``node_revoked`` …); the code is what
clients branch on, the message is for people. Messages never contain a BSN, a pseudonym or a
key: callers pass row numbers and column names, not values.
"""

from __future__ import annotations

from typing import Any


class JeugdhubError(Exception):
    """Root of every error the project raises on purpose."""

    code: str = "jeugdhub_error"
    http_status: int = 500
    exit_code: int = 1

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The one error shape of the API and of ``--json`` output."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class ConfigError(JeugdhubError):
    code = "config_error"
    http_status = 500
    exit_code = 78  # EX_CONFIG


class InputError(JeugdhubError):
    code = "invalid_input"
    http_status = 400
    exit_code = 65  # EX_DATAERR


class ExtractError(InputError):
    """A whole input file cannot be used (missing required column, unreadable encoding)."""

    code = "unusable_extract"


class PayloadError(JeugdhubError):
    code = "invalid_payload"
    http_status = 400
    exit_code = 65


class PayloadFieldError(PayloadError):
    """One field of a payload is wrong; ``details["field"]`` names it, e.g. ``cells[3].value`` or
    ``quality.files[0].rows_read`` (the code says which kind of check failed)."""

    def __init__(self, message: str, *, field: str, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message, code=code, details={"field": field, **(details or {})})

    @property
    def field(self) -> str:
        return self.details["field"]


class SchemaVersionError(PayloadError):
    code = "unsupported_schema"


class PayloadTooLarge(PayloadError):
    code = "payload_too_large"
    http_status = 413


class PsiError(PayloadError):
    """A set of the overlap protocol (shared/psi.py) is refused; the code says why: ``psi_replay``
    (another round or exchange), ``psi_foreign_set`` (not from the expected node), ``psi_wrong_step``,
    ``psi_digest_mismatch``, ``psi_bad_point``, ``psi_identity_point``, ``psi_set_too_small``,
    ``psi_bad_payload``, ``psi_bad_input``, ``psi_already_reblinded``, ``psi_bad_state``; at the hub
    ``psi_already_sent`` (another set where the node sent one); at the agent ``psi_sets_missing``,
    ``psi_state_missing`` (docs/overlap.md)."""

    code = "psi_error"


class SignatureError(JeugdhubError):
    code = "bad_signature"
    http_status = 400
    exit_code = 77  # EX_NOPERM


class AuthError(JeugdhubError):
    code = "unauthorised"
    http_status = 401
    exit_code = 77


class ForbiddenError(AuthError):
    code = "forbidden"
    http_status = 403


class NotFoundError(JeugdhubError):
    code = "not_found"
    http_status = 404
    exit_code = 66  # EX_NOINPUT


class ConflictError(JeugdhubError):
    code = "conflict"
    http_status = 409
    exit_code = 75  # EX_TEMPFAIL


class TooManyRequests(JeugdhubError):
    """A limit on how much a user may ask for is reached; ``retry_after`` says when to try again
    (in seconds; the HTTP handlers send it as ``Retry-After``)."""

    code = "too_many_requests"
    http_status = 429
    exit_code = 75  # EX_TEMPFAIL

    def __init__(self, message: str, *, retry_after: int, code: str | None = None,
                 details: dict[str, Any] | None = None):
        super().__init__(message, code=code, details=details)
        self.retry_after = max(1, int(retry_after))


class ServiceUnavailable(JeugdhubError):
    code = "unavailable"
    http_status = 503
    exit_code = 69  # EX_UNAVAILABLE


class DisclosureAuditFailed(JeugdhubError):
    """The gate's auditor left cells it could not prove protected; such a release is never stored."""

    code = "audit_failed"
    http_status = 500
    exit_code = 70  # EX_SOFTWARE

"""Service errors with stable codes; GraphQL shows them as ``extensions.code``."""

from __future__ import annotations


class ServiceError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}

    def extensions(self) -> dict:
        ext: dict = {"code": self.code}
        if self.field:
            ext["field"] = self.field
        if self.details:
            ext.update(self.details)
        return ext


class Unauthenticated(ServiceError):
    code = "UNAUTHENTICATED"


class Forbidden(ServiceError):
    code = "FORBIDDEN"


class NotFound(ServiceError):
    code = "NOT_FOUND"


class ValidationFailed(ServiceError):
    """Bad input. ``field`` names the offending input field (dotted path)."""

    code = "VALIDATION"


class InvalidTransition(ServiceError):
    code = "INVALID_TRANSITION"


class Conflict(ServiceError):
    code = "CONFLICT"


class UsageError(Exception):
    """A mistake at the command line or in the operator's set-up (a refused restore, a busy port).

    The CLI prints the message as one line on stderr and exits with status 2, without a traceback.
    """

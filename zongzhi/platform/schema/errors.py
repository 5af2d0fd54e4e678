"""Errors as GraphQL shows them: a stable ``extensions.code`` and, for bad input, the field.

Service errors keep their message and code. Anything unexpected is logged and shown as
``INTERNAL`` without its message, so internals (SQL, stack details, PII) never reach a client.
Validation and parse errors from graphql-core get ``GRAPHQL_VALIDATION`` / ``GRAPHQL_PARSE``.
"""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from strawberry.extensions.mask_errors import MaskErrors

from zongzhi.platform.errors import ServiceError

log = logging.getLogger(__name__)


def _code(error: GraphQLError) -> str | None:
    original = error.original_error
    if isinstance(original, ServiceError):
        return original.code
    if original is None:
        return "GRAPHQL_PARSE" if "Syntax Error" in error.message else "GRAPHQL_VALIDATION"
    return None


class CodedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(error_message="Internal error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = []
        for error in errors:
            code = _code(error)
            if code is None:
                log.error("unexpected error at %s", error.path, exc_info=error.original_error)
                error = self.anonymise_error(error)
                code = "INTERNAL"
            extensions = dict(error.extensions or {})
            if isinstance(error.original_error, ServiceError):
                extensions.update(error.original_error.extensions())
            extensions.setdefault("code", code)
            error.extensions = extensions
            processed.append(error)
        return processed

"""Errors as GraphQL shows them and as the log keeps them.

Shown: a stable ``extensions.code`` and, for bad input, the field. Service errors keep their message
and code. A value that does not fit its type (a string for an ``Int``, a date-time a scalar cannot
read), in a literal or a variable, is ``VALIDATION`` naming the argument path, like any other bad
input. Other validation and parse errors from graphql-core get ``GRAPHQL_VALIDATION`` /
``GRAPHQL_PARSE`` (or the code a limit gave them, such as ``QUERY_TOO_COSTLY``). Anything
unexpected is shown as ``INTERNAL`` without its message, so internals (SQL, stack details, PII)
never reach a client.

Logged: an expected refusal (not found, forbidden, bad input, a step the case's status does not
allow, a document over a limit) is a client's error, not ours: one line at INFO with its code, field,
operation and path, never the message or a value (they can be large or personal). ``INTERNAL`` is
logged at ERROR with its traceback. Strawberry's own logging of every error is replaced.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
)
from graphql.error import GraphQLError
from strawberry.extensions.mask_errors import MaskErrors
from strawberry.utils.str_converters import to_camel_case
from tortoise.exceptions import ValidationError as ColumnError

from zongzhi.platform.base.errors import ServiceError

log = logging.getLogger(__name__)

_VARIABLE_ERROR = re.compile(r"^Variable '\$(\w+)' (?:has|got) invalid value((?:\.\w+|\[\d+\])*)")


def _values(document: DocumentNode) -> Iterator[tuple[ValueNode, str]]:
    """Every argument value node of the document's operations and fragments, with its path."""

    def value(node: ValueNode, path: str) -> Iterator[tuple[ValueNode, str]]:
        yield node, path
        if isinstance(node, ObjectValueNode):
            for f in node.fields:
                yield from value(f.value, f"{path}.{f.name.value}")
        elif isinstance(node, ListValueNode):
            for i, v in enumerate(node.values):
                yield from value(v, f"{path}[{i}]")

    def selections(selection_set) -> Iterator[tuple[ValueNode, str]]:
        for selection in selection_set.selections if selection_set else ():
            for argument in getattr(selection, "arguments", None) or ():
                yield from value(argument.value, argument.name.value)
            yield from selections(getattr(selection, "selection_set", None))

    for definition in document.definitions:
        yield from selections(getattr(definition, "selection_set", None))


def _as_service_field(path: str) -> str:
    """``input.title`` → ``title``: services name the fields of an ``input`` argument bare."""
    return path.removeprefix("input.") if path != "input" else path


def _value_field(error: GraphQLError, document: DocumentNode | None) -> str | None:
    """The argument path of the value an error is about, or ``None`` if it is not about a value."""
    node = error.nodes[0] if error.nodes else None
    if isinstance(node, VariableDefinitionNode):
        name, inner = node.variable.name.value, ""
        match = _VARIABLE_ERROR.match(error.message)
        if match:
            inner = match.group(2)
        if document is not None:
            for value, path in _values(document):
                if isinstance(value, VariableNode) and value.name.value == name:
                    return _as_service_field(path + inner)
        return _as_service_field(name + inner)
    if isinstance(node, ValueNode) and document is not None:
        for value, path in _values(document):
            if value is node:
                return _as_service_field(path)
        return "(argument)"
    return None


def classify(error: GraphQLError, document: DocumentNode | None) -> tuple[str, str | None]:
    """``(code, field)`` of an error; ``INTERNAL`` for anything unexpected."""
    original = error.original_error
    if isinstance(original, ServiceError):
        return original.code, original.field
    if isinstance(original, ColumnError):  # a value its column cannot hold (a check was missed)
        return "VALIDATION", to_camel_case(str(original).split(":", 1)[0].strip())
    if error.path is None:
        field = _value_field(error, document)
        if field is not None:
            return "VALIDATION", field
        if original is None:
            code = (error.extensions or {}).get("code")
            if code:
                return code, None
            return ("GRAPHQL_PARSE" if "Syntax Error" in error.message else "GRAPHQL_VALIDATION"), None
    return "INTERNAL", None


class CodedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(error_message="Internal error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        document = self.execution_context.graphql_document
        processed = []
        for error in errors:
            code, field = classify(error, document)
            if code == "INTERNAL":
                error = self.anonymise_error(error)
            elif isinstance(error.original_error, ColumnError):  # its message repeats the whole value
                error = GraphQLError(
                    f"{field} is too long or not valid", error.nodes, path=error.path, original_error=None
                )
            extensions = dict(error.extensions or {})
            if isinstance(error.original_error, ServiceError):
                extensions.update(error.original_error.extensions())
            elif field is not None:
                extensions["field"] = field
            extensions["code"] = code
            error.extensions = extensions
            processed.append(error)
        return processed


class Schema(strawberry.Schema):
    """Strawberry's schema with client errors logged briefly and internal ones in full."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        document = getattr(execution_context, "graphql_document", None)
        operation = getattr(execution_context, "operation_name", None)
        for error in errors:
            code, field = classify(error, document)
            path = ".".join(str(p) for p in error.path) if error.path else None
            if code == "INTERNAL":
                log.error(
                    "INTERNAL error in operation %s at %s",
                    operation or "(anonymous)",
                    path,
                    exc_info=error.original_error or True,
                )
            else:
                log.info(
                    "refused %s field=%s operation=%s path=%s", code, field, operation or "(anonymous)", path
                )

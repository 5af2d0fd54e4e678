"""A Strawberry extension that tells the request context and metrics what each operation was.

It must come first in the schema's extensions: hooks exit in reverse order, so the first one sees
the result after ``CodedErrors`` has given every error its ``extensions.code``.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from zongzhi.platform.base.observability import context, metrics, tracing


def outcome_of(errors: list) -> str:
    if not errors:
        return "OK"
    code = (errors[0].extensions or {}).get("code")
    return str(code) if code else "INTERNAL"


class OperationObserver(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        with tracing.span("graphql.operation") as span:
            yield
            result = ec.result
            errors = list(getattr(result, "errors", None) or []) if result is not None else []
            if result is None and ec.pre_execution_errors:
                errors = list(ec.pre_execution_errors)
            for error in errors:
                limit = metrics.refused_limit(error.message, (error.extensions or {}).get("code"))
                if limit is not None:
                    metrics.DOCUMENTS_REFUSED.labels(limit).inc()
            name = ec.operation_name
            context.set_operation(name, outcome_of(errors))
            if span is not None:
                span.set_attribute("graphql.operation.name", name or "")
                span.update_name(f"graphql {name or 'anonymous'}")

"""Optional OpenTelemetry tracing (``pip install zongzhi[otel]``, ``ZONGZHI_TRACING=true``).

Off by default, and then every helper here is a no-op that imports nothing. On, spans cover the
HTTP request, the GraphQL operation, each event's evaluation and its rule matching, the Celery
task (its parent comes from the task headers, so a worker's spans join the request that caused
them) and, when ``opentelemetry-instrumentation-asyncpg`` is installed, every PostgreSQL statement.
Spans go to an OTLP/HTTP collector configured by the standard ``OTEL_EXPORTER_OTLP_*`` variables
(``OTEL_SERVICE_NAME`` names the process; default ``zongzhi``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator
from typing import Any

from zongzhi.platform.base.settings import Settings

log = logging.getLogger(__name__)

_tracer: Any = None


def enabled() -> bool:
    return _tracer is not None


def configure(settings: Settings, provider: Any = None) -> None:
    """Turn tracing on when the settings say so; ``provider`` (tests) replaces the OTLP exporter."""
    global _tracer
    if not settings.tracing:
        if _tracer is not None:
            _sql_spans(None)
        _tracer = None
        return
    if provider is None and _tracer is not None:
        return  # already on (the CLI, then the app factory, or a test's provider)
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        raise RuntimeError("ZONGZHI_TRACING=true needs the otel extra: pip install 'zongzhi[otel]'")
    if provider is None:
        provider = _global_provider()
    _tracer = provider.get_tracer("zongzhi")
    _sql_spans(provider)


def _sql_spans(provider: Any) -> None:
    """A span per PostgreSQL statement (asyncpg) when the instrumentation is installed; off for ``None``."""
    with contextlib.suppress(ImportError):
        from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

        instrumentor = AsyncPGInstrumentor()
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        if provider is not None:
            instrumentor.instrument(tracer_provider=provider)


def _global_provider() -> Any:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    name = os.environ.get("OTEL_SERVICE_NAME", "zongzhi")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    except ImportError:
        log.warning("tracing is on but no OTLP exporter is installed: spans are not exported")
    trace.set_tracer_provider(provider)
    return provider


@contextlib.contextmanager
def span(name: str, attributes: dict[str, Any] | None = None, parent: Any = None) -> Iterator[Any]:
    """A span around the block (the current span's child, or ``parent``'s); nothing when tracing is off."""
    if _tracer is None:
        yield None
        return
    with _tracer.start_as_current_span(name, context=parent, attributes=attributes or {}) as current:
        yield current


def inject(headers: dict[str, Any]) -> None:
    """Write the current trace context into ``headers`` (W3C ``traceparent``)."""
    if _tracer is None:
        return
    from opentelemetry.propagate import inject as otel_inject

    otel_inject(headers)


def extract(headers: Any) -> Any:
    """The trace context carried by ``headers`` (``None`` when tracing is off)."""
    if _tracer is None or not headers:
        return None
    from opentelemetry.propagate import extract as otel_extract

    return otel_extract(headers)


def set_attribute(key: str, value: Any) -> None:
    if _tracer is None or value is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attribute(key, value)

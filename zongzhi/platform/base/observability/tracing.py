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
import sys
from collections.abc import Iterator
from typing import Any

from zongzhi.platform.base.current import current_or_none
from zongzhi.platform.base.settings import Settings

log = logging.getLogger(__name__)


def _tracer() -> Any:
    """The running platform's tracer; ``None`` when tracing is off or no platform runs here."""
    platform = current_or_none()
    return platform.tracer if platform is not None else None


def enabled() -> bool:
    return _tracer() is not None


def tracer_for(settings: Settings, provider: Any = None) -> Any:
    """The tracer a platform for ``settings`` uses, ``None`` when tracing is off; ``provider`` (tests)
    replaces the OTLP exporter."""
    if not settings.tracing:
        if "opentelemetry.instrumentation.asyncpg" in sys.modules:
            _sql_spans(None)
        return None
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        raise RuntimeError("ZONGZHI_TRACING=true needs the otel extra: pip install 'zongzhi[otel]'")
    if provider is None:
        provider = _global_provider()
    _sql_spans(provider)
    return provider.get_tracer("zongzhi")


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
    tracer = _tracer()
    if tracer is None:
        yield None
        return
    with tracer.start_as_current_span(name, context=parent, attributes=attributes or {}) as current:
        yield current


def inject(headers: dict[str, Any]) -> None:
    """Write the current trace context into ``headers`` (W3C ``traceparent``)."""
    if _tracer() is None:
        return
    from opentelemetry.propagate import inject as otel_inject

    otel_inject(headers)


def extract(headers: Any) -> Any:
    """The trace context carried by ``headers`` (``None`` when tracing is off)."""
    if _tracer() is None or not headers:
        return None
    from opentelemetry.propagate import extract as otel_extract

    return otel_extract(headers)


def set_attribute(key: str, value: Any) -> None:
    if value is None or _tracer() is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attribute(key, value)

"""Prometheus metrics: defined once here, counted where things happen, read at ``/metrics``.

With ``PROMETHEUS_MULTIPROC_DIR`` set, every process (uvicorn workers, Celery pool processes) writes
its samples to files in that directory and a scrape adds them up (prometheus-client's multi-process
mode). The directory must exist before the processes start and be emptied between runs:
``zongzhi serve`` and ``zongzhi worker`` do both when it is set (``multiproc``).

Labels hold codes and names from the code or the schema, never personal data. The one label a
client chooses, the GraphQL operation name, must be a valid GraphQL name of at most 64 characters,
and each process keeps at most ``MAX_OPERATIONS`` of them (then ``other``), so a client cannot
grow the series without bound.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess

from zongzhi.platform.base.observability import multiproc

multiproc.ensure_dir()  # before the first metric writes its file there

MAX_OPERATIONS = 200
_OPERATION_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")

GRAPHQL_REQUESTS = Counter(
    "zongzhi_graphql_requests_total",
    "GraphQL requests over HTTP by operation name and outcome code (OK or the first error's code).",
    ["operation", "outcome"],
)
GRAPHQL_SECONDS = Histogram(
    "zongzhi_graphql_request_duration_seconds",
    "Time to answer a GraphQL request over HTTP, by operation name.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DOCUMENTS_REFUSED = Counter(
    "zongzhi_documents_refused_total",
    "GraphQL documents refused by a limit (depth, aliases, tokens, cost) before execution.",
    ["limit"],
)
EVENTS_EVALUATED = Counter(
    "zongzhi_events_evaluated_total", "Case events evaluated against the active rulesets."
)
DECISIONS = Counter(
    "zongzhi_decisions_total", "Rule action decisions recorded, by outcome (ok or error).", ["outcome"]
)
RULE_SECONDS = Histogram(
    "zongzhi_rule_evaluation_seconds",
    "Time the rules engine takes to match one event's fact against the active rulesets.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1),
)
DEADLINE_TICKS = Counter("zongzhi_deadline_ticks_total", "Runs of the deadline tick.")
DEADLINE_EVENTS = Counter(
    "zongzhi_deadline_events_total",
    "Events the deadline tick emitted: warning, overdue, whistle (unanswered).",
    ["kind"],
)
DELIVERY_ATTEMPTS = Counter(
    "zongzhi_delivery_attempts_total",
    "Partner callback attempts by the state they left the delivery in: sent, retry (pending), failed.",
    ["state"],
)
EVIDENCE_UPLOADS = Counter(
    "zongzhi_evidence_uploads_total", "Evidence files confirmed and stored (their event recorded)."
)
EVIDENCE_BYTES = Counter("zongzhi_evidence_bytes_total", "Bytes of evidence files confirmed and stored.")
SUBSCRIPTIONS_OPEN = Gauge(
    "zongzhi_subscriptions_open",
    "GraphQL subscriptions (dispatch board, early warning) open now.",
    multiprocess_mode="livesum",
)
READINESS = Gauge(
    "zongzhi_readiness_check_ok",
    "Result of each readiness check at its latest run (1 ok, 0 failed), set when /readyz answers.",
    ["check"],
    multiprocess_mode="mostrecent",
)

#: Computed by the scraping process at scrape time (``scrape.py``), not stored in files.
SCRAPE_TIME = {
    "zongzhi_outbox_waiting": "Outbox rows (committed events) not yet handled by their consumer.",
    "zongzhi_outbox_oldest_age_seconds": "Age of the oldest outbox row not yet handled (0 when none).",
    "zongzhi_deliveries_pending": "Partner deliveries waiting for their next attempt.",
    "zongzhi_scrape_db_ok": "1 if the scrape-time database figures could be read, else 0.",
}

_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _OPERATION_NAME.match(name):
        return "invalid"
    if name not in _operations:
        if len(_operations) >= MAX_OPERATIONS:
            return "other"
        _operations.add(name)
    return name


def refused_limit(message: str, code: str | None = None) -> str | None:
    """Which document limit an error reports, if any: its code, or graphql-core's and our texts."""
    if code == "QUERY_TOO_COSTLY":
        return "cost"
    lowered = message.lower()
    if "exceeds maximum operation depth" in lowered:
        return "depth"
    if "aliases found" in lowered:
        return "aliases"
    if "document contains more than" in lowered and "tokens" in lowered:
        return "tokens"
    return None


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - started)


@contextmanager
def subscription_open() -> Iterator[None]:
    SUBSCRIPTIONS_OPEN.inc()
    try:
        yield
    finally:
        SUBSCRIPTIONS_OPEN.dec()


def process_gone(pid: int) -> None:
    """A worker process ended: its live gauges stop counting (multi-process mode only)."""
    if multiproc.multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)


def registry() -> CollectorRegistry:
    """The registry to expose: this process's, or every process's files in multi-process mode."""
    if multiproc.multiprocess_dir() is None:
        return REGISTRY
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    return combined

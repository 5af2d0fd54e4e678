"""The ``/metrics`` answer: the counters of every process plus figures read from the database now.

The outbox backlog and the pending deliveries are facts of the database, not of a process, so the
scraping process reads them at scrape time with two indexed queries (``outbox.processed_at``,
``delivery.next_attempt_at``) under a timeout; a scrape never waits on a hung database for long.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import CollectorRegistry
from tortoise import Tortoise

from zongzhi.platform.base.observability import metrics

OUTBOX_SQL = "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE processed_at IS NULL"
DELIVERIES_SQL = "SELECT COUNT(*) AS n FROM delivery WHERE next_attempt_at IS NOT NULL"


def _as_datetime(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns the stored text
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def database_figures() -> dict[str, float]:
    conn = Tortoise.get_connection("default")
    _, rows = await conn.execute_query(OUTBOX_SQL)
    waiting = int(rows[0]["n"])
    oldest = _as_datetime(rows[0]["oldest"])
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    _, rows = await conn.execute_query(DELIVERIES_SQL)
    return {
        "zongzhi_outbox_waiting": waiting,
        "zongzhi_outbox_oldest_age_seconds": max(age, 0.0),
        "zongzhi_deliveries_pending": int(rows[0]["n"]),
    }


class _Figures:
    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    def collect(self):
        for name, value in self.values.items():
            yield GaugeMetricFamily(name, metrics.SCRAPE_TIME[name], value=value)


async def render(timeout: float) -> bytes:
    try:
        values = await asyncio.wait_for(database_figures(), timeout)
        values["zongzhi_scrape_db_ok"] = 1
    except Exception:  # a scrape still shows the process counters when the database is away
        values = {"zongzhi_scrape_db_ok": 0}
    figures = CollectorRegistry(auto_describe=False)
    figures.register(_Figures(values))
    return generate_latest(metrics.registry()) + generate_latest(figures)

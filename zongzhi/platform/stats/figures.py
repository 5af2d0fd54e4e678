"""The statistics of a center subtree over a period, computed by SQL aggregation.

Every number comes out of ``GROUP BY`` / ``count`` / ``sum`` in the database; Python only combines
the handful of aggregate rows (see ``definitions`` for what each figure means). The queries filter
on ``center_path = ANY(...)`` with a time range, matching the ``(center_path, created_at)`` and
``(center_path, status, created_at)`` indexes on cases and ``(type, at)`` on case events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from zongzhi.platform.base.codes import CATEGORIES, CHANNELS, KINDS, CaseStatus, Risk
from zongzhi.platform.models import Department
from zongzhi.platform.services.lifecycle import OPEN
from zongzhi.platform.stats import docking
from zongzhi.platform.stats.period import Period
from zongzhi.platform.stats.scope import Scope
from zongzhi.platform.stats.sql import Sql, percentile, rows

DIMENSIONS = ("status", "channel", "category", "kind", "risk", "center_path")
CONCLUDING = ("case.resolved", "case.failed")
COUNTED_EVENTS = ("case.escalated", "case.returned", "case.risk_flagged", "case.overdue", "case.reopened")
CLOSED = (str(CaseStatus.closed), str(CaseStatus.followed_up))
NOT_A_DEPARTMENT = "其他承办单位（非部门）"
NOT_TAKEN = (str(CaseStatus.rejected), str(CaseStatus.withdrawn))


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class Durations:
    count: int
    average_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Satisfaction:
    count: int
    average: float | None
    distribution: list[Count]
    execution_rate: Rate


@dataclass(frozen=True)
class DepartmentCount:
    department_id: int | None
    name: str
    count: int


@dataclass(frozen=True)
class TrendPoint:
    start: date
    received: int
    resolved: int
    failed: int


@dataclass
class Statistics:
    """The figures of a scope over a period, in the order the API shows them (``schema.stats``)."""

    scope: Scope
    period: Period
    received: int = 0
    by_status: list[Count] = field(default_factory=list)
    by_channel: list[Count] = field(default_factory=list)
    by_category: list[Count] = field(default_factory=list)
    by_kind: list[Count] = field(default_factory=list)
    by_risk: list[Count] = field(default_factory=list)
    by_center: list[Count] = field(default_factory=list)
    concluded: int = 0  # resolved + failed
    resolved: int = 0
    failed: int = 0
    resolution_rate: Rate = Rate(0, 0)
    closure_rate: Rate = Rate(0, 0)
    on_time_rate: Rate = Rate(0, 0)
    time_to_accept: Durations = Durations(0, None, None)
    time_to_conclude: Durations = Durations(0, None, None)
    satisfaction: Satisfaction = Satisfaction(0, None, [], Rate(0, 0))
    returns: list[DepartmentCount] = field(default_factory=list)
    escalations: int = 0
    open_now: int = 0
    overdue_now: int = 0
    high_risk_open: int = 0
    trend_unit: str = "day"
    trend: list[TrendPoint] = field(default_factory=list)
    docking: list[docking.DockingFigures] = field(default_factory=list)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / 3600.0


def _labelled(counts: dict[str, int], labels: list[tuple[str, str]]) -> list[Count]:
    """Every known code in its list order (zeros included), then unknown codes by count."""
    known = [Count(code, label, counts.get(code, 0)) for code, label in labels]
    codes = {code for code, _ in labels}
    extra = sorted(((k, n) for k, n in counts.items() if k not in codes), key=lambda kv: -kv[1])
    return known + [Count(k, k, n) for k, n in extra]


def _received_where(sql: Sql, scope: Scope, period: Period) -> str:
    return (
        f'FROM "case" c WHERE {sql.in_list("c.center_path", scope.paths)} '
        f"AND {sql.within('c.created_at', period.start_at, period.end_at)}"
    )


def _events_where(sql: Sql, scope: Scope, period: Period, types: tuple[str, ...]) -> str:
    return (
        'FROM case_event e JOIN "case" c ON c.id = e.case_id '
        f"WHERE {sql.in_list('e.type', types)} AND {sql.within('e.at', period.start_at, period.end_at)} "
        f"AND {sql.in_list('c.center_path', scope.paths)}"
    )


def dimension_query(scope: Scope, period: Period) -> tuple[Sql, str]:
    """Received cases by every dimension in one statement (GROUPING SETS on PostgreSQL)."""
    sql = Sql()
    if sql.pg:
        where = _received_where(sql, scope, period)
        which = " ".join(f"WHEN GROUPING(c.{d}) = 0 THEN '{d}'" for d in DIMENSIONS)
        text = (
            f"SELECT CASE {which} END AS dim, COALESCE({', '.join(f'c.{d}' for d in DIMENSIONS)}) AS key, "
            f"count(*) AS n {where} GROUP BY GROUPING SETS ({', '.join(f'(c.{d})' for d in DIMENSIONS)})"
        )
    else:
        parts = []
        for d in DIMENSIONS:
            where = _received_where(sql, scope, period)
            parts.append(f"SELECT '{d}' AS dim, c.{d} AS key, count(*) AS n {where} GROUP BY c.{d}")
        text = " UNION ALL ".join(parts)
    return sql, text


async def _dimension_counts(scope: Scope, period: Period) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    for r in await rows(*dimension_query(scope, period)):
        out[r["dim"]][str(r["key"])] = int(r["n"])
    return out


def _by_center(scope: Scope, by_path: dict[str, int]) -> list[Count]:
    """Roll the per-path counts up to the chosen center's children (its own cases under its name)."""
    children = [c for c in scope.centers if c.parent_id == scope.center.id]
    totals = {c.path: 0 for c in [scope.center, *children]}
    for path, n in by_path.items():
        owner = next((c.path for c in children if path.startswith(c.path)), scope.center.path)
        totals[owner] += n
    names = {c.path: (c.code, c.name) for c in [scope.center, *children]}
    return [Count(names[p][0], names[p][1], n) for p, n in totals.items()]


async def _conclusions(scope: Scope, period: Period) -> tuple[dict[str, dict[str, Any]], Durations]:
    sql = Sql()
    took = sql.seconds("c.created_at", "e.at")
    on_time = f"{sql.col('e.at')} <= {sql.col('c.resolve_by')}"
    where = _events_where(sql, scope, period, CONCLUDING)
    text = (
        "SELECT e.type AS type, count(*) AS n, "
        "sum(CASE WHEN c.resolve_by IS NOT NULL THEN 1 ELSE 0 END) AS with_deadline, "
        f"sum(CASE WHEN c.resolve_by IS NOT NULL AND {on_time} THEN 1 ELSE 0 END) AS on_time, "
        f"sum({took}) AS seconds {where} GROUP BY e.type"
    )
    by_type = {r["type"]: r for r in await rows(sql, text)}
    n = sum(int(r["n"]) for r in by_type.values())
    total = sum(float(r["seconds"] or 0) for r in by_type.values())
    p90 = await percentile(
        lambda s: (_events_where(s, scope, period, CONCLUDING), s.seconds("c.created_at", "e.at")), 0.9
    )
    return by_type, Durations(n, _hours(total / n) if n else None, _hours(p90))


async def _time_to_accept(scope: Scope, period: Period) -> Durations:
    sql = Sql()
    where = _received_where(sql, scope, period) + " AND c.accepted_at IS NOT NULL"
    took = sql.seconds("c.created_at", "c.accepted_at")
    found = await rows(sql, f"SELECT count(*) AS n, sum({took}) AS seconds {where}")
    n = int(found[0]["n"]) if found else 0
    if not n:
        return Durations(0, None, None)

    def make(s: Sql) -> tuple[str, str]:
        return (
            _received_where(s, scope, period) + " AND c.accepted_at IS NOT NULL",
            s.seconds("c.created_at", "c.accepted_at"),
        )

    p90 = await percentile(make, 0.9)
    return Durations(n, _hours(float(found[0]["seconds"]) / n), _hours(p90))


async def _satisfaction(scope: Scope, period: Period) -> Satisfaction:
    sql = Sql()
    where = _events_where(sql, scope, period, ("case.followed_up",))
    text = (
        "SELECT c.satisfaction AS rating, count(*) AS n, "
        f"sum(CASE WHEN c.executed THEN 1 ELSE 0 END) AS executed {where} GROUP BY c.satisfaction"
    )
    found = await rows(sql, text)
    by_rating = {int(r["rating"]): int(r["n"]) for r in found if r["rating"] is not None}
    n = sum(int(r["n"]) for r in found)
    rated = sum(by_rating.values())
    average = sum(k * v for k, v in by_rating.items()) / rated if rated else None
    executed = sum(int(r["executed"] or 0) for r in found)
    distribution = [Count(str(k), f"{k}分", by_rating.get(k, 0)) for k in range(5, 0, -1)]
    return Satisfaction(n, average, distribution, Rate(executed, n))


async def _event_counts(scope: Scope, period: Period) -> dict[str, int]:
    sql = Sql()
    where = _events_where(sql, scope, period, COUNTED_EVENTS)
    found = await rows(sql, f"SELECT e.type AS type, count(*) AS n {where} GROUP BY e.type")
    return {r["type"]: int(r["n"]) for r in found}


async def returns_by_department(scope: Scope, period: Period) -> list[DepartmentCount]:
    sql = Sql()
    dept = sql.json_int("e.payload", "department_id")
    where = _events_where(sql, scope, period, ("case.returned",))
    found = await rows(sql, f"SELECT {dept} AS department_id, count(*) AS n {where} GROUP BY {dept}")
    ids = [int(r["department_id"]) for r in found if r["department_id"] is not None]
    names = dict(await Department.filter(id__in=ids).values_list("id", "name")) if ids else {}
    out = [
        DepartmentCount(
            r["department_id"],
            names.get(r["department_id"], NOT_A_DEPARTMENT),
            int(r["n"]),
        )
        for r in found
    ]
    return sorted(out, key=lambda d: (-d.count, d.name))


async def _now_figures(scope: Scope, now: datetime) -> dict[str, int]:
    sql = Sql()
    late = f"c.resolve_by IS NOT NULL AND {sql.col('c.resolve_by')} <= {sql.at(now)}"
    text = (
        f"SELECT count(*) AS open, sum(CASE WHEN {late} THEN 1 ELSE 0 END) AS overdue, "
        f"sum(CASE WHEN c.risk = {sql.p(str(Risk.high))} THEN 1 ELSE 0 END) AS high_risk "
        f'FROM "case" c WHERE {sql.in_list("c.center_path", scope.paths)} '
        f"AND {sql.in_list('c.status', sorted(str(s) for s in OPEN))}"
    )
    found = await rows(sql, text)
    r = found[0] if found else {}
    return {k: int(r.get(k) or 0) for k in ("open", "overdue", "high_risk")}


def buckets(period: Period, unit: str) -> list[date]:
    if unit == "day":
        first, step = period.start, None
    elif unit == "week":
        first, step = period.start - timedelta(days=period.start.weekday()), None
    else:
        first, step = period.start.replace(day=1), "month"
    out: list[date] = []
    day = first
    while day < period.end:
        out.append(day)
        if step == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=1 if unit == "day" else 7)
    return out


def default_unit(period: Period) -> str:
    return "day" if period.days <= 62 else "week" if period.days <= 190 else "month"


async def trend(scope: Scope, period: Period, unit: str) -> list[TrendPoint]:
    sql = Sql()
    b = sql.bucket("c.created_at", unit)
    received = await rows(
        sql, f"SELECT {b} AS b, count(*) AS n {_received_where(sql, scope, period)} GROUP BY {b}"
    )
    sql = Sql()
    b = sql.bucket("e.at", unit)
    concluded = await rows(
        sql,
        f"SELECT {b} AS b, e.type AS type, count(*) AS n "
        f"{_events_where(sql, scope, period, CONCLUDING)} GROUP BY {b}, e.type",
    )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in received:
        counts[str(r["b"])]["received"] += int(r["n"])
    for r in concluded:
        counts[str(r["b"])][r["type"]] += int(r["n"])
    return [
        TrendPoint(
            day,
            counts[day.isoformat()]["received"],
            counts[day.isoformat()]["case.resolved"],
            counts[day.isoformat()]["case.failed"],
        )
        for day in buckets(period, unit)
    ]


async def statistics(
    scope: Scope,
    period: Period,
    *,
    unit: str | None = None,
    now: datetime | None = None,
    with_docking: bool = True,
) -> Statistics:
    now = now or datetime.now(UTC)
    stats = Statistics(scope=scope, period=period, trend_unit=unit or default_unit(period))
    dims = await _dimension_counts(scope, period)
    status = dims["status"]
    stats.received = sum(status.values())
    stats.by_status = _labelled(status, [(str(s), s.label) for s in CaseStatus])
    stats.by_channel = _labelled(dims["channel"], CHANNELS.items())
    stats.by_category = _labelled(dims["category"], CATEGORIES.items())
    stats.by_kind = _labelled(dims["kind"], KINDS.items())
    stats.by_risk = _labelled(dims["risk"], [(str(r), r.label) for r in Risk])
    stats.by_center = _by_center(scope, dims["center_path"])
    closed = sum(status.get(s, 0) for s in CLOSED)
    taken = stats.received - sum(status.get(s, 0) for s in NOT_TAKEN)
    stats.closure_rate = Rate(closed, taken)

    by_type, stats.time_to_conclude = await _conclusions(scope, period)
    stats.resolved = int(by_type.get("case.resolved", {}).get("n") or 0)
    stats.failed = int(by_type.get("case.failed", {}).get("n") or 0)
    stats.concluded = stats.resolved + stats.failed
    stats.resolution_rate = Rate(stats.resolved, stats.concluded)
    stats.on_time_rate = Rate(
        sum(int(r["on_time"] or 0) for r in by_type.values()),
        sum(int(r["with_deadline"] or 0) for r in by_type.values()),
    )
    stats.time_to_accept = await _time_to_accept(scope, period)
    stats.satisfaction = await _satisfaction(scope, period)
    stats.returns = await returns_by_department(scope, period)
    stats.escalations = (await _event_counts(scope, period)).get("case.escalated", 0)
    now_figures = await _now_figures(scope, now)
    stats.open_now = now_figures["open"]
    stats.overdue_now = now_figures["overdue"]
    stats.high_risk_open = now_figures["high_risk"]
    stats.trend = await trend(scope, period, stats.trend_unit)
    if with_docking:
        stats.docking = await docking.collect(scope.case_q(), period.start_at, period.end_at)
    return stats

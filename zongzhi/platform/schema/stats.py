"""GraphQL for 分析研判 and 指挥调度: statistics, hot spots, early warning and the report.

Every rate's definition is the description of its field (texts from ``stats.definitions``), so
GraphiQL shows exactly what a number means. All of them are jurisdiction-scoped: the center asked
for must be in the asker's subtree (default: the asker's own center).
"""

from __future__ import annotations

import base64
import enum
from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.tools import merge_types

from zongzhi.platform import models, reports
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.schema import types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.from_dataclass import dataclass_type
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.schema.nodes import copy_of
from zongzhi.platform.schema.practice_figures import PracticeFigures
from zongzhi.platform.stats import definitions as d
from zongzhi.platform.stats import docking, figures, hotspots, warnings
from zongzhi.platform.stats.period import Period, between, parse_period
from zongzhi.platform.stats.scope import Scope, scope_for


@strawberry.enum(description="Calendar buckets of a trend, in China time (weeks start on Monday).")
class TrendUnit(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@strawberry.type(description="What a statistics field means.")
class Definition:
    name: str
    text: str


CountItem = dataclass_type(
    figures.Count, name="CountItem", description="A count under a code (or a center) with its label."
)

Rate = dataclass_type(
    figures.Rate,
    name="Rate",
    description="numerator / denominator; value is null when the denominator is 0.",
    properties={"value": float | None},
    docs={"value": "Between 0 and 1; null when the denominator is 0."},
)

Durations = dataclass_type(
    figures.Durations,
    name="Durations",
    description="Elapsed times in hours: how many were measured, their average and 90th percentile.",
    docs={"p90_hours": "90th percentile, continuous (percentile_cont)."},
)

SatisfactionFigures = dataclass_type(
    figures.Satisfaction,
    name="SatisfactionFigures",
    description=d.SATISFACTION,
    types={figures.Count: CountItem, figures.Rate: Rate},
    docs={
        "count": "Follow-ups in the period.",
        "distribution": "How many of each rating, 5 down to 1.",
        "execution_rate": d.EXECUTION_RATE,
    },
)


def _department_id(self: figures.DepartmentCount) -> strawberry.ID | None:
    return strawberry.ID(to_global_id("Department", self.department_id)) if self.department_id else None


DepartmentCount = dataclass_type(
    figures.DepartmentCount,
    name="DepartmentCount",
    replace={"department_id": strawberry.field(resolver=_department_id)},
)

TrendPoint = dataclass_type(
    figures.TrendPoint, name="TrendPoint", docs={"start": "First day of the bucket (China time)."}
)


@strawberry.type(description="A figure contributed by a docking plugin.")
class DockingFigure:
    key: str
    value: strawberry.scalars.JSON | None = strawberry.field(
        description="null: no data (e.g. a rate over zero cases)"
    )


def _docking_figures(self: docking.DockingFigures) -> list[DockingFigure]:
    return [DockingFigure(key=k, value=v) for k, v in self.figures.items()]


DockingFigures = dataclass_type(
    docking.DockingFigures,
    name="DockingFigures",
    description=d.DOCKING,
    replace={"figures": strawberry.field(resolver=_docking_figures)},
)


@strawberry.type
class StatsPeriod:
    label: str
    start: date = strawberry.field(description="First day (China time).")
    end: date = strawberry.field(description="Last day, inclusive (China time).")

    @classmethod
    def of(cls, p: Period) -> StatsPeriod:
        from datetime import timedelta

        return cls(label=p.label, start=p.start, end=p.end - timedelta(days=1))


def _center(self: figures.Statistics) -> types.Center:
    return types.Center.of(self.scope.center)


def _period(self: figures.Statistics) -> StatsPeriod:
    return StatsPeriod.of(self.period)


def _trend_unit(self: figures.Statistics) -> TrendUnit:
    return TrendUnit(self.trend_unit)


async def _practices(self: figures.Statistics) -> PracticeFigures:
    from zongzhi.platform.stats.practices import practice_figures

    return PracticeFigures.of(await practice_figures(self.scope, self.period))


#: 分析研判: the GraphQL view of ``stats.figures.Statistics``; its answers are those dataclasses.
Statistics = dataclass_type(
    figures.Statistics,
    name="Statistics",
    description="Statistics of a center and its subtree over a period (分析研判).",
    types={
        figures.Count: CountItem,
        figures.Rate: Rate,
        figures.Durations: Durations,
        figures.Satisfaction: SatisfactionFigures,
        figures.DepartmentCount: DepartmentCount,
        figures.TrendPoint: TrendPoint,
        docking.DockingFigures: DockingFigures,
    },
    replace={
        "scope": strawberry.field(name="center", resolver=_center),
        "period": strawberry.field(resolver=_period),
        "trend_unit": strawberry.field(resolver=_trend_unit),
    },
    docs={
        "received": d.RECEIVED,
        "by_status": "Received in the period, by current status.",
        "by_channel": "Received in the period, by channel.",
        "by_category": "Received in the period, by category.",
        "by_kind": "Received in the period, by kind.",
        "by_risk": "Received in the period, by current risk.",
        "by_center": d.BY_CENTER,
        "concluded": d.CONCLUDED,
        "resolved": "case.resolved events in the period.",
        "failed": "case.failed events in the period.",
        "resolution_rate": d.RESOLUTION_RATE,
        "closure_rate": d.CLOSURE_RATE,
        "on_time_rate": d.ON_TIME_RATE,
        "time_to_accept": d.TIME_TO_ACCEPT,
        "time_to_conclude": d.TIME_TO_CONCLUDE,
        "returns": d.RETURNS,
        "escalations": d.ESCALATIONS,
        "open_now": "Open cases now, whatever the period.",
        "overdue_now": d.OVERDUE_NOW,
        "high_risk_open": d.HIGH_RISK_OPEN,
        "trend": d.TREND,
    },
    extra={
        "practices": strawberry.field(
            resolver=_practices, description="Sweep completion, assessment ranking and mediators' figures."
        )
    },
)


@strawberry.type(description=d.HOT_SPOTS)
class HotSpot:
    key: str = strawberry.field(description="Grid code or category code.")
    label: str
    count: int
    previous: int = strawberry.field(description="Count in the previous period.")
    change: int
    growth: float | None = strawberry.field(description="change / previous; null when previous is 0.")
    grid: types.Grid | None

    @classmethod
    def of(cls, h: hotspots.HotSpot) -> HotSpot:
        return copy_of(cls, h, grid=types.Grid.of(h.grid) if h.grid else None)


@strawberry.type(description="热点问题: cases per grid and per category against the previous period.")
class HotSpots:
    period: StatsPeriod
    previous_period: StatsPeriod
    by_grid: list[HotSpot]
    by_category: list[HotSpot]
    spots: strawberry.Private[hotspots.HotSpots]

    @strawberry.field(description=d.RISING)
    def rising(self, limit: int = 10) -> list[HotSpot]:
        return [HotSpot.of(h) for h in self.spots.rising(max(1, min(limit, 100)))]

    @strawberry.field(
        description="The scope's grids that have a polygon as a GeoJSON FeatureCollection; each feature's "
        "properties carry grid, name, count, previous, change and growth."
    )
    def geojson(self) -> strawberry.scalars.JSON:
        return self.spots.geojson()

    @classmethod
    def of(cls, h: hotspots.HotSpots) -> HotSpots:
        return cls(
            period=StatsPeriod.of(h.period),
            previous_period=StatsPeriod.of(h.previous_period),
            by_grid=[HotSpot.of(x) for x in h.by_grid],
            by_category=[HotSpot.of(x) for x in h.by_category],
            spots=h,
        )


@strawberry.type(description="A person party to repeated cases in the window.")
class RepeatedParty:
    person: types.Person | None
    count: int
    last_at: datetime | None


@strawberry.type(description="An address with repeated cases in the window.")
class RepeatedAddress:
    address: str
    count: int
    last_at: datetime | None


@strawberry.type(description="A whistle (吹哨) past its response time with no answer.")
class UnansweredWhistle:
    whistle: types.Whistle
    case: types.Case


@strawberry.type(
    description="预警: what a dispatcher's screen watches. Poll it, or subscribe to earlyWarning."
)
class EarlyWarning:
    at: datetime
    window_days: int
    min_cases: int
    repeated_parties: list[RepeatedParty] = strawberry.field(
        description="People party to at least minCases cases received in the last windowDays days."
    )
    repeated_addresses: list[RepeatedAddress] = strawberry.field(
        description="Addresses with at least minCases cases received in the last windowDays days."
    )
    high_risk_open: list[types.Case] = strawberry.field(description="Open high-risk cases, newest first.")
    unanswered_whistles: list[UnansweredWhistle]
    near_deadline: list[types.Case] = strawberry.field(
        description="Open cases past their warning time, deadline not yet passed; soonest first."
    )
    overdue: list[types.Case] = strawberry.field(description="Open cases past their deadline; oldest first.")


def _whistle(w: models.Whistle) -> types.Whistle:
    return types.Whistle.of(w)


async def early_warning_for(scope: Scope, window_days: int, min_cases: int, limit: int) -> EarlyWarning:
    if not 1 <= window_days <= 366:
        raise ValidationFailed("windowDays is 1 to 366", field="windowDays")
    if min_cases < 2:
        raise ValidationFailed("minCases is at least 2", field="minCases")
    limit = max(1, min(limit, warnings.LIST_CAP))
    now = datetime.now().astimezone()
    parties = await warnings.repeated_parties(scope, window_days, min_cases, now, limit)
    addresses = await warnings.repeated_addresses(scope, window_days, min_cases, now, limit)
    whistles = await warnings.unanswered_whistles(scope, now, limit)
    whistle_cases = {c.id: c for c in await models.Case.filter(id__in=[w.case_id for w in whistles])}
    return EarlyWarning(
        at=now,
        window_days=window_days,
        min_cases=min_cases,
        repeated_parties=[
            RepeatedParty(
                person=types.Person.of(r.person) if r.person else None, count=r.count, last_at=r.last_at
            )
            for r in parties
        ],
        repeated_addresses=[
            RepeatedAddress(address=r.key, count=r.count, last_at=r.last_at) for r in addresses
        ],
        high_risk_open=[types.Case.of(c) for c in await warnings.high_risk_open(scope, limit)],
        unanswered_whistles=[
            UnansweredWhistle(whistle=_whistle(w), case=types.Case.of(whistle_cases[w.case_id]))
            for w in whistles
        ],
        near_deadline=[types.Case.of(c) for c in await warnings.near_deadline(scope, now, limit)],
        overdue=[types.Case.of(c) for c in await warnings.overdue(scope, now, limit)],
    )


def period_of(period: str | None, start: date | None, end: date | None) -> Period:
    if period and (start or end):
        raise ValidationFailed("give either period or from/to, not both", field="period")
    if period:
        return parse_period(period)
    if start and end:
        if (end - start).days > 3660:
            raise ValidationFailed("a period is at most ten years", field="to")
        return between(start, end)
    raise ValidationFailed("give a period (2026-10) or both from and to", field="period")


async def scope_of(info: Info, center_id: strawberry.ID | None) -> Scope:
    pk = pk_of(center_id, "Center", "centerId") if center_id else None
    return await scope_for(actor_of(info), pk)


@strawberry.type
class FiguresQuery:
    @strawberry.field(
        description="Statistics of a center's subtree (default: your center) for a period: `period` as "
        "2026, 2026-Q3, 2026-10, 2026-W41 or 2026-10-05, or `from` and `to` (inclusive days, China time)."
    )
    async def statistics(
        self,
        info: Info,
        center_id: strawberry.ID | None = None,
        period: str | None = None,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        trend_unit: TrendUnit | None = None,
    ) -> Statistics:
        scope = await scope_of(info, center_id)
        p = period_of(period, from_, to)
        unit = trend_unit.value if trend_unit else None
        return await figures.statistics(scope, p, unit=unit)

    @strawberry.field(description=d.HOT_SPOTS)
    async def hot_spots(
        self,
        info: Info,
        center_id: strawberry.ID | None = None,
        period: str | None = None,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
    ) -> HotSpots:
        scope = await scope_of(info, center_id)
        return HotSpots.of(await hotspots.hot_spots(scope, period_of(period, from_, to)))

    @strawberry.field(description="预警 lists for a dispatcher's screen; see EarlyWarning.")
    async def early_warning(
        self,
        info: Info,
        center_id: strawberry.ID | None = None,
        window_days: int = 90,
        min_cases: int = 3,
        limit: int = 50,
    ) -> EarlyWarning:
        scope = await scope_of(info, center_id)
        return await early_warning_for(scope, window_days, min_cases, limit)

    @strawberry.field(description="The definition of every figure, as the README and reports give them.")
    def stats_definitions(self) -> list[Definition]:
        return [Definition(name=k, text=v) for k, v in d.ALL.items()]


def encode_pdf(data: bytes) -> str:
    return base64.b64encode(data).decode()


@strawberry.type(description="A case line in a report's overdue or high-risk list.")
class ReportCase:
    number: str
    title: str
    status: str
    risk: str
    center: str
    created_at: datetime
    resolve_by: datetime | None


@strawberry.type(
    description="分析研判报告: the report `zongzhi report` writes, as data and as Markdown, CSV or PDF."
)
class Report:
    title: str
    generated_at: datetime
    statistics: Statistics
    hot_spots: HotSpots
    overdue: list[ReportCase]
    high_risk: list[ReportCase]
    report: strawberry.Private[reports.Report]

    @strawberry.field(description="The report as Markdown.")
    def markdown(self) -> str:
        return reports.render(self.report, "md").decode("utf-8")

    @strawberry.field(description="The report as one CSV (UTF-8): a section column, then the table's own.")
    def csv(self) -> str:
        return reports.render(self.report, "csv").decode("utf-8-sig")

    @strawberry.field(description="The report as a PDF with charts, base64-encoded.")
    def pdf_base64(self) -> str:
        return encode_pdf(reports.render(self.report, "pdf"))

    @classmethod
    def of(cls, r: reports.Report) -> Report:
        def lines(items: list) -> list[ReportCase]:
            return [ReportCase(**vars(c)) for c in items]

        return cls(
            title=r.title,
            generated_at=r.generated_at,
            statistics=r.stats,
            hot_spots=HotSpots.of(r.spots),
            overdue=lines(r.overdue),
            high_risk=lines(r.high_risk),
            report=r,
        )


@strawberry.type
class ReportQuery:
    @strawberry.field(description="The analysis report of a center's subtree (default: yours) for a period.")
    async def report(
        self,
        info: Info,
        period: str,
        center_id: strawberry.ID | None = None,
    ) -> Report:
        scope = await scope_of(info, center_id)
        return Report.of(await reports.build_report(scope, parse_period(period)))


#: What ``build_schema`` merges into ``Query``.
StatsQuery = merge_types("StatsQuery", (FiguresQuery, ReportQuery))

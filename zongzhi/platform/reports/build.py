"""Everything a report shows, gathered once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from zongzhi.platform.base import pii
from zongzhi.platform.models import Case, Center
from zongzhi.platform.services.people import id_number_of, phone_of
from zongzhi.platform.stats import warnings
from zongzhi.platform.stats.figures import Rate, Statistics, statistics
from zongzhi.platform.stats.hotspots import HotSpots, hot_spots
from zongzhi.platform.stats.period import TZ, Period
from zongzhi.platform.stats.practices import PracticeFigures, practice_figures
from zongzhi.platform.stats.rules import RuleStat, rule_statistics
from zongzhi.platform.stats.scope import Scope

LIST_LIMIT = 30
TOP_SPOTS = 10
#: Parties to at least this many cases received in the period are listed when people are asked for.
REPEAT_MIN_CASES = 2
People = Literal["none", "masked", "full"]


@dataclass(frozen=True)
class CaseLine:
    number: str
    title: str
    status: str
    risk: str
    center: str
    created_at: datetime
    resolve_by: datetime | None


@dataclass(frozen=True)
class PartyLine:
    """A person party to repeated cases, with ID and phone numbers masked or in full."""

    person_id: int
    name: str
    id_number: str
    phone: str
    cases: int


@dataclass(frozen=True)
class Report:
    title: str
    generated_at: datetime
    stats: Statistics
    spots: HotSpots
    overdue: list[CaseLine]
    high_risk: list[CaseLine]
    #: ``None`` unless people were asked for (``build_report(people=...)``).
    parties: list[PartyLine] | None = None
    rules: list[RuleStat] = field(default_factory=list)
    #: Sweeps, assessment ranking and mediators (``stats.practices``).
    practices: PracticeFigures | None = None

    @property
    def period(self) -> Period:
        return self.stats.period

    def headline(self) -> list[tuple[str, str]]:
        """The headline figures as (label, formatted value) pairs."""
        s = self.stats
        sat = s.satisfaction
        return [
            ("受理案件 Received", str(s.received)),
            ("调处结束 Concluded", f"{s.concluded}（成功 {s.resolved}，失败 {s.failed}）"),
            ("化解成功率 Resolution rate", percent(s.resolution_rate)),
            ("办结率 Closure rate", percent(s.closure_rate)),
            ("按期办结率 On-time rate", percent(s.on_time_rate)),
            ("平均受理时长 Avg time to accept", hours(s.time_to_accept.average_hours)),
            ("受理时长P90 p90 time to accept", hours(s.time_to_accept.p90_hours)),
            ("平均办理时长 Avg time to conclude", hours(s.time_to_conclude.average_hours)),
            ("办理时长P90 p90 time to conclude", hours(s.time_to_conclude.p90_hours)),
            ("满意度 Satisfaction", f"{sat.average:.2f} / 5（{sat.count} 次回访）" if sat.average else "—"),
            ("执行到位率 Execution rate", percent(sat.execution_rate)),
            ("退回 Returns", str(sum(r.count for r in s.returns))),
            ("上报升级 Escalations", str(s.escalations)),
            ("在办 Open now", str(s.open_now)),
            ("超期 Overdue now", str(s.overdue_now)),
            ("高风险在办 High-risk open", str(s.high_risk_open)),
        ]


def percent(rate: Rate) -> str:
    if rate.value is None:
        return "—（无数据）"
    return f"{rate.value * 100:.1f}%（{rate.numerator}/{rate.denominator}）"


def hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} 小时" if value < 72 else f"{value / 24:.1f} 天"


async def _lines(cases: list[Case]) -> list[CaseLine]:
    names = dict(await Center.filter(id__in={c.center_id for c in cases}).values_list("id", "name"))
    return [
        CaseLine(
            c.number,
            c.title,
            c.status.label,
            c.risk.label,
            names.get(c.center_id, ""),
            c.created_at,
            c.resolve_by,
        )
        for c in cases
    ]


async def _party_lines(scope: Scope, period: Period, full: bool) -> list[PartyLine]:
    repeats = await warnings.repeated_parties(
        scope, period.days, REPEAT_MIN_CASES, now=period.end_at, limit=LIST_LIMIT
    )
    lines = []
    for r in repeats:
        if r.person is None:
            continue
        id_number, phone = id_number_of(r.person) or "", phone_of(r.person) or ""
        if not full:
            id_number = pii.mask_id_number(id_number) if id_number else ""
            phone = pii.mask_phone(phone) if phone else ""
        lines.append(PartyLine(r.person.id, r.person.name, id_number, phone, r.count))
    return lines


async def build_report(
    scope: Scope, period: Period, *, now: datetime | None = None, people: People = "none"
) -> Report:
    """The report. ``people``: also list repeated parties, numbers ``masked`` or in ``full``.

    The caller that asks for ``full`` numbers audits the reveal (``audit.record_reveal``).
    """
    now = now or datetime.now(UTC)
    stats = await statistics(scope, period, now=now)
    spots = await hot_spots(scope, period)
    overdue = await warnings.overdue(scope, now, LIST_LIMIT)
    high_risk = await warnings.high_risk_open(scope, LIST_LIMIT)
    title = f"{scope.center.name} 矛盾纠纷分析研判报告（{period.label}）"
    return Report(
        title=title,
        generated_at=now.astimezone(TZ),
        stats=stats,
        spots=spots,
        overdue=await _lines(overdue),
        high_risk=await _lines(high_risk),
        parties=None if people == "none" else await _party_lines(scope, period, people == "full"),
        rules=await rule_statistics(scope, period),
        practices=await practice_figures(scope, period),
    )

"""积分制考核: staff and unit scores computed from the recorded case events.

Rules a county configures (``AssessmentConfig.points``; the defaults below), each tied to event types:

- ``concluded_on_time`` — a ``case.resolved``/``case.failed`` with no ``case.overdue`` before it:
  to its actor.
- ``concluded_late`` — the same after an overdue (0 by default: the overdue already costs).
- ``satisfied`` / ``dissatisfied`` — a ``case.followed_up`` rated 4–5 / 1–2: to whoever concluded the case.
- ``executed`` — a follow-up finding the agreement carried out (执行到位): to the concluder.
- ``supervision_answered`` — a ``case.supervised`` that the holder answered (progress or conclusion after it).
- ``returned_without_cause`` — a ``case.returned`` (推诿扯皮) after which the case was dispatched back to
  the same unit: to the returner.
- ``overdue`` — a ``case.overdue``: to each person holding the case then, or the department holding it.
- ``whistle_unanswered`` — a ``case.whistle_unanswered``: to the department summoned.

Every point is a ``Line`` naming its event and case, so a score can be traced to what happened. A
stationed department's staff (S3/S4) are scored ``center_weight`` (60%) by the center and
``home_weight`` (40%) by their home unit, whose share its assessor enters (``HomeUnitScore``); a
center's total counts ``township_share`` (30%) in the township's annual 平安建设 assessment.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from zongzhi.platform.base.codes import CenterLevel, Role
from zongzhi.platform.base.errors import Forbidden, NotFound, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.models import (
    AssessmentConfig,
    Assignment,
    Case,
    CaseEvent,
    Center,
    Department,
    HomeUnitScore,
    User,
)
from zongzhi.platform.stats.period import Period
from zongzhi.platform.stats.scope import Scope

DEFAULT_POINTS: dict[str, float] = {
    "concluded_on_time": 2,
    "concluded_late": 0,
    "satisfied": 1,
    "dissatisfied": -1,
    "executed": 1,
    "supervision_answered": 1,
    "returned_without_cause": -3,
    "overdue": -2,
    "whistle_unanswered": -2,
}
DEFAULT_WEIGHTS = {"center_weight": 0.6, "home_weight": 0.4, "township_share": 0.3}
CONFIG_ROLES = (Role.leader, Role.admin)
HOME_ASSESSOR_ROLES = (Role.department, Role.leader, Role.admin)


@dataclass(frozen=True)
class Line:
    rule: str
    points: float
    event_id: int
    case_id: int
    case_number: str


@dataclass
class Score:
    kind: str  # person | department | center
    key: int
    name: str
    lines: list[Line] = field(default_factory=list)
    home_score: float | None = None
    weighted: float | None = None
    annual_share: float | None = None

    @property
    def center_score(self) -> float:
        return round(sum(line.points for line in self.lines), 2)


@dataclass
class Assessment:
    period: Period
    people: list[Score]
    units: list[Score]
    weights: dict[str, float]


# --- configuration ---------------------------------------------------------------------------


async def _county_config(center: Center) -> AssessmentConfig | None:
    county = center
    if center.level != CenterLevel.county:
        ids = [int(x) for x in center.path.strip("/").split("/")]
        county = await Center.filter(id__in=ids, level=CenterLevel.county).first() or center
    return await AssessmentConfig.get_or_none(county_id=county.id)


async def config_for(center: Center) -> tuple[dict[str, float], dict[str, float]]:
    row = await _county_config(center)
    if row is None:
        return dict(DEFAULT_POINTS), dict(DEFAULT_WEIGHTS)
    weights = {k: getattr(row, k) for k in DEFAULT_WEIGHTS}
    return DEFAULT_POINTS | {k: float(v) for k, v in row.points.items()}, weights


async def configure(
    actor: Actor,
    county_id: int,
    points: dict[str, float],
    center_weight: float | None = None,
    home_weight: float | None = None,
    township_share: float | None = None,
) -> AssessmentConfig:
    from zongzhi.platform.domain.jurisdiction import center_in_scope

    if not actor.has(*CONFIG_ROLES):
        raise Forbidden("assessment rules are set by a county leader")
    county = await Center.get_or_none(id=county_id)
    if county is None or county.level != CenterLevel.county or not center_in_scope(actor, county.path):
        raise NotFound("no such county in your jurisdiction", field="countyId")
    for key, value in points.items():
        if key not in DEFAULT_POINTS:
            raise ValidationFailed(f"unknown rule {key!r}", field=f"points.{key}")
        if not isinstance(value, int | float) or abs(value) > 100:
            raise ValidationFailed("points are numbers between -100 and 100", field=f"points.{key}")
    row, _ = await AssessmentConfig.get_or_create(county=county, defaults=dict(DEFAULT_WEIGHTS))
    for name, value in (
        ("center_weight", center_weight),
        ("home_weight", home_weight),
        ("township_share", township_share),
    ):
        if value is not None:
            if not 0 <= value <= 1:
                raise ValidationFailed("weights are between 0 and 1", field=name)
            setattr(row, name, value)
    if abs(row.center_weight + row.home_weight - 1) > 1e-9:
        raise ValidationFailed("centerWeight and homeWeight add up to 1", field="homeWeight")
    row.points = {k: float(v) for k, v in points.items()}
    await row.save()
    return row


async def enter_home_score(
    actor: Actor, user_id: int, period: str, score: float, note: str = ""
) -> HomeUnitScore:
    """The home unit's share (40% by default), entered by an assessor of the person's department."""
    if not actor.has(*HOME_ASSESSOR_ROLES):
        raise Forbidden("the home unit's score is entered by its assessor")
    person = await User.get_or_none(id=user_id)
    if person is None or person.department_id is None:
        raise NotFound("no stationed department staff with that id", field="userId")
    if not actor.system and Role.admin not in actor.roles and actor.department_id != person.department_id:
        raise Forbidden("only the person's own department assesses them", field="userId")
    if not 0 <= score <= 100:
        raise ValidationFailed("a score is 0 to 100", field="score")
    from zongzhi.platform.stats.period import parse_period

    parse_period(period)
    row, _ = await HomeUnitScore.update_or_create(
        user_id=user_id, period=period, defaults={"score": score, "note": note, "assessor_id": actor.user_id}
    )
    return row


# --- computation -----------------------------------------------------------------------------


def _holders(assignments: list[Assignment], at: datetime) -> list[Assignment]:
    return [
        a
        for a in assignments
        if a.created_at <= at
        and (a.finished_at is None or a.finished_at >= at)
        and (a.returned_at is None or a.returned_at > at)
    ]


async def compute(scope: Scope, period: Period) -> Assessment:
    """Scores of the people and units that worked on the scope's cases in the period."""
    points, weights = await config_for(scope.center)
    # Only cases with an event in the period can score in it; their timelines are read whole (up to
    # the period's end), since a rule may look at what came before (an overdue) or after (a re-dispatch).
    case_ids = list(
        await CaseEvent.filter(
            case__center_path__in=scope.paths, at__gte=period.start_at, at__lt=period.end_at
        )
        .distinct()
        .values_list("case_id", flat=True)
    )
    events = await CaseEvent.filter(case_id__in=case_ids, at__lt=period.end_at).order_by(
        "case_id", "at", "id"
    )
    numbers = dict(await Case.filter(id__in=case_ids).values_list("id", "number"))
    assignments: dict[int, list[Assignment]] = defaultdict(list)
    for a in await Assignment.filter(case_id__in=case_ids):
        assignments[a.case_id].append(a)

    person_lines: dict[int, list[Line]] = defaultdict(list)
    dept_lines: dict[int, list[Line]] = defaultdict(list)

    by_case: dict[int, list[CaseEvent]] = defaultdict(list)
    for e in events:
        by_case[e.case_id].append(e)

    def inside(e: CaseEvent) -> bool:
        return period.start_at <= e.at < period.end_at

    for case_id, timeline in by_case.items():
        overdue_seen = False
        concluder: int | None = None

        def give(target: dict, key: int | None, rule: str, e: CaseEvent) -> None:
            if key is not None and inside(e) and points.get(rule, 0):
                target[key].append(Line(rule, points[rule], e.id, e.case_id, numbers.get(e.case_id, "")))

        for i, e in enumerate(timeline):
            if e.type == "case.overdue":
                overdue_seen = True
                for a in _holders(assignments[case_id], e.at):
                    if a.user_id:
                        give(person_lines, a.user_id, "overdue", e)
                    elif a.department_id:
                        give(dept_lines, a.department_id, "overdue", e)
            elif e.type in ("case.resolved", "case.failed"):
                concluder = e.actor_id
                give(person_lines, e.actor_id, "concluded_late" if overdue_seen else "concluded_on_time", e)
            elif e.type == "case.reopened":
                overdue_seen = False
            elif e.type == "case.followed_up":
                sat = e.payload.get("satisfaction")
                if isinstance(sat, int) and sat >= 4:
                    give(person_lines, concluder, "satisfied", e)
                elif isinstance(sat, int) and sat <= 2:
                    give(person_lines, concluder, "dissatisfied", e)
                if e.payload.get("executed"):
                    give(person_lines, concluder, "executed", e)
            elif e.type == "case.supervised":
                holders = {a.user_id for a in _holders(assignments[case_id], e.at) if a.user_id}
                answered = next(
                    (
                        later
                        for later in timeline[i + 1 :]
                        if later.actor_id in holders
                        and later.type in ("case.progress", "case.resolved", "case.failed")
                    ),
                    None,
                )
                if answered is not None and inside(answered):
                    give(person_lines, answered.actor_id, "supervision_answered", answered)
            elif e.type == "case.returned":
                returned = next(
                    (a for a in assignments[case_id] if a.id == e.payload.get("assignment_id")), None
                )
                if returned is not None and any(
                    later.type in ("case.dispatched", "case.assigned")
                    and any(
                        (u.get("department_id") and u.get("department_id") == returned.department_id)
                        or (u.get("user_id") and u.get("user_id") == returned.user_id)
                        for u in later.payload.get("units", [later.payload])
                    )
                    for later in timeline[i + 1 :]
                ):
                    give(person_lines, e.actor_id, "returned_without_cause", e)
            elif e.type == "case.whistle_unanswered":
                give(dept_lines, e.payload.get("department_id"), "whistle_unanswered", e)

    users = {u.id: u for u in await User.filter(id__in=list(person_lines))}
    homes = {
        h.user_id: h.score for h in await HomeUnitScore.filter(user_id__in=list(users), period=period.label)
    }
    people = []
    for uid, lines in person_lines.items():
        u = users.get(uid)
        if u is None:
            continue
        s = Score("person", uid, u.display_name, lines)
        if u.department_id is not None:
            s.home_score = homes.get(uid)
            if s.home_score is not None:
                s.weighted = round(
                    s.center_score * weights["center_weight"] + s.home_score * weights["home_weight"], 2
                )
        people.append(s)
    # Units: a department gets its own lines and its people's; a center gets its staff's.
    depts = {d.id: d for d in await Department.all()}
    unit_scores: dict[tuple[str, int], Score] = {}
    for did, lines in dept_lines.items():
        if did in depts:
            unit_scores[("department", did)] = Score("department", did, depts[did].name, list(lines))
    centers = {c.id: c for c in scope.centers}
    for s in people:
        u = users[s.key]
        if u.department_id is not None and u.department_id in depts:
            key = ("department", u.department_id)
            unit_scores.setdefault(key, Score("department", u.department_id, depts[u.department_id].name))
        elif u.center_id in centers:
            key = ("center", u.center_id)
            unit_scores.setdefault(key, Score("center", u.center_id, centers[u.center_id].name))
        else:
            continue
        unit_scores[key].lines.extend(s.lines)
    for s in unit_scores.values():
        if s.kind == "center":
            s.annual_share = round(s.center_score * weights["township_share"], 2)
    rank = lambda s: (-(s.weighted if s.weighted is not None else s.center_score), s.name)  # noqa: E731
    return Assessment(period, sorted(people, key=rank), sorted(unit_scores.values(), key=rank), weights)


def to_csv(result: Assessment) -> str:
    """The ranking as CSV (UTF-8 with BOM so spreadsheet programs show the Chinese names)."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow(["排名", "类型", "名称", "中心积分", "派出单位评分", "加权得分", "计入年度考核", "期间"])
    for group in (result.people, result.units):
        for rank, s in enumerate(group, 1):
            w.writerow(
                [
                    rank,
                    {"person": "人员", "department": "部门", "center": "中心"}[s.kind],
                    s.name,
                    s.center_score,
                    "" if s.home_score is None else s.home_score,
                    "" if s.weighted is None else s.weighted,
                    "" if s.annual_share is None else s.annual_share,
                    result.period.label,
                ]
            )
    return out.getvalue()

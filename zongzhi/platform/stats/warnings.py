"""Early warning (预警) for the dispatcher's screen: repeats, danger and deadlines, in a scope.

Each function answers one list a screen polls (or re-reads when the dispatch board announces a
relevant event): parties and addresses with repeated cases in a window, high-risk open cases,
whistles past their response time without an answer, and open cases near or past their deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from zongzhi.platform.base.codes import Risk
from zongzhi.platform.models import Case, Person, Whistle
from zongzhi.platform.services.lifecycle import OPEN
from zongzhi.platform.stats.scope import Scope
from zongzhi.platform.stats.sql import Sql, rows

LIST_CAP = 200


@dataclass(frozen=True)
class Repeat:
    key: str
    count: int
    last_at: datetime | None
    person: Person | None = None


def _since(now: datetime | None, window_days: int) -> tuple[datetime, datetime]:
    now = now or datetime.now(UTC)
    return now - timedelta(days=window_days), now


async def repeated_parties(
    scope: Scope, window_days: int = 90, min_cases: int = 3, now: datetime | None = None, limit: int = 50
) -> list[Repeat]:
    """People who are party to at least ``min_cases`` cases received in the last ``window_days``."""
    start, end = _since(now, window_days)
    sql = Sql()
    text = (
        "SELECT p.person_id AS key, count(DISTINCT c.id) AS n, max(c.created_at) AS last_at "
        'FROM case_party p JOIN "case" c ON c.id = p.case_id '
        f"WHERE {sql.in_list('c.center_path', scope.paths)} AND {sql.within('c.created_at', start, end)} "
        f"GROUP BY p.person_id HAVING count(DISTINCT c.id) >= {sql.p(min_cases)} "
        f"ORDER BY n DESC, key LIMIT {int(min(limit, LIST_CAP))}"
    )
    found = await rows(sql, text)
    people = {p.id: p for p in await Person.filter(id__in=[r["key"] for r in found])}
    return [Repeat(str(r["key"]), int(r["n"]), _as_dt(r["last_at"]), people.get(r["key"])) for r in found]


async def repeated_addresses(
    scope: Scope, window_days: int = 90, min_cases: int = 3, now: datetime | None = None, limit: int = 50
) -> list[Repeat]:
    """Addresses (as written at intake) with at least ``min_cases`` cases in the window."""
    start, end = _since(now, window_days)
    sql = Sql()
    text = (
        'SELECT c.address AS key, count(*) AS n, max(c.created_at) AS last_at FROM "case" c '
        f"WHERE {sql.in_list('c.center_path', scope.paths)} AND {sql.within('c.created_at', start, end)} "
        f"AND c.address <> '' GROUP BY c.address HAVING count(*) >= {sql.p(min_cases)} "
        f"ORDER BY n DESC, key LIMIT {int(min(limit, LIST_CAP))}"
    )
    return [Repeat(str(r["key"]), int(r["n"]), _as_dt(r["last_at"])) for r in await rows(sql, text)]


def _as_dt(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _open_in(scope: Scope):
    return Case.filter(center_path__in=scope.paths, status__in=list(OPEN))


async def high_risk_open(scope: Scope, limit: int = 50) -> list[Case]:
    return await _open_in(scope).filter(risk=Risk.high).order_by("-created_at").limit(min(limit, LIST_CAP))


async def overdue(scope: Scope, now: datetime | None = None, limit: int = 50) -> list[Case]:
    now = now or datetime.now(UTC)
    late = _open_in(scope).filter(resolve_by__lte=now)
    return await late.order_by("resolve_by").limit(min(limit, LIST_CAP))


async def near_deadline(scope: Scope, now: datetime | None = None, limit: int = 50) -> list[Case]:
    """Open cases whose warning time has come and whose deadline has not yet passed."""
    now = now or datetime.now(UTC)
    return (
        await _open_in(scope)
        .filter(warn_at__lte=now, resolve_by__gt=now)
        .order_by("resolve_by")
        .limit(min(limit, LIST_CAP))
    )


async def unanswered_whistles(scope: Scope, now: datetime | None = None, limit: int = 50) -> list[Whistle]:
    """吹哨未报到: whistles past their response time with no department answer."""
    now = now or datetime.now(UTC)
    return (
        await Whistle.filter(answered_at=None, due__lte=now, case__center_path__in=scope.paths)
        .order_by("due")
        .limit(min(limit, LIST_CAP))
    )

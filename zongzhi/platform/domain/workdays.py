"""Working days on China's official calendar, with make-up workdays (调休) and local closures.

Three sources, strongest first: a center's own closures (its rows and its ancestors'), the national
days an admin loaded (``CalendarDay`` rows without a center), then the ``chinese-calendar``
package. The package knows only the years the State Council has published; for a year that neither
it nor the loaded rows cover, Monday–Friday is assumed and the deadline says so in its note.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from tortoise import Tortoise

from zongzhi.platform.models import CalendarDay

_TABLE = CalendarDay._meta.db_table

log = logging.getLogger(__name__)
CHINA = ZoneInfo("Asia/Shanghai")


@dataclass
class Deadline:
    at: datetime
    notes: list[str] = field(default_factory=list)


def _package_workday(day: date) -> bool | None:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


_memo: ContextVar[dict[tuple, WorkCalendar] | None] = ContextVar("zongzhi_calendar_memo", default=None)


@contextmanager
def calendar_memo() -> Iterator[None]:
    """Inside, a calendar read once for a range and centers is read from memory (a worker's batch:
    most of its deadlines count from the same day in the same centers)."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


class WorkCalendar:
    """Answers ``is_workday`` from pre-loaded rows; build one with ``await WorkCalendar.load(...)``."""

    def __init__(self, national: dict[date, bool], local: dict[date, bool]) -> None:
        self.national = national
        self.local = local
        self.fallback_years: set[int] = set()

    @classmethod
    async def load(cls, start: date, end: date, center_ids: list[int] | None = None) -> WorkCalendar:
        memo = _memo.get()
        if memo is None:
            return await cls._read(start, end, center_ids)
        key = (start, end, tuple(sorted(center_ids or ())))
        if key not in memo:
            memo[key] = await cls._read(start, end, center_ids)
        return memo[key]

    @classmethod
    async def _read(cls, start: date, end: date, center_ids: list[int] | None) -> WorkCalendar:
        """The range's national days and those of ``center_ids``, in one plain statement (the ORM's
        query building was most of a deadline's cost in an inline evaluation)."""
        conn = Tortoise.get_connection("default")
        pg = conn.capabilities.dialect == "postgres"
        marks = iter(f"${i}" for i in range(1, 4)) if pg else iter("???")
        sql = f'SELECT "day", "workday", "center_id" FROM "{_TABLE}" WHERE "day" >= {next(marks)}'
        sql += f' AND "day" <= {next(marks)}'
        values: list[Any] = [start, end] if pg else [start.isoformat(), end.isoformat()]
        ids = sorted(set(center_ids or ()))
        if ids:
            if pg:
                sql += f' AND ("center_id" IS NULL OR "center_id" = ANY({next(marks)}::int[]))'
                values.append(ids)
            else:
                sql += f' AND ("center_id" IS NULL OR "center_id" IN ({", ".join("?" * len(ids))}))'
                values.extend(ids)
        else:
            sql += ' AND "center_id" IS NULL'
        _, rows = await conn.execute_query(sql, values)
        national: dict[date, bool] = {}
        local: dict[date, bool] = {}
        for row in rows:
            day = row["day"] if isinstance(row["day"], date) else date.fromisoformat(str(row["day"]))
            workday = bool(row["workday"])
            if row["center_id"] is None:
                national[day] = workday
            else:
                local[day] = local.get(day, True) and workday
        return cls(national, local)

    def is_workday(self, day: date) -> bool:
        if day in self.local and not self.local[day]:
            return False
        if day in self.national:
            return self.national[day]
        official = _package_workday(day)
        if official is not None:
            return official
        if day.year not in self.fallback_years:
            self.fallback_years.add(day.year)
            log.warning("no official calendar for %s: assuming Monday to Friday", day.year)
        return day.weekday() < 5

    def notes(self) -> list[str]:
        return [f"{y}年无官方节假日安排，按周一至周五计算" for y in sorted(self.fallback_years)]


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), CHINA).astimezone(UTC)


async def add_span(start: datetime, span: dict[str, int], center_ids: list[int] | None = None) -> Deadline:
    """The deadline ``span`` after ``start``: ``{"hours": n}``, ``{"days": n}`` or ``{"working_days": n}``.

    Working days end at 23:59:59 China time on the nth working day after the start day; zero means
    the end of the start day itself ("simple matters the same day").
    """
    if "hours" in span:
        return Deadline(start + timedelta(hours=span["hours"]))
    if "days" in span:
        return Deadline(_end_of_day((start.astimezone(CHINA) + timedelta(days=span["days"])).date()))
    n = int(span["working_days"])
    day = start.astimezone(CHINA).date()
    calendar = await WorkCalendar.load(day, day + timedelta(days=n * 3 + 40), center_ids)
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return Deadline(_end_of_day(day), calendar.notes())


async def load_official_days(
    year_days: list[tuple[date, bool, str]], festivals: dict[str, date] | None = None
) -> int:
    """Store a year's official holidays and make-up workdays (national rows win over the package),
    and which festival's holiday begins on which day (``festivals``: code → first day)."""
    first_days = {day: code for code, day in (festivals or {}).items()}
    for day, workday, note in year_days:
        await CalendarDay.update_or_create(
            day=day,
            center=None,
            defaults={"workday": workday, "note": note, "festival": first_days.get(day)},
        )
    return len(year_days)


def festival_first_days(
    year: int, holidays: list[date], festivals: dict[str, Any], known: dict[str, str]
) -> dict[str, date]:
    """Validate ``festivals`` (festival code → the first day of its holiday, one of ``holidays``)."""
    from zongzhi.platform.base.errors import ValidationFailed

    checked: dict[str, date] = {}
    for code, day in festivals.items():
        if code not in known:
            raise ValidationFailed(f"unknown festival {code!r}; one of {', '.join(known)}", field="festivals")
        if not isinstance(day, date) or day.year != year or day not in holidays:
            message = f"{code}: {day} is not one of {year}'s holidays"
            raise ValidationFailed(message, field=f"festivals.{code}")
        checked[code] = day
    return checked


def official_year(year: int, holidays: list[date], workdays: list[date]) -> list[tuple[date, bool, str]]:
    """Validate one year's published schedule: holidays (放假) and make-up workdays (调休上班)."""
    from zongzhi.platform.base.errors import ValidationFailed

    for name, days in (("holidays", holidays), ("workdays", workdays)):
        for i, d in enumerate(days):
            if d.year != year:
                raise ValidationFailed(f"{d} is not in {year}", field=f"{name}[{i}]")
    both = set(holidays) & set(workdays)
    if both:
        raise ValidationFailed(f"{min(both)} is both a holiday and a workday", field="workdays")
    return [(d, False, "法定节假日") for d in holidays] + [(d, True, "调休上班") for d in workdays]

"""Time in the fact: the event's China-time date parts, working days, and the named festivals.

Festivals come from the official holiday schedule the platform already keeps: the
``chinese-calendar`` package, the same one deadlines count working days with, and the years an
admin loaded with their festivals (``zongzhi calendar load``, ``CalendarDay.festival``), which are
read at most once a minute. A festival's day is
the **first day of its official holiday** (放假第一天), so ``days_to.spring_festival`` counts calendar
days from the event's date to the first day of the next Spring Festival holiday (0 on that day), and
``days_since`` to the first day of the latest one that has begun. A year the schedule does not cover
leaves these fields missing rather than guessing. Working days use the platform's ``WorkCalendar``:
the official days, those an admin loaded, and the case's centers' local closures.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from chinese_calendar.constants import Holiday, holidays

from zongzhi.platform.domain.workdays import CHINA, WorkCalendar

#: The festivals a rule may name, as ``time.days_to.<name>`` / ``time.days_since.<name>``.
FESTIVALS: dict[str, str] = {
    "new_years_day": "元旦",
    "spring_festival": "春节",
    "tomb_sweeping_day": "清明节",
    "labour_day": "劳动节",
    "dragon_boat_festival": "端午节",
    "mid_autumn_festival": "中秋节",
    "national_day": "国庆节",
}


@cache
def _package_starts() -> dict[str, list[date]]:
    """For each festival, the first days of its official holidays in the package, in order."""
    by_value = {h.value: h.name for h in Holiday}
    starts: dict[str, list[date]] = {name: [] for name in FESTIVALS}
    latest: dict[str, date] = {}
    for day in sorted(holidays):
        name = by_value.get(holidays[day])
        if name not in starts:
            continue
        # One holiday may interleave two names (国庆 with 中秋 inside it): a day starts a new holiday
        # of its festival only if that festival had no day in the fortnight before.
        if not starts[name] or (day - latest[name]).days > 14:
            starts[name].append(day)
        latest[name] = day
    return starts


@dataclass
class _Schedule:
    starts: dict[str, list[date]]
    years: frozenset[int]
    read_at: float = 0.0


_LOADED_TTL = 60.0


def _merge(loaded: list[tuple[date, str]]) -> _Schedule:
    starts = {name: list(days) for name, days in _package_starts().items()}
    package_years = {d.year for days in starts.values() for d in days}
    loaded_years = {day.year for day, _ in loaded}
    for name in starts:  # a loaded year replaces what the package says of it
        starts[name] = [d for d in starts[name] if d.year not in loaded_years]
    for day, name in loaded:
        if name in starts:
            starts[name].append(day)
    return _Schedule({n: sorted(d) for n, d in starts.items()}, frozenset(package_years | loaded_years))


async def schedule() -> _Schedule:
    """The package's festivals with the loaded years' (re-read at most once a minute; the running
    platform keeps the last read, as its database holds the loaded years)."""
    from zongzhi.platform.base.current import current
    from zongzhi.platform.models import CalendarDay

    platform = current()
    cached = platform.festival_schedule
    if cached is not None and time.monotonic() - cached.read_at < _LOADED_TTL:
        return cached

    rows = await CalendarDay.filter(center_id=None, festival__not_isnull=True).values_list("day", "festival")
    merged = _merge(list(rows))
    merged.read_at = time.monotonic()
    platform.festival_schedule = merged
    return merged


def forget_loaded() -> None:
    """Read the loaded festivals again on next use (after ``calendar load``, and in tests)."""
    from zongzhi.platform.base.current import current

    current().festival_schedule = None


def festival_days(day: date, sched: _Schedule | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """(days to the next, days since the latest) first day of each festival's holiday."""
    sched = sched or _merge([])
    to: dict[str, int] = {}
    since: dict[str, int] = {}
    if day.year not in sched.years:
        return to, since
    for name, starts in sched.starts.items():
        i = bisect_left(starts, day)
        if i < len(starts):
            to[name] = (starts[i] - day).days
        j = bisect_right(starts, day)
        if j > 0:
            since[name] = (day - starts[j - 1]).days
    return to, since


def next_holiday(day: date, sched: _Schedule | None = None) -> tuple[str, date] | None:
    """The festival whose official holiday starts next after ``day``, and that first day."""
    sched = sched or _merge([])
    best: tuple[str, date] | None = None
    for name, starts in sched.starts.items():
        i = bisect_right(starts, day)
        if i < len(starts) and (best is None or starts[i] < best[1]):
            best = (name, starts[i])
    return best


def date_parts(at: datetime) -> dict[str, Any]:
    local = at.astimezone(CHINA)
    return {
        "date": local.date().isoformat(),
        "year": local.year,
        "month": local.month,
        "day": local.day,
        "weekday": local.isoweekday(),
        "hour": local.hour,
    }


async def time_fact(
    at: datetime, center_ids: list[int], *, workdays: bool, festivals: bool
) -> dict[str, Any]:
    """The ``time`` part of the fact; the calendar is read only for what a rule asks for."""
    fact = date_parts(at)
    day = at.astimezone(CHINA).date()
    sched = await schedule() if festivals or workdays else None
    if festivals:
        to, since = festival_days(day, sched)
        if to:
            fact["days_to"] = to
        if since:
            fact["days_since"] = since
    if workdays:
        upcoming = next_holiday(day, sched) if sched and day.year in sched.years else None
        end = upcoming[1] if upcoming else day
        calendar = await WorkCalendar.load(day, end, center_ids)
        fact["is_workday"] = calendar.is_workday(day)
        if upcoming is not None:
            fact["next_holiday"] = upcoming[0]
            fact["workdays_to_holiday"] = sum(
                calendar.is_workday(day + timedelta(days=n)) for n in range(1, (upcoming[1] - day).days)
            )
    return fact

"""Reporting periods in China time: ``2026``, ``2026-Q3``, ``2026-10``, ``2026-W41``, ``2026-10-05``.

A period is a half-open range of calendar days ``[start, end)`` in Asia/Shanghai, the zone the
centers work in. Each period knows the period of the same kind just before it, for the "change
against the previous period" that hot spots show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from zongzhi.platform.base.errors import ValidationFailed

TZ = ZoneInfo("Asia/Shanghai")
#: The zone's fixed offset (China has no daylight saving time); SQLite buckets days with it.
TZ_OFFSET_HOURS = 8


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    label: str
    kind: str = "days"  # year | quarter | month | week | day | days

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, TZ)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time.min, TZ)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of the same kind just before this one (the previous month for a month)."""
        if self.kind == "year":
            return year(self.start.year - 1)
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return quarter(self.start.year - 1, 4) if q == 1 else quarter(self.start.year, q - 1)
        if self.kind == "month":
            first = (self.start - timedelta(days=1)).replace(day=1)
            return month(first.year, first.month)
        start = self.start - timedelta(days=self.days)
        return Period(start, self.start, f"{start.isoformat()}..{self.start.isoformat()}", self.kind)


def year(y: int) -> Period:
    return Period(date(y, 1, 1), date(y + 1, 1, 1), f"{y}", "year")


def quarter(y: int, q: int) -> Period:
    start = date(y, 3 * (q - 1) + 1, 1)
    end = date(y + 1, 1, 1) if q == 4 else date(y, 3 * q + 1, 1)
    return Period(start, end, f"{y}-Q{q}", "quarter")


def month(y: int, m: int) -> Period:
    end = date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)
    return Period(date(y, m, 1), end, f"{y}-{m:02d}", "month")


def between(start: date, end_inclusive: date) -> Period:
    if end_inclusive < start:
        raise ValidationFailed("the period ends before it starts", field="to")
    end = end_inclusive + timedelta(days=1)
    return Period(start, end, f"{start.isoformat()}..{end_inclusive.isoformat()}", "days")


def parse_period(text: str, field: str = "period") -> Period:
    """``2026`` | ``2026-Q3`` | ``2026-10`` | ``2026-W41`` (ISO week) | ``2026-10-05`` (one day)."""
    text = text.strip()
    try:
        if m := re.fullmatch(r"(\d{4})", text):
            return year(int(m[1]))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text, re.IGNORECASE):
            return quarter(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            return month(int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-W(\d{1,2})", text, re.IGNORECASE):
            start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return Period(start, start + timedelta(days=7), f"{m[1]}-W{int(m[2]):02d}", "week")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            return Period(day, day + timedelta(days=1), text, "day")
    except ValueError:
        pass
    raise ValidationFailed(
        "a period is 2026, 2026-Q3, 2026-10, 2026-W41 or 2026-10-05", field=field
    ) from None

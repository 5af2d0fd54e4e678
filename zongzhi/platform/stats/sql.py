"""Portable SQL for the statistics: one query text per dialect, the same numbers from both.

The statistics are aggregations the database computes; Python only adds up the few rows that come
back. What differs between SQLite and PostgreSQL is kept here:

- placeholders (``?`` / ``$n``) and the scope filter (``= ANY($n)`` / ``IN (?, ...)``);
- timestamps: tortoise stores SQLite datetimes as text with the offset they were written with
  (``+08:00`` or ``+00:00``), which does not compare as text, so SQLite compares ``julianday()``;
- durations in seconds, calendar buckets in China time, an integer inside a JSON payload;
- the 90th percentile: ``percentile_cont`` on PostgreSQL, the same linear interpolation between
  the two nearest ranks on SQLite.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise import Tortoise

from zongzhi.platform.stats.period import TZ_OFFSET_HOURS

BUCKETS = ("day", "week", "month")


def dialect() -> str:
    return Tortoise.get_connection("default").capabilities.dialect


class Sql:
    """Builds one statement's parameters alongside its text."""

    def __init__(self, dialect_name: str | None = None) -> None:
        self.dialect = dialect_name or dialect()
        self.params: list[Any] = []

    @property
    def pg(self) -> bool:
        return self.dialect == "postgres"

    def p(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}" if self.pg else "?"

    def at(self, value: datetime) -> str:
        """A timestamp parameter, comparable with ``col()``."""
        if self.pg:
            return self.p(value) + "::timestamptz"
        return f"julianday({self.p(value.astimezone(UTC).isoformat(sep=' '))})"

    def col(self, column: str) -> str:
        """A timestamp column, comparable with ``at()``."""
        return column if self.pg else f"julianday({column})"

    def within(self, column: str, start: datetime, end: datetime) -> str:
        return f"{self.col(column)} >= {self.at(start)} AND {self.col(column)} < {self.at(end)}"

    def in_list(self, column: str, values: Sequence[Any]) -> str:
        if not values:
            return "1 = 0"
        if self.pg:
            return f"{column} = ANY({self.p(list(values))})"
        return f"{column} IN ({', '.join(self.p(v) for v in values)})"

    def seconds(self, start: str, end: str) -> str:
        if self.pg:
            return f"EXTRACT(EPOCH FROM ({end} - {start}))"
        return f"((julianday({end}) - julianday({start})) * 86400.0)"

    def bucket(self, column: str, unit: str) -> str:
        """The first day (``YYYY-MM-DD``, China time) of the day, ISO week or month holding ``column``."""
        if unit not in BUCKETS:
            raise ValueError(unit)
        if self.pg:
            return f"to_char(date_trunc('{unit}', {column} AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD')"
        local = f"{column}, '+{TZ_OFFSET_HOURS} hours'"
        if unit == "day":
            return f"date({local})"
        if unit == "week":
            return f"date({local}, 'weekday 0', '-6 days')"
        return f"strftime('%Y-%m-01', {local})"

    def json_int(self, column: str, key: str) -> str:
        if self.pg:
            return f"(({column})->>'{key}')::int"
        return f"CAST(json_extract({column}, '$.{key}') AS INTEGER)"


async def rows(sql: Sql, text: str) -> list[dict[str, Any]]:
    conn = Tortoise.get_connection("default")
    return [dict(r) for r in await conn.execute_query_dict(text, sql.params)]


async def percentile(make: Any, fraction: float) -> float | None:
    """The ``fraction`` percentile (continuous, as ``percentile_cont``) of one value column.

    ``make(sql)`` returns ``(from_where, value_expression)``: the ``FROM ... WHERE ...`` part and
    the expression to rank. ``None`` when there are no values.
    """
    sql = Sql()
    from_where, value = make(sql)
    if sql.pg:
        found = await rows(
            sql, f"SELECT percentile_cont({fraction}) WITHIN GROUP (ORDER BY {value}) AS v {from_where}"
        )
        v = found[0]["v"] if found else None
        return None if v is None else float(v)
    counted = await rows(sql, f"SELECT count({value}) AS n {from_where}")
    n = int(counted[0]["n"]) if counted else 0
    if n == 0:
        return None
    position = fraction * (n - 1)
    lower = math.floor(position)
    sql = Sql()
    from_where, value = make(sql)
    text = (
        f"SELECT {value} AS v {from_where} AND {value} IS NOT NULL "
        f"ORDER BY {value} LIMIT 2 OFFSET {int(lower)}"
    )
    ranked = [float(r["v"]) for r in await rows(sql, text)]
    if len(ranked) == 1:
        return ranked[0]
    return ranked[0] + (ranked[1] - ranked[0]) * (position - lower)

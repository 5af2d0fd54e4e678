"""Hot spots (热点问题热力图): cases per grid and per category against the previous period.

One aggregation covers both periods (``sum(CASE ...)`` over the union of their ranges). Every grid
of the scope is returned, zeros included, with its polygon, so a map can colour all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zongzhi.platform.base.codes import CATEGORIES
from zongzhi.platform.models import Grid
from zongzhi.platform.stats.period import Period
from zongzhi.platform.stats.scope import Scope
from zongzhi.platform.stats.sql import Sql, rows


@dataclass(frozen=True)
class HotSpot:
    key: str
    label: str
    count: int
    previous: int
    grid: Grid | None = None

    @property
    def change(self) -> int:
        return self.count - self.previous

    @property
    def growth(self) -> float | None:
        return self.change / self.previous if self.previous else None


@dataclass(frozen=True)
class HotSpots:
    scope: Scope
    period: Period
    previous_period: Period
    by_grid: list[HotSpot]
    by_category: list[HotSpot]

    def rising(self, limit: int = 10) -> list[HotSpot]:
        up = [h for h in self.by_grid if h.change > 0]
        return sorted(up, key=lambda h: (-h.change, -(h.growth or 0.0), h.key))[:limit]

    def top(self, limit: int = 10) -> list[HotSpot]:
        return sorted(self.by_grid, key=lambda h: (-h.count, h.key))[:limit]

    def geojson(self) -> dict[str, Any]:
        """A FeatureCollection of the scope's grids that have a polygon, counts as properties."""
        features = []
        for h in self.by_grid:
            if h.grid is None or not h.grid.polygon:
                continue
            features.append(
                {
                    "type": "Feature",
                    "id": h.grid.code,
                    "geometry": h.grid.polygon,
                    "properties": {
                        "grid": h.grid.code,
                        "name": h.grid.name,
                        "count": h.count,
                        "previous": h.previous,
                        "change": h.change,
                        "growth": h.growth,
                    },
                }
            )
        return {"type": "FeatureCollection", "features": features}


def counts_query(scope: Scope, period: Period, previous: Period, column: str) -> tuple[Sql, str]:
    """Per ``column`` value: cases in ``period`` and in both periods, in one pass."""
    sql = Sql()
    current = sql.within("c.created_at", period.start_at, period.end_at)
    text = (
        f"SELECT {column} AS key, sum(CASE WHEN {current} THEN 1 ELSE 0 END) AS n, count(*) AS total "
        f'FROM "case" c WHERE {sql.in_list("c.center_path", scope.paths)} '
        f"AND {sql.within('c.created_at', previous.start_at, period.end_at)} "
        f"AND {column} IS NOT NULL GROUP BY {column}"
    )
    return sql, text


async def _counts(scope: Scope, period: Period, previous: Period, column: str) -> dict[Any, tuple[int, int]]:
    out = {}
    for r in await rows(*counts_query(scope, period, previous, column)):
        n = int(r["n"] or 0)
        out[r["key"]] = (n, int(r["total"]) - n)
    return out


async def hot_spots(scope: Scope, period: Period) -> HotSpots:
    previous = period.previous()
    grids = await Grid.filter(center_id__in=scope.center_ids).order_by("code")
    per_grid = await _counts(scope, period, previous, "c.grid_id")
    by_grid = [HotSpot(g.code, g.name, *per_grid.get(g.id, (0, 0)), grid=g) for g in grids]
    per_category = await _counts(scope, period, previous, "c.category")
    by_category = [
        HotSpot(code, label, *per_category.get(code, (0, 0))) for code, label in CATEGORIES.items()
    ]
    by_category += [HotSpot(k, k, *v) for k, v in per_category.items() if k not in CATEGORIES]
    by_category.sort(key=lambda h: (-h.count, -h.change, h.key))
    return HotSpots(scope, period, previous, by_grid, by_category)

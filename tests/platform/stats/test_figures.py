"""Every statistic against the values worked out by hand in ``dataset.py`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.casework import actor
from tests.platform.stats.dataset import build
from tests.world import World
from zongzhi.platform.base.errors import Forbidden, NotFound
from zongzhi.platform.stats import parse_period, scope_for
from zongzhi.platform.stats.figures import statistics
from zongzhi.platform.stats.hotspots import hot_spots

MARCH = parse_period("2026-03")


def counts(items) -> dict[str, int]:
    return {i.key: i.count for i in items if i.count}


@pytest.fixture
async def data(world: World):
    return await build(world)


async def county_stats(world: World, period=MARCH):
    scope = await scope_for(await actor(world, "county_staff"))
    return await statistics(scope, period, unit="day")


async def test_counts_by_dimension(world: World, data) -> None:
    s = await county_stats(world)
    assert s.received == 10
    assert counts(s.by_status) == {
        "received": 2,
        "assessed": 1,
        "rejected": 1,
        "handling": 1,
        "resolved": 1,
        "failed": 1,
        "followed_up": 2,
        "withdrawn": 1,
    }
    assert counts(s.by_category) == {"neighbor": 9, "labor": 1}
    assert counts(s.by_channel) == {"grid": 10}
    assert counts(s.by_kind) == {"dispute": 10}
    assert counts(s.by_risk) == {"none": 9, "high": 1}
    by_center = {c.key: c.count for c in s.by_center}
    assert by_center == {"330110000000": 0, "330110001000": 9, "330110002000": 1}
    assert [c.label for c in s.by_status][:2] == ["已受理", "已研判"]


async def test_rates(world: World, data) -> None:
    s = await county_stats(world)
    assert (s.closure_rate.numerator, s.closure_rate.denominator, s.closure_rate.value) == (2, 8, 0.25)
    assert (s.resolved, s.failed, s.concluded) == (4, 1, 5)
    assert s.resolution_rate.value == pytest.approx(0.8)
    assert (s.on_time_rate.numerator, s.on_time_rate.denominator) == (2, 4)
    assert s.on_time_rate.value == 0.5


async def test_durations(world: World, data) -> None:
    s = await county_stats(world)
    assert s.time_to_conclude.count == 5
    assert s.time_to_conclude.average_hours == pytest.approx(119.4)
    assert s.time_to_conclude.p90_hours == pytest.approx(229.2)
    assert s.time_to_accept.count == 5
    assert s.time_to_accept.average_hours == pytest.approx(10.2)
    assert s.time_to_accept.p90_hours == pytest.approx(22.8)


async def test_satisfaction_returns_escalations_and_now(world: World, data) -> None:
    s = await county_stats(world)
    assert s.satisfaction.count == 2
    assert s.satisfaction.average == pytest.approx(3.0)
    assert {d.key: d.count for d in s.satisfaction.distribution} == {"5": 0, "4": 1, "3": 0, "2": 1, "1": 0}
    assert (s.satisfaction.execution_rate.numerator, s.satisfaction.execution_rate.denominator) == (1, 2)
    assert [(r.name, r.count) for r in s.returns] == [("县住建局", 1)]
    assert s.escalations == 1
    assert (s.open_now, s.overdue_now, s.high_risk_open) == (5, 1, 1)


async def test_trend_buckets_in_china_time(world: World, data) -> None:
    s = await county_stats(world)
    by_day = {p.start.isoformat(): p for p in s.trend}
    assert len(s.trend) == 31
    assert by_day["2026-03-01"].resolved == 1  # 07:00 China time is still 28 February in UTC
    assert by_day["2026-03-13"].resolved == 1 and by_day["2026-03-13"].failed == 1
    assert by_day["2026-03-31"].received == 1  # 23:30 China time
    assert sum(p.received for p in s.trend) == 10
    scope = await scope_for(await actor(world, "county_staff"))
    monthly = await statistics(scope, parse_period("2026-Q1"), unit="month")
    assert [(p.start.isoformat(), p.received, p.resolved) for p in monthly.trend] == [
        ("2026-01-01", 0, 0),
        ("2026-02-01", 1, 0),
        ("2026-03-01", 10, 4),
    ]
    weekly = await statistics(scope, MARCH, unit="week")
    assert weekly.trend[0].start.isoformat() == "2026-02-23"  # the Monday of the week holding 1 March
    assert sum(p.received for p in weekly.trend) == 10


async def test_empty_period_and_division_by_zero(world: World, data) -> None:
    s = await county_stats(world, parse_period("2025-01"))
    assert s.received == 0 and s.concluded == 0
    for rate in (s.closure_rate, s.resolution_rate, s.on_time_rate, s.satisfaction.execution_rate):
        assert rate.denominator == 0 and rate.value is None
    assert s.time_to_accept.average_hours is None and s.time_to_accept.p90_hours is None
    assert s.time_to_conclude.average_hours is None and s.time_to_conclude.p90_hours is None
    assert s.satisfaction.average is None
    assert s.returns == [] and s.escalations == 0
    assert s.open_now == 5  # "now" figures do not depend on the period


async def test_township_scope(world: World, data) -> None:
    a = await statistics(await scope_for(await actor(world, "a_staff")), MARCH)
    assert a.received == 9 and a.escalations == 0 and a.high_risk_open == 0
    b = await statistics(await scope_for(await actor(world, "b_staff")), MARCH)
    assert (b.received, b.escalations, b.high_risk_open, b.open_now) == (1, 1, 1, 1)
    assert b.concluded == 0 and b.resolution_rate.value is None and b.on_time_rate.value is None
    assert b.time_to_conclude.p90_hours is None
    with pytest.raises(Forbidden):
        await scope_for(await actor(world, "a_staff"), world.centers["county"].id)
    with pytest.raises(NotFound):  # another township's center is outside its jurisdiction
        await scope_for(await actor(world, "a_staff"), world.centers["tb"].id)


async def test_hot_spots(world: World, data) -> None:
    scope = await scope_for(await actor(world, "county_staff"))
    spots = await hot_spots(scope, MARCH)
    assert spots.previous_period.label == "2026-02"
    by_grid = {h.key: (h.count, h.previous, h.change) for h in spots.by_grid}
    assert by_grid == {"A1-G1": (9, 1, 8), "A1-G2": (0, 0, 0), "A2-G1": (0, 0, 0), "B1-G1": (1, 0, 1)}
    assert [h.key for h in spots.rising()] == ["A1-G1", "B1-G1"]
    a1 = next(h for h in spots.by_grid if h.key == "A1-G1")
    assert a1.growth == 8.0
    geo = spots.geojson()
    assert geo["type"] == "FeatureCollection"
    assert [f["properties"]["grid"] for f in geo["features"]] == ["A1-G1"]  # the only grid with a polygon
    assert geo["features"][0]["geometry"]["type"] == "Polygon"
    by_category = {h.key: (h.count, h.previous) for h in spots.by_category if h.count or h.previous}
    assert by_category == {"neighbor": (9, 1), "labor": (1, 0)}

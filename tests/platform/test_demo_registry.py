"""The demo county's generated map and registry: boundaries that tile, and data on them."""

from __future__ import annotations

from shapely.geometry import shape

from tests.conftest import _truncate
from zongzhi.platform.domain.geo import grid_at
from zongzhi.platform.models import Case, Center, Grid, House, OrgUnit, Visit
from zongzhi.platform.wiring import demo


async def test_the_demo_county_has_tiling_boundaries_houses_units_and_visits(settings):
    await _truncate()
    seeded = await demo.seed(n_cases=3)
    villages = await Center.filter(level="village")
    assert villages and all(v.polygon for v in villages)
    county = shape((await Center.get(id=seeded.county.id)).polygon)
    townships = [shape(t.polygon) for t in await Center.filter(level="township")]
    assert abs(sum(t.area for t in townships) - county.area) < county.area * 1e-6
    for village in villages:
        outline = shape(village.polygon)
        grids = [shape(g.polygon) for g in await Grid.filter(center_id=village.id)]
        assert len(grids) == 2
        assert abs(sum(g.area for g in grids) - outline.area) < outline.area * 1e-6  # they tile it
        assert grids[0].intersection(grids[1]).area < outline.area * 1e-6
        assert all(g.is_valid and outline.buffer(1e-9).covers(g) for g in grids)
        assert not outline.equals(outline.envelope)  # not a plain rectangle
    assert await House.all().count() == 4 * await Grid.all().count()
    assert await OrgUnit.all().count() == await Grid.all().count()
    assert await Visit.filter(case_id__isnull=False).count() == 3
    # The demo's cases and one per township from a visit (the sweeps' cases are demo_practices').
    assert await Case.exclude(client_request_id__startswith="sweep-").count() == 3 + 3
    for house in await House.all().limit(10):
        assert (await grid_at(house.lat, house.lng)).id == house.grid_id

"""The demo county's map and registry: generated boundaries, houses, units and visits.

Boundaries are plausible rather than square: each parent is cut into strips by wavy lines and each
strip is the part of the parent between two lines, so townships tile the county, villages tile
their township and grids tile their village exactly, with shared, irregular edges. Each grid then
gets a few houses with their residents, a unit, and grid workers' visits, one of which became a
case. Seeded, so two runs draw the same county.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from shapely.geometry import LineString, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

from zongzhi.platform.base import pii
from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.registry_codes import uscc_check_char
from zongzhi.platform.domain.actor import Actor, actor_for_user
from zongzhi.platform.models import Center, Grid, House, HouseMember, OrgUnit, PersonTag, User, Visit
from zongzhi.platform.services import registry, visits
from zongzhi.platform.services.people import PersonInput, find_or_create_person

#: Who registers the demo's residents (find_or_create_person checks references through an actor).
SEEDER = Actor.system_actor("演示数据")

#: The demo county's extent (WGS-84): about 30 km by 22 km in Zhejiang's hills.
COUNTY_BOX = (119.00, 29.00, 119.30, 29.20)
HOUSES_PER_GRID = 4
SURNAMES = "王李张刘陈杨黄赵吴周徐孙"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟"
UNIT_KINDS = [
    ("shop", "便民超市"),
    ("enterprise", "竹木加工厂"),
    ("school", "幼儿园"),
    ("organisation", "老年协会"),
]
FINDINGS = [
    "走访独居老人，身体状况良好，已提醒用电安全",
    "楼道堆放杂物，存在消防隐患",
    "邻里因排水沟堵塞有争执，已初步劝解",
    "出租房新入住租户两人，已登记",
    "反映村口路灯损坏，夜间出行不便",
]


def _cuts(geom: BaseGeometry, n: int, vertical: bool, rng: random.Random) -> list[BaseGeometry]:
    """``geom`` cut into ``n`` strips by wavy lines across it (vertical or horizontal)."""
    x0, y0, x1, y1 = geom.bounds
    pieces = [geom]
    for i in range(1, n):
        steps = 8
        pts = []
        for k in range(steps + 1):
            if vertical:
                span = (x1 - x0) / n
                pts.append(
                    (
                        x0 + span * i + rng.uniform(-0.18, 0.18) * span,
                        y0 - 0.01 + (y1 - y0 + 0.02) * k / steps,
                    )
                )
            else:
                span = (y1 - y0) / n
                pts.append(
                    (
                        x0 - 0.01 + (x1 - x0 + 0.02) * k / steps,
                        y0 + span * i + rng.uniform(-0.18, 0.18) * span,
                    )
                )
        line = LineString(pts)
        last = pieces.pop()
        parts = sorted(split(last, line).geoms, key=lambda g: g.centroid.x if vertical else g.centroid.y)
        pieces += [parts[0], _union(parts[1:])]
    return pieces


def _union(parts: list[BaseGeometry]) -> BaseGeometry:
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return out


def _geojson(geom: BaseGeometry) -> dict:
    return dict(mapping(geom.buffer(0)))


def _point_in(geom: BaseGeometry, rng: random.Random) -> Point:
    x0, y0, x1, y1 = geom.bounds
    inner = geom.buffer(-(x1 - x0) * 0.05)
    for _ in range(200):
        p = Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if inner.contains(p):
            return p
    return geom.representative_point()


def _id_number(rng: random.Random, area: str, year: int) -> str:
    first17 = f"{area}{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    return first17 + pii.id_check_char(first17)


async def draw_boundaries(county: Center, rng: random.Random) -> None:
    """Townships tile the county, villages their township, grids their village (in code order)."""
    box = Polygon.from_bounds(*COUNTY_BOX)
    await Center.filter(id=county.id).update(polygon=_geojson(box))
    townships = await Center.filter(parent_id=county.id).order_by("code")
    for township, t_geom in zip(townships, _cuts(box, len(townships), True, rng), strict=True):
        await Center.filter(id=township.id).update(polygon=_geojson(t_geom))
        villages = await Center.filter(parent_id=township.id).order_by("code")
        for village, v_geom in zip(villages, _cuts(t_geom, len(villages), False, rng), strict=True):
            await Center.filter(id=village.id).update(polygon=_geojson(v_geom))
            grids = await Grid.filter(center_id=village.id, parent_id=None).order_by("code")
            for grid, g_geom in zip(grids, _cuts(v_geom, len(grids), True, rng), strict=True):
                await Grid.filter(id=grid.id).update(polygon=_geojson(g_geom), datum="wgs84")


async def register(county: Center, rng: random.Random) -> None:
    """Houses with residents, a unit and a few visits in every grid; one visit per township became a case."""
    now = datetime.now(UTC)
    area = county.code[:6]
    n = 0
    workers: dict[int, User] = {}
    for u in await User.all():
        if str(Role.grid_worker) in u.roles and u.center_id:
            workers[u.center_id] = u
    grids = await Grid.filter(polygon__isnull=False).order_by("code")
    made_case: set[str] = set()
    for grid in grids:
        geom = shape(grid.polygon)
        worker = workers.get(grid.center_id)
        houses = []
        for h in range(HOUSES_PER_GRID):
            n += 1
            p = _point_in(geom, rng)
            house = await House.create(
                code=f"{grid.code}-H{h + 1:02d}",
                address=f"{grid.name}{rng.randint(1, 120)}号",
                grid_id=grid.id,
                use=rng.choice(["residential", "residential", "rental", "business"]),
                lat=round(p.y, 6),
                lng=round(p.x, 6),
            )
            houses.append(house)
            surname = rng.choice(SURNAMES)
            alone = n % 5 == 0
            for k, relation in enumerate(["户主"] if alone else ["户主", "配偶", "子女"]):
                year = rng.randint(1938, 1948) if alone else 1960 + rng.randint(0, 15) + (25 if k == 2 else 0)
                person, _ = await find_or_create_person(
                    PersonInput(
                        name=surname + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
                        id_number=_id_number(rng, area, year),
                        phone=f"13{rng.randint(100000000, 999999999)}",
                        address=house.address,
                        grid_id=grid.id,
                    ),
                    SEEDER,
                )
                await HouseMember.create(
                    house_id=house.id,
                    person_id=person.id,
                    role="owner" if k == 0 else "occupant",
                    relation=relation,
                )
                if alone:
                    await PersonTag.create(person_id=person.id, tag="elderly_alone")
        kind, label = UNIT_KINDS[n % len(UNIT_KINDS)]
        first17 = f"9{'1' if kind != 'organisation' else '3'}{area}" + "".join(
            rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9)
        )
        await OrgUnit.create(
            **registry.unit_values(
                registry.UnitInput(
                    name=f"{grid.name.removesuffix('网格')}{label}",
                    kind=kind,
                    credit_code=first17 + uscc_check_char(first17),
                    grid_id=grid.id,
                    address=f"{grid.name}{rng.randint(1, 120)}号",
                    contact_name=rng.choice(SURNAMES) + "经理",
                    contact_phone=f"13{rng.randint(100000000, 999999999)}",
                )
            ),
            credit_code=first17 + uscc_check_char(first17),
        )
        if worker is None:
            continue
        for _ in range(rng.randint(1, 3)):
            house = rng.choice(houses)
            await Visit.create(
                worker_id=worker.id,
                grid_id=grid.id,
                house_id=house.id,
                at=now - timedelta(days=rng.randint(0, 60), hours=rng.randint(0, 10)),
                findings=rng.choice(FINDINGS),
            )
        township_code = (await Center.get(id=grid.center_id)).code[:9]
        if township_code not in made_case:
            made_case.add(township_code)
            visit = await Visit.create(
                worker_id=worker.id, grid_id=grid.id, house_id=houses[0].id, at=now, findings=FINDINGS[1]
            )
            actor = await actor_for_user(worker)
            await visits.visit_to_case(
                actor, visit.id, visits.FindingCase("楼道杂物消防隐患", "safety_hazard", "hazard")
            )


async def seed(county: Center, seed_value: int) -> None:
    rng = random.Random(seed_value + 13)
    await draw_boundaries(county, rng)
    await register(county, rng)

"""Demo data for the embedded mode: one county, its townships and villages, and a few hundred cases.

Cases are made through the services, so each has a real timeline (past the first ``BULK_AFTER``,
:mod:`zongzhi.platform.wiring.demo_bulk` writes the same rows in bulk), and are spread over every status,
channel and category, with receipt dates over the past year. The year has seasons, as the centers'
reports describe them: wage arrears (劳资) before the Spring Festival, land and homestead disputes
at spring ploughing and the autumn harvest, neighbours, noise and pollution in summer, property
fees when heating starts; a few grids carry more cases than others and one grid's count rises over
the last months, so statistics, hot spots and reports have something to show. Every twentieth case
gets a photo as evidence. Each case's timeline is then moved back to its receipt date, so rates and
trends fall in the right months. The generator is seeded, so two runs give the same county.

Every township has a user of each role (staff, mediator, leader, grid worker), so a newcomer can
sign in as two townships' users and see jurisdiction at work; :func:`directory` lists them with
tokens and the center codes.
"""

from __future__ import annotations

import gc
import random
import struct
import unicodedata
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise import Tortoise

from zongzhi.platform.base import pii, security
from zongzhi.platform.base.codes import (
    CATEGORIES,
    AssignmentMode,
    CenterLevel,
    PartyRole,
    Residence,
    Risk,
    Role,
)
from zongzhi.platform.domain.actor import Actor, actor_for_user
from zongzhi.platform.models import Case, CaseEvent, Center, Department, FollowUp, Grid, User
from zongzhi.platform.services import cases as svc
from zongzhi.platform.services.accounts import create_user
from zongzhi.platform.services.org import create_center, create_department, create_grid, station_department
from zongzhi.platform.services.people import PersonInput
from zongzhi.platform.wiring import demo_practices, demo_registry

COUNTY = ("330199000000", "云溪县社会治理中心")
TOWNSHIPS = [("001", "青石镇"), ("002", "白沙镇"), ("003", "东湖街道")]
VILLAGES_PER_TOWNSHIP = 3
GRIDS_PER_VILLAGE = 2
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
DEPARTMENTS = [
    ("police", "gaj", "县公安局", "公安", Residence.resident),
    ("court", "fy", "县人民法院", "法院", Residence.rotating),
    ("justice", "sfj", "县司法局", "司法", Residence.resident),
    ("petition", "xfj", "县信访局", "信访", Residence.resident),
    ("labor", "rsj", "县人社局", "人社", Residence.rotating),
    ("housing", "zjj", "县住建局", "住建", Residence.rotating),
    ("land", "zrzyj", "县自然资源局", "自然资源", Residence.on_call),
    ("civil", "mzj", "县民政局", "民政", Residence.on_call),
    ("women", "flh", "县妇联", "妇联", Residence.on_call),
]
CHANNELS = ["window", "window", "grid", "grid", "grid", "hotline", "online", "referral"]
TITLES = {
    "marriage_family": "夫妻因抚养费发生争执",
    "neighbor": "邻居楼上漏水引发纠纷",
    "housing_homestead": "宅基地边界争议",
    "contract": "装修合同款项纠纷",
    "business": "个体商户经营纠纷",
    "damages": "宠物咬伤赔偿纠纷",
    "land_forest": "承包山林界址争议",
    "land_acquisition": "征地补偿款分配争议",
    "environment": "养殖场异味扰民",
    "labor": "工地拖欠农民工工资",
    "consumer": "预付卡退费纠纷",
    "medical": "诊所诊疗费用争议",
    "traffic": "电动车与行人碰撞赔偿",
    "property_management": "小区物业费与停车纠纷",
    "safety_hazard": "老旧电线私拉乱接隐患",
    "livelihood_service": "独居老人需要上门帮扶",
    "public_opinion": "群众反映路灯长期不亮",
    "other": "其他求助事项",
}
KIND_OF = {"safety_hazard": "hazard", "livelihood_service": "service", "public_opinion": "opinion"}
#: Relative case volume by month (1–12): peaks before the Spring Festival and in summer.
MONTH_VOLUME = {
    1: 1.5,
    2: 1.3,
    3: 1.0,
    4: 1.1,
    5: 0.9,
    6: 1.0,
    7: 1.3,
    8: 1.3,
    9: 1.0,
    10: 1.1,
    11: 0.9,
    12: 1.4,
}
#: Seasonal weight of a category in the given months (others weigh 1).
SEASONS: dict[str, tuple[set[int], float]] = {
    "labor": ({12, 1, 2}, 5.0),
    "land_forest": ({3, 4, 9, 10}, 3.0),
    "housing_homestead": ({3, 4, 10}, 2.5),
    "neighbor": ({6, 7, 8}, 2.0),
    "environment": ({6, 7, 8}, 3.0),
    "traffic": ({1, 2, 10}, 2.0),
    "property_management": ({11, 12}, 2.5),
    "marriage_family": ({2}, 2.0),
}
YEAR_DAYS = 365
EVIDENCE_EVERY = 20
#: Cases made one by one through the services before the rest are written in bulk.
BULK_AFTER = 300


@dataclass
class Demo:
    county: Center
    users: dict[str, User]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _id_number(rng: random.Random, area: str) -> str:
    birth = datetime(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 50))
    first17 = f"{area}{birth:%Y%m%d}{rng.randint(100, 999)}"
    return first17 + pii.id_check_char(first17)


def _photo(rng: random.Random, width: int = 32, height: int = 24) -> bytes:
    """A small, real PNG (one flat colour), so the evidence store's type check accepts it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixel = bytes(rng.randrange(256) for _ in range(3))
    rows = b"".join(b"\x00" + pixel * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@asynccontextmanager
async def _unsynced_sqlite() -> AsyncIterator[None]:
    """SQLite without an fsync per commit while seeding (most of the time went waiting on disk).

    The demo database is made from nothing and made again with ``--reset``: losing the last
    transactions to a power cut costs nothing, a corrupt file is still impossible (WAL). The
    setting is the connection's and is put back afterwards.
    """
    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect != "sqlite":
        yield
        return
    _, rows = await conn.execute_query("PRAGMA synchronous")
    before = int(rows[0][0]) if rows else 2
    await conn.execute_script("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        await conn.execute_script(f"PRAGMA synchronous = {before}")


async def seed(
    n_cases: int = 300,
    seed_value: int = 2026,
    *,
    settings=None,
    on_case: Callable[[], object] | None = None,
    bulk_after: int | None = BULK_AFTER,
    now: datetime | None = None,
) -> Demo:
    """Seed the demo county. ``settings`` gives the evidence store (none: no evidence files);
    ``on_case`` is called after each case (the CLI's progress bar). Cases after the first
    ``bulk_after`` are written in bulk, except every ``EVIDENCE_EVERY``-th (None: none in bulk).
    Receipt dates go back a year from ``now`` (default: the present)."""
    # Seeding makes millions of short-lived objects: full collections over a growing heap cost
    # about a tenth of the time with the default thresholds.
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        async with _unsynced_sqlite():
            return await _seed(n_cases, seed_value, settings, on_case, bulk_after, now)
    finally:
        gc.set_threshold(*thresholds)


async def _seed(
    n_cases: int,
    seed_value: int,
    settings,
    on_case: Callable[[], object] | None,
    bulk_after: int | None,
    now: datetime | None,
) -> Demo:
    rng = random.Random(seed_value)
    photos = random.Random(seed_value + 1)
    evidence = None
    if settings is not None:
        from zongzhi.platform.services.evidence import EvidenceService
        from zongzhi.storage import build_store

        store = build_store(settings)
        await store.ensure_ready()
        evidence = EvidenceService(store, settings)
    county = await create_center(COUNTY[0], COUNTY[1], CenterLevel.county)
    depts = {}
    for key, code, name, kind, residence in DEPARTMENTS:
        depts[key] = await create_department(code, name, kind)
        await station_department(county, depts[key], residence)
    townships, villages, grids = [], [], []
    for t_code, t_name in TOWNSHIPS:
        township = await create_center(
            f"330199{t_code}000", f"{t_name}综治中心", CenterLevel.township, county
        )
        townships.append(township)
        await station_department(township, depts["police"], Residence.resident)
        await station_department(township, depts["justice"], Residence.resident)
        for v in range(1, VILLAGES_PER_TOWNSHIP + 1):
            village = await create_center(
                f"330199{t_code}{v:03d}", f"{t_name}{'一二三四五'[v - 1]}村", CenterLevel.village, township
            )
            villages.append(village)
            for g in range(1, GRIDS_PER_VILLAGE + 1):
                grids.append(await create_grid(f"{village.code}-G{g}", f"{village.name}第{g}网格", village))

    users: dict[str, User] = {}

    async def user(username: str, name: str, roles: list[Role], **kw) -> User:
        users[username] = await create_user(username, name, [str(r) for r in roles], **kw)
        return users[username]

    await user("county_dispatcher", "县中心调度员", [Role.staff], center=county)
    await user("county_leader", "县中心主任", [Role.leader], center=county)
    await user("rule_author", "规则维护员", [Role.rule_author], center=county)
    await user("admin", "系统管理员", [Role.admin])
    await user("auditor", "安全审计员", [Role.auditor])
    await user("housing_officer", "住建局联络员", [Role.department], department=depts["housing"])
    await user("labor_officer", "人社局联络员", [Role.department], department=depts["labor"])
    for i, township in enumerate(townships, start=1):
        await user(f"township{i}_staff", f"{township.name}工作人员", [Role.staff], center=township)
        await user(f"township{i}_leader", f"{township.name}主任", [Role.leader], center=township)
        await user(
            f"township{i}_mediator",
            f"{township.name}调解员",
            [Role.mediator],
            center=township,
            specialties=rng.sample(_categories(), 3),
            title="人民调解员",
        )
    for j, village in enumerate(villages, start=1):
        village_grids = [g for g in grids if g.center_id == village.id]
        await user(f"village{j}_staff", f"{village.name}专干", [Role.staff], center=village)
        await user(
            f"village{j}_grid",
            f"{village.name}网格员",
            [Role.grid_worker],
            center=village,
            grids=village_grids,
        )

    actors = {name: await actor_for_user(u) for name, u in users.items()}
    world = World(county, townships, villages, grids, depts, users, actors)
    await _seed_cases(rng, photos, world, n_cases, bulk_after, evidence, on_case, now or datetime.now(UTC))
    await demo_registry.seed(county, seed_value)  # boundaries, houses, units and visits
    await demo_practices.seed_practices(county, users, rng)  # sweeps, assessment, mediators, citizens
    return Demo(county=county, users=users)


@dataclass
class World:
    """The demo's organisation, as the case generators need it."""

    county: Center
    townships: list[Center]
    villages: list[Center]
    grids: list
    depts: dict
    users: dict[str, User]
    actors: dict[str, Actor]


async def load_world() -> World:
    """The seeded demo's organisation read back from the database (as ``_seed`` built it)."""
    county = await Center.get(code=COUNTY[0])
    townships = await Center.filter(parent_id=county.id).order_by("code")
    villages = await Center.filter(parent_id__in=[t.id for t in townships]).order_by("code")
    grids = await Grid.filter(center_id__in=[v.id for v in villages]).order_by("code")
    by_code = {d.code: d for d in await Department.all()}
    depts = {key: by_code[code] for key, code, *_ in DEPARTMENTS}
    users = {u.username: u for u in await User.all()}
    actors = {name: await actor_for_user(u) for name, u in users.items()}
    return World(county, townships, villages, grids, depts, users, actors)


@dataclass
class Walk:
    """How far a case goes along its lifecycle and the choices on the way (drawn before any write)."""

    stop: str
    risk: Risk = Risk.none
    handler: str = "mediator"  # mediator | housing | labor
    failed: bool = False
    next_step: str = "litigation"
    amount: int | None = None
    satisfaction: int = 5
    executed: bool = True


@dataclass
class CaseDraw:
    """One demo case: what intake receives and the walk it takes, all drawn from the seeded generator."""

    n: int
    received: datetime
    grid: object
    village_index: int
    township_index: int
    filer: str
    data: svc.CaseInput
    walk: Walk


def _categories() -> list[str]:
    """The categories the demo has texts for, in the code list's order.

    A plugin may add categories: the demo must neither break on them nor draw differently.
    """
    return [c for c in CATEGORIES.codes() if c in TITLES]


def _draw_case(rng: random.Random, n: int, now: datetime, world: World, grid_weight: list[int]) -> CaseDraw:
    grids, villages = world.grids, world.villages
    rising = len(grids) // 2  # this grid's cases grow over the last three months
    received = _receipt(rng, now)
    age = (now - received).days
    weights = [w * (1 + 6 * max(0, 90 - age) / 90 if i == rising else 1) for i, w in enumerate(grid_weight)]
    grid = rng.choices(grids, weights=weights)[0]
    village_index = next(i for i, v in enumerate(villages, start=1) if v.id == grid.center_id)
    township_index = (village_index - 1) // VILLAGES_PER_TOWNSHIP + 1
    categories = _categories()
    category = rng.choices(categories, weights=[_season(c, received.month) for c in categories])[0]
    channel = rng.choice(CHANNELS)
    filer = f"village{village_index}_grid" if channel == "grid" else f"village{village_index}_staff"
    parties = [
        svc.PartyInput(
            role=PartyRole.applicant,
            person=PersonInput(
                name=_name(rng),
                id_number=_id_number(rng, "330199"),
                phone=f"13{rng.randint(100000000, 999999999)}",
                address=f"{grid.name}{rng.randint(1, 80)}号",
                grid_id=grid.id,
            ),
        )
    ]
    if KIND_OF.get(category, "dispute") == "dispute":
        parties.append(
            svc.PartyInput(role=PartyRole.respondent, person=PersonInput(name=_name(rng), grid_id=grid.id))
        )
    data = svc.CaseInput(
        title=TITLES[category],
        category=category,
        kind=KIND_OF.get(category, "dispute"),
        channel=channel,
        description=f"{TITLES[category]}，当事人请求协调处理。",
        severity=rng.randint(1, 4),
        complexity=rng.choice(["simple", "simple", "complex", "difficult"]),
        grid_id=grid.id,
        address=f"{grid.name}{rng.randint(1, 80)}号",
        parties=parties,
        client_request_id=f"demo-{n}",
        received_at=received,
    )
    return CaseDraw(
        n, received, grid, village_index, township_index, filer, data, _draw_walk(rng, category, age)
    )


def _draw_walk(rng: random.Random, category: str, age: int) -> Walk:
    """Where the case stops (old cases mostly finished) and the choices on the way."""
    stop = rng.choices(
        [
            "received",
            "assessed",
            "rejected",
            "dispatched",
            "handling",
            "resolved",
            "failed",
            "closed",
            "followed_up",
            "withdrawn",
        ],
        weights=[6, 5, 3, 6, 12, 6, 3, 10, 45, 2] if age < 45 else [1, 1, 3, 1, 3, 2, 3, 12, 72, 2],
    )[0]
    walk = Walk(stop=stop, risk=rng.choice([Risk.none, Risk.none, Risk.low, Risk.medium, Risk.high]))
    if category in {"housing_homestead", "property_management"} and rng.random() < 0.5:
        walk.handler = "housing"
    elif category == "labor" and rng.random() < 0.5:
        walk.handler = "labor"
    walk.failed = stop == "failed" or (stop in {"closed", "followed_up"} and rng.random() < 0.15)
    walk.next_step = rng.choice(["litigation", "arbitration"])
    walk.amount = rng.choice([None, 2000, 8500, 36000])
    walk.satisfaction = rng.choices([5, 4, 3, 2], weights=[60, 25, 10, 5])[0]
    walk.executed = rng.random() < 0.9
    return walk


async def _seed_cases(
    rng: random.Random,
    photos: random.Random,
    world: World,
    n_cases: int,
    bulk_after: int | None,
    evidence,
    on_case: Callable[[], object] | None,
    now: datetime,
) -> None:
    """The cases: the first ``bulk_after`` (and every ``EVIDENCE_EVERY``-th, with its photo) through
    the services and rules, the rest written in bulk by :mod:`zongzhi.platform.wiring.demo_bulk`."""
    from zongzhi.platform.wiring.demo_bulk import BulkWriter

    grid_weight = [rng.choice([1, 1, 1, 2, 3, 5]) for _ in world.grids]
    bulk = BulkWriter(world, now, rng) if bulk_after is not None and n_cases > bulk_after else None
    for n in range(n_cases):
        draw = _draw_case(rng, n, now, world, grid_weight)
        real = bulk is None or n < bulk_after or n % EVIDENCE_EVERY == 0
        if not real and not await bulk.add(draw):
            real = True  # a rule would do something the bulk writer does not reproduce
        if real:
            if bulk is not None:
                await bulk.flush()
            await _real_case(rng, photos, draw, world, evidence, now)
        if on_case is not None:
            on_case()
    if bulk is not None:
        await bulk.flush()


async def _real_case(
    rng: random.Random, photos: random.Random, draw: CaseDraw, world: World, evidence, now: datetime
) -> None:
    """One case through the services, with the rules run on every event, then back-dated."""
    filer = world.actors[draw.filer]
    case, _ = await svc.intake(draw.data, filer)
    if evidence is not None and draw.n % EVIDENCE_EVERY == 0:
        await evidence.add_evidence_bytes(filer, case.id, "现场照片.png", "image/png", _photo(photos))
    await _walk(case, draw.walk, world, draw.township_index, draw.village_index)
    days = {"simple": 1, "complex": 7, "difficult": 30}[case.complexity]
    await _backdate(rng, case.id, draw.received, now, resolve_by=draw.received + timedelta(days=days))


def _receipt(rng: random.Random, now: datetime) -> datetime:
    """A receipt time in the past year, months weighted by ``MONTH_VOLUME``, in working hours."""
    top = max(MONTH_VOLUME.values())
    while True:
        day = now - timedelta(days=rng.uniform(0, YEAR_DAYS))
        if rng.random() < MONTH_VOLUME[day.month] / top:
            local = day.replace(hour=rng.randint(0, 9), minute=rng.randint(0, 59))  # 08:00–17:59 in UTC+8
            return min(local, now - timedelta(minutes=5))


def _season(category: str, month: int) -> float:
    months, weight = SEASONS.get(category, (set(), 1.0))
    return weight if month in months else 1.0


SLOW_EVENTS = {"case.resolved", "case.failed", "case.followed_up"}


def event_gap(rng: random.Random, event_type: str) -> timedelta:
    """The time from the previous event on a demo timeline to this one."""
    slow = event_type in SLOW_EVENTS
    return timedelta(hours=rng.uniform(1, 240) if slow else rng.uniform(0.5, 12))


async def _backdate(
    rng: random.Random, case_id: int, received: datetime, now: datetime, resolve_by: datetime
) -> None:
    """Move the case's timeline (made just now by the services) to follow its receipt date."""
    at = received
    first: dict[str, datetime] = {}
    events = await CaseEvent.filter(case_id=case_id).order_by("id")
    for event in events:
        if event.type != "case.received":
            at = min(at + event_gap(rng, event.type), now)
        event.at = at
        first.setdefault(event.type, at)
    await CaseEvent.bulk_update(events, fields=["at"])  # one statement, not one per event
    case = await Case.get(id=case_id)
    changes: dict[str, datetime | None] = {"updated_at": at, "resolve_by": resolve_by, "warn_at": None}
    if case.accepted_at:
        changes["accepted_at"] = first["case.accepted"]
    if case.concluded_at:
        ends = ("case.resolved", "case.failed", "case.rejected", "case.withdrawn")
        changes["concluded_at"] = next(first[t] for t in ends if t in first)
    if case.closed_at:
        changes["closed_at"] = first["case.closed"]
    await Case.filter(id=case_id).update(**changes)
    if "case.followed_up" in first:
        await FollowUp.filter(case_id=case_id).update(at=first["case.followed_up"])


async def _walk(case: Case, walk: Walk, world: World, t: int, v: int) -> None:
    """Take a case along its lifecycle through the services, up to the walk's stop."""
    actors = world.actors
    staff, mediator = actors[f"township{t}_staff"], actors[f"township{t}_mediator"]
    stop = walk.stop
    if stop == "received":
        return
    if stop == "withdrawn":
        await svc.withdraw(staff, case.id, WITHDRAW_REASON)
        return
    await svc.assess(staff, case.id, risk=walk.risk)
    if stop == "assessed":
        return
    if stop == "rejected":
        await svc.reject(staff, case.id, REJECT_REASON)
        return
    if walk.handler == "mediator":
        unit, handler = svc.UnitInput(user_id=mediator.user_id), mediator
        mode = AssignmentMode.self_handle
    else:
        dept = world.depts[walk.handler]
        unit, handler = svc.UnitInput(department_id=dept.id), actors[f"{walk.handler}_officer"]
        mode = AssignmentMode.transfer
    await svc.dispatch(staff, case.id, mode, [unit])
    if stop == "dispatched":
        return
    await svc.accept(handler, case.id)
    await svc.add_progress(handler, case.id, PROGRESS_NOTE)
    if stop == "handling":
        return
    if walk.failed:
        await svc.fail(handler, case.id, FAIL_OUTCOME, walk.next_step)
    else:
        await svc.resolve(handler, case.id, RESOLVE_OUTCOME, AGREEMENT, walk.amount)
    if stop in {"resolved", "failed"}:
        return
    await svc.close(staff, case.id)
    if stop == "closed":
        return
    await svc.follow_up(actors[f"village{v}_grid"], case.id, walk.satisfaction, walk.executed)


WITHDRAW_REASON = "当事人自行和解，申请撤回"
REJECT_REASON = "不属于本中心受理范围，已告知当事人向有关部门反映"
PROGRESS_NOTE = "已联系双方当事人，约定调解时间"
FAIL_OUTCOME = "双方分歧较大，调解未达成一致"
RESOLVE_OUTCOME = "经调解双方达成一致"
AGREEMENT = "双方签订人民调解协议书"


async def is_seeded() -> bool:
    return await Center.filter(code=COUNTY[0]).exists()


#: Who gets a printed token: the county's roles, then each role in every township.
COUNTY_USERS = ["county_dispatcher", "county_leader", "rule_author", "admin", "housing_officer"]
TOWNSHIP_USERS = ["township{t}_staff", "township{t}_mediator", "township{t}_leader", "village{v}_grid"]


@dataclass
class Directory:
    """The demo's centers and one signed-in user per role and township, ready to print."""

    centers: list[tuple[int, str, str]] = field(default_factory=list)
    """(depth, code, name), county first, each township followed by its villages."""
    groups: list[tuple[str, list[tuple[str, str, str, str]]]] = field(default_factory=list)
    """(heading, [(username, roles, center name, token)])."""

    def render(self) -> str:
        lines = ["Centers (code, name):"]
        lines += [f"  {'  ' * depth}{code}  {name}" for depth, code, name in self.centers]
        for heading, users in self.groups:
            lines += ["", heading]
            lines += [f"  {u:20} {roles:12} {_pad(where, 18)} {token}" for u, roles, where, token in users]
        return "\n".join(lines) + "\n"


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


async def directory(ttl: timedelta) -> Directory:
    """The centers and a bearer token (a JWT valid ``ttl``) for a user of each role per township."""
    result = Directory()
    centers = await Center.filter(code__startswith=COUNTY[0][:6]).order_by("code")
    depth = {CenterLevel.county.value: 0, CenterLevel.township.value: 1, CenterLevel.village.value: 2}
    result.centers = [(depth.get(str(c.level), 0), c.code, c.name) for c in centers]
    users = {u.username: u for u in await User.all().select_related("center", "department")}

    def row(username: str) -> tuple[str, str, str, str] | None:
        u = users.get(username)
        if u is None:
            return None
        where = u.center.name if u.center else (u.department.name if u.department else "")
        token = security.issue_jwt(u.id, u.username, ttl=ttl)
        return (u.username, ",".join(u.roles), where, token)

    county = [r for r in map(row, COUNTY_USERS) if r]
    result.groups.append((f"{COUNTY[1]} ({COUNTY[0]}):", county))
    for t, (t_code, t_name) in enumerate(TOWNSHIPS, start=1):
        v = (t - 1) * VILLAGES_PER_TOWNSHIP + 1
        names = [n.format(t=t, v=v) for n in TOWNSHIP_USERS]
        result.groups.append(
            (f"{t_name}综治中心 (330199{t_code}000) and its villages:", [r for r in map(row, names) if r])
        )
    return result

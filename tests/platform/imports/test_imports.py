"""Imports: all-or-nothing, idempotent on codes, every bad row named; the sample county end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from tests.conftest import _truncate
from tests.gql import gql
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.imports import ImportRefused
from zongzhi.platform.imports.centers import import_centers
from zongzhi.platform.imports.grids import import_grids
from zongzhi.platform.imports.registry import import_residents, import_units
from zongzhi.platform.imports.staff import import_departments, import_users
from zongzhi.platform.models import (
    AuditLog,
    Center,
    Department,
    Grid,
    House,
    HouseMember,
    OrgUnit,
    Person,
    PersonTag,
    User,
    UserGrid,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "county"
CLI = Actor.system_actor("test import")
SAMPLE = [
    (import_centers, "divisions.csv"),
    (import_departments, "departments.csv"),
    (import_grids, "grids.geojson"),
    (import_users, "staff.csv"),
    (import_residents, "residents.csv"),
    (import_units, "units.csv"),
]
MODELS = [Center, Department, Grid, User, UserGrid, House, HouseMember, Person, PersonTag, OrgUnit]


async def counts() -> dict[str, int]:
    return {m.__name__: await m.all().count() for m in MODELS}


async def snapshot() -> dict[str, list]:
    out = {}
    for m in MODELS:
        rows = await m.all().order_by("id").values()
        out[m.__name__] = [{k: v for k, v in r.items() if not k.endswith("_enc")} for r in rows]
    return out


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def empty(settings):
    await _truncate()


async def test_the_sample_county_builds_from_an_empty_database_and_a_second_run_changes_nothing(
    empty, settings
):
    for fn, name in SAMPLE:
        report = await fn(CLI, EXAMPLES / name)
        assert report.ok and report.created, name
    first = await snapshot()
    assert {k: len(v) for k, v in first.items()} == {
        "Center": 7,
        "Department": 8,
        "Grid": 9,
        "User": 18,
        "UserGrid": 8,
        "House": 16,
        "HouseMember": 38,
        "Person": 38,
        "PersonTag": 6,
        "OrgUnit": 5,
    }
    audits = await AuditLog.all().count()
    for fn, name in SAMPLE:
        report = await fn(CLI, EXAMPLES / name)
        assert report.ok and not report.created and not report.updated, (name, report.updated)
    assert await snapshot() == first
    assert await AuditLog.all().count() == audits + len(SAMPLE)  # one row per import, nothing else


async def test_the_grids_file_is_gcj02_and_is_stored_as_wgs84(empty, settings):
    await import_centers(CLI, EXAMPLES / "divisions.csv")
    await import_grids(CLI, EXAMPLES / "grids.geojson")
    grid = await Grid.get(code="331099001001-01")
    assert grid.datum == "gcj02"
    lng, lat = grid.polygon["coordinates"][0][0]
    assert abs(lng - 119.40) < 1e-6 and abs(lat - 29.40) < 1e-6  # the WGS-84 corner the file was drawn from
    assert (await Grid.get(code="331099001001-01-A")).level == 2


async def test_bad_centers_are_each_named_and_nothing_is_written(world, tmp_path):
    before = await counts()
    path = write(
        tmp_path,
        "divisions.csv",
        "code,name,level,parent\n"
        "330110001003,甲三村,village,330110001000\n"  # good
        "33011000100,短码村,village,330110001000\n"  # line 3: code
        "330110001004,,village,330110001000\n"  # line 4: name
        "330110001005,某村,hamlet,330110001000\n"  # line 5: level
        "330110009001,无主村,village,330110009000\n"  # line 6: parent missing
        "330110001003,重复村,village,330110001000\n"  # line 7: duplicate
        "330110001006,倒挂,county,330110001000\n",  # line 8: county under a township
    )
    with pytest.raises(ImportRefused) as refused:
        await import_centers(CLI, path)
    problems = [(p.row, p.field) for p in refused.value.report.problems]
    assert problems == [
        ("line 3", "code"),
        ("line 4", "name"),
        ("line 5", "level"),
        ("line 7", "code"),
        ("line 6", "parent"),
        ("line 8", "parent"),
    ]
    assert await counts() == before
    assert not await Center.exists(code="330110001003")


async def test_bad_grids_are_each_named_and_nothing_is_written(world, tmp_path):
    def feature(code, parent, ring, name="网格"):
        return {
            "type": "Feature",
            "properties": {"code": code, "name": name, "parent": parent},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }

    def sq(x0, y0, s):
        return [[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s], [x0, y0]]

    features = [
        feature("A1-G1-1", "A1-G1", sq(120.0, 30.0, 0.05)),  # good: inside A1-G1
        feature("A1-G1-2", "A1-G1", sq(120.02, 30.0, 0.05)),  # overlaps A1-G1-1
        feature("A1-G1-3", "A1-G1", sq(120.09, 30.0, 0.05)),  # outside its parent
        feature("A1-G1-4", "A1-G1", sq(120.0, 30.06, 0.02)[:-1]),  # not closed
        feature("NEW-1", "330110001000", sq(121, 31, 0.01)),  # parent is a township
        feature("NEW-2", "NOPE", sq(121, 31, 0.01)),  # no such parent
        feature("", "330110001001", sq(121, 31, 0.01)),  # no code
    ]
    path = write(
        tmp_path,
        "grids.geojson",
        json.dumps({"type": "FeatureCollection", "datum": "wgs84", "features": features}),
    )
    before = await counts()
    with pytest.raises(ImportRefused) as refused:
        await import_grids(CLI, path)
    problems = {(p.row, p.field) for p in refused.value.report.problems}
    assert problems == {
        ("feature 2 (A1-G1-2)", "geometry"),
        ("feature 3 (A1-G1-3)", "geometry"),
        ("feature 4 (A1-G1-4)", "geometry"),
        ("feature 5 (NEW-1)", "parent"),
        ("feature 6 (NEW-2)", "parent"),
        ("feature 7", "code"),
    }
    assert await counts() == before


async def test_a_grids_file_must_say_its_datum(world, tmp_path):
    path = write(tmp_path, "grids.geojson", json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(Exception, match="datum"):
        await import_grids(CLI, path)
    assert (await import_grids(CLI, path, "wgs84")).ok


async def test_bad_staff_rows_are_each_named_and_nothing_is_written(world, tmp_path):
    path = write(
        tmp_path,
        "staff.csv",
        "username,display_name,roles,center,department,grids,specialties\n"
        "a1_new,新人,staff,330110001001,,,\n"  # good
        "x,短名,staff,330110001001,,,\n"  # username
        "a1_new2,新人,chief,330110001001,,,\n"  # roles
        "a1_new3,新人,staff,999999999999,,,\n"  # center
        "a1_new4,新人,department,,nope,,\n"  # department
        "a1_new5,新人,grid_worker,330110001001,,B1-G1,\n"  # grid of another village
        "a1_new6,新人,mediator,330110001000,,,astrology\n"  # specialty
        "a1_new7,新人,auditor,,,,\n",  # auditor is made one by one
    )
    before = await counts()
    with pytest.raises(ImportRefused) as refused:
        await import_users(CLI, path)
    assert [(p.row, p.field) for p in refused.value.report.problems] == [
        ("line 3", "username"),
        ("line 4", "roles"),
        ("line 5", "center"),
        ("line 6", "department"),
        ("line 7", "grids"),
        ("line 8", "specialties"),
        ("line 9", "roles"),
    ]
    assert await counts() == before


async def test_bad_resident_and_unit_rows_are_each_named_and_nothing_is_written(world, tmp_path):
    good_id = "110101199003074514"
    residents = write(
        tmp_path,
        "residents.csv",
        "house_code,address,grid,name,id_number,phone,role,tags\n"
        f"H1,甲一村1号,A1-G1,张三,{good_id},13800138000,owner,独居老人\n"
        "H2,甲一村2号,A1-G1,李四,110101199003074515,,owner,\n"  # checksum
        "H3,甲一村3号,NOPE,王五,11010119900307451X,,owner,\n"  # grid
        "H4,甲一村4号,A1-G1,赵六,,,owner,\n"  # no ID number
        "H5,甲一村5号,A1-G1,钱七,110101199001010015,12345,owner,\n"  # phone
        "H6,甲一村6号,A1-G1,孙八,110101199001010023,,landlord,\n"  # role
        "H7,甲一村7号,A1-G1,周九,110101199001010031,,owner,外星人\n",  # tag
    )
    units = write(
        tmp_path,
        "units.csv",
        "credit_code,name,kind,grid,contact_phone\n"
        "91330110MA2XXXXXX0,坏码公司,enterprise,A1-G1,\n"  # check character
        "91350100M000100Y43,好码公司,spaceship,A1-G1,\n",  # kind
    )
    before = await counts()
    with pytest.raises(ImportRefused) as refused:
        await import_residents(CLI, residents)
    assert [(p.row, p.field) for p in refused.value.report.problems] == [
        ("line 3", "id_number"),
        ("line 4", "grid"),
        ("line 5", "id_number"),
        ("line 6", "phone"),
        ("line 7", "role"),
        ("line 8", "tags"),
    ]
    assert good_id not in "\n".join(refused.value.report.lines())
    with pytest.raises(ImportRefused) as refused:
        await import_units(CLI, units)
    assert [(p.row, p.field) for p in refused.value.report.problems] == [
        ("line 2", "credit_code"),
        ("line 3", "kind"),
    ]
    assert await counts() == before


async def test_a_township_admin_imports_only_into_its_tree(world, tmp_path):
    from zongzhi.platform.domain.actor import actor_for_user
    from zongzhi.platform.services.accounts import create_user

    admin = await actor_for_user(
        await create_user("ta_admin", "甲镇管理员", ["admin"], center=world.centers["ta"])
    )
    path = write(
        tmp_path,
        "d.csv",
        "code,name,level,parent\n330110001009,甲九村,village,330110001000\n330110002009,乙九村,village,330110002000\n",
    )
    with pytest.raises(ImportRefused) as refused:
        await import_centers(admin, path)
    assert [(p.row, p.field) for p in refused.value.report.problems] == [("line 3", "code")]
    assert not await Center.exists(code="330110001009")


def test_the_import_commands_report_and_exit_nonzero_on_bad_rows(tmp_path):
    from tests.platform.test_cli import _zongzhi

    data = tmp_path / "data"
    data.mkdir()
    for kind, name in [
        ("centers", "divisions.csv"),
        ("departments", "departments.csv"),
        ("grids", "grids.geojson"),
    ]:
        out = _zongzhi(data, "import", kind, str(EXAMPLES / name))
        assert "created" in out.stdout
    again = _zongzhi(data, "import", "grids", str(EXAMPLES / "grids.geojson"))
    assert "0 created, 0 updated, 13 unchanged" in again.stdout
    bad = tmp_path / "bad.csv"
    shutil.copy(EXAMPLES / "staff.csv", bad)
    with bad.open("a", encoding="utf-8") as f:
        f.write("bad user,名字,staff,331099000000,,,,\n")
    result = _zongzhi(data, "import", "users", str(bad), check=False)
    assert result.returncode == 1
    assert "line 20, username" in result.stderr and "nothing was written" in result.stderr


async def test_the_sample_county_over_graphql_draws_every_grid(empty, settings):
    from zongzhi.platform.wiring.app import create_app

    for fn, name in SAMPLE:
        await fn(CLI, EXAMPLES / name)
    dispatcher = await User.get(username="sx_dispatcher")
    token = issue_jwt(dispatcher.id, dispatcher.username)
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        data = await gql(
            client,
            token,
            '{ hotSpots(period: "2026") { geojson byGrid { grid { datum } } } me { center { name children { name children { name grids { code } } } } } }',
        )
    features = data["hotSpots"]["geojson"]["features"]
    assert sorted(f["id"] for f in features) == sorted(await Grid.all().values_list("code", flat=True))
    assert all(f["geometry"]["type"] == "Polygon" for f in features)
    assert {g["grid"]["datum"] for g in data["hotSpots"]["byGrid"]} == {"gcj02"}
    townships = data["me"]["center"]["children"]
    assert [t["name"] for t in townships] == ["城关镇综治中心", "石门乡综治中心"]


@pytest.mark.parametrize("kind", ["centers", "departments", "grids", "users", "residents", "units"])
def test_every_import_command_has_help_and_is_in_the_readme(kind, capsys):
    from zongzhi.platform.wiring.cli import main

    assert main(["import", kind, "--help"]) == 0
    assert "FILE" in capsys.readouterr().out.upper()
    readme = (EXAMPLES.parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"zongzhi import {kind}" in readme

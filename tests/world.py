"""A small county to test against: two townships, three villages, grids, departments, every role."""

from __future__ import annotations

from dataclasses import dataclass, field

from zongzhi.platform.base.codes import CenterLevel, Residence, Role
from zongzhi.platform.base.security import issue_jwt
from zongzhi.platform.models import Center, Department, Grid, User
from zongzhi.platform.services.accounts import create_user
from zongzhi.platform.services.org import create_center, create_department, create_grid, station_department


@dataclass
class World:
    centers: dict[str, Center] = field(default_factory=dict)
    grids: dict[str, Grid] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


async def build_world() -> World:
    w = World()
    county = await create_center("330110000000", "示范县综治中心", CenterLevel.county)
    ta = await create_center("330110001000", "甲镇综治中心", CenterLevel.township, county)
    tb = await create_center("330110002000", "乙镇综治中心", CenterLevel.township, county)
    va1 = await create_center("330110001001", "甲一村", CenterLevel.village, ta)
    va2 = await create_center("330110001002", "甲二村", CenterLevel.village, ta)
    vb1 = await create_center("330110002001", "乙一村", CenterLevel.village, tb)
    w.centers.update(county=county, ta=ta, tb=tb, va1=va1, va2=va2, vb1=vb1)
    square = {
        "type": "Polygon",
        "coordinates": [[[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1], [120.0, 30.0]]],
    }
    w.grids["a1g1"] = await create_grid("A1-G1", "甲一村第一网格", va1, polygon=square)
    w.grids["a1g2"] = await create_grid("A1-G2", "甲一村第二网格", va1)
    w.grids["a2g1"] = await create_grid("A2-G1", "甲二村第一网格", va2)
    w.grids["b1g1"] = await create_grid("B1-G1", "乙一村第一网格", vb1)
    for key, code, name, kind in [
        ("housing", "zj", "县住建局", "住建"),
        ("labor", "rs", "县人社局", "人社"),
        ("police", "ga-a", "甲镇派出所", "公安"),
    ]:
        w.departments[key] = await create_department(code, name, kind)
    await station_department(county, w.departments["housing"], Residence.rotating)
    await station_department(ta, w.departments["police"], Residence.resident)
    specs = [
        ("county_staff", [Role.staff], county, {}),
        ("county_leader", [Role.leader], county, {}),
        ("a_staff", [Role.staff], ta, {}),
        ("b_staff", [Role.staff], tb, {}),
        ("a1_staff", [Role.staff], va1, {}),
        ("a_mediator", [Role.mediator], ta, {"specialties": ["neighbor", "marriage_family"]}),
        ("a1_grid", [Role.grid_worker], va1, {"grids": [w.grids["a1g1"]]}),
        ("b1_grid", [Role.grid_worker], vb1, {"grids": [w.grids["b1g1"]]}),
        ("housing_officer", [Role.department], None, {"department": w.departments["housing"]}),
        ("rule_author", [Role.rule_author], county, {}),
        ("admin", [Role.admin], None, {}),
        ("court_partner", [Role.partner], None, {"plugin": "court_docking"}),
    ]
    for username, roles, center, extra in specs:
        user = await create_user(username, username, [str(r) for r in roles], center=center, **extra)
        w.users[username] = user
        w.tokens[username] = issue_jwt(user.id, user.username)
    return w

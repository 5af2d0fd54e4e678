"""Centers, departments and grids."""

from __future__ import annotations

import re

from zongzhi.platform.base.codes import CenterLevel, Residence
from zongzhi.platform.base.errors import NotFound, ValidationFailed
from zongzhi.platform.models import Center, CenterDepartment, Department, Grid

_AREA_CODE = re.compile(r"^\d{12}$")


async def create_center(
    code: str, name: str, level: CenterLevel | str, parent: Center | None = None
) -> Center:
    if not _AREA_CODE.match(code):
        raise ValidationFailed("a center code is a 12-digit area code (统计用区划代码)", field="code")
    level = CenterLevel(level)
    if parent is not None and CenterLevel(parent.level).rank >= level.rank:
        raise ValidationFailed(
            f"a {level.value} center cannot sit under a {parent.level} center", field="parent"
        )
    center = await Center.create(code=code, name=name, level=level, parent=parent)
    center.path = f"{parent.path if parent else '/'}{center.id}/"
    await center.save(update_fields=["path"])
    return center


async def ancestors(center: Center) -> list[Center]:
    """The center's chain from the root down to itself."""
    ids = [int(p) for p in center.path.strip("/").split("/") if p]
    by_id = {c.id: c for c in await Center.filter(id__in=ids)}
    return [by_id[i] for i in ids if i in by_id]


async def ancestor_at(center: Center, level: CenterLevel) -> Center | None:
    for c in await ancestors(center):
        if c.level == level:
            return c
    return None


async def create_department(code: str, name: str, kind: str) -> Department:
    return await Department.create(code=code, name=name, kind=kind)


async def station_department(center: Center, department: Department, residence: Residence | str) -> None:
    await CenterDepartment.get_or_create(
        center=center, department=department, defaults={"residence": Residence(residence)}
    )


async def create_grid(
    code: str, name: str, center: Center, parent: Grid | None = None, polygon: dict | None = None
) -> Grid:
    if center.level != CenterLevel.village:
        raise ValidationFailed("a grid belongs to a village or community center", field="center")
    if polygon is not None and polygon.get("type") not in {"Polygon", "MultiPolygon"}:
        raise ValidationFailed("polygon must be a GeoJSON Polygon or MultiPolygon", field="polygon")
    return await Grid.create(
        code=code,
        name=name,
        center=center,
        parent=parent,
        level=(parent.level + 1) if parent else 1,
        polygon=polygon,
    )


async def get_center(center_id: int) -> Center:
    center = await Center.get_or_none(id=center_id)
    if center is None:
        raise NotFound(f"no center {center_id}", field="centerId")
    return center

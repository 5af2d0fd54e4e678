"""``zongzhi import grids grids.geojson``: grid boundaries (and, optionally, village boundaries).

A GeoJSON FeatureCollection. Each feature's properties: ``code``, ``name`` and ``parent`` — the
code of the grid it nests in, or the 12-digit code of its village or community center (a top-level
grid). A feature with ``"kind": "center"`` instead gives the boundary of an existing center, named
by its ``code``; grids are then checked to lie within their village.

The file says its datum: a top-level ``"datum"`` member (``wgs84``, ``gcj02`` or ``cgcs2000``) or a
``crs`` naming EPSG:4326 / CRS84 (WGS-84) or EPSG:4490 (CGCS2000). GCJ-02 boundaries (drawn on
Chinese web maps) are converted to WGS-84, the one datum stored; the grid keeps which it came in.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from tortoise.transactions import in_transaction

from zongzhi.platform.base.codes import CenterLevel
from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain import geo
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.admin_scope import manages
from zongzhi.platform.imports.common import ImportReport, Problem, record, refuse_if_bad
from zongzhi.platform.models import Center, Grid
from zongzhi.platform.services.masterdata import GRID_CODE


def datum_of(collection: dict, override: str | None) -> str:
    if override:
        if override not in geo.DATUMS:
            raise ValidationFailed(f"datum is one of {', '.join(geo.DATUMS)}", field="datum")
        return override
    said = collection.get("datum")
    if isinstance(said, str) and said.lower() in geo.DATUMS:
        return said.lower()
    crs = str(((collection.get("crs") or {}).get("properties") or {}).get("name", "")).upper()
    if "GCJ" in crs:
        return "gcj02"
    if "4490" in crs:
        return "cgcs2000"
    if "4326" in crs or "CRS84" in crs:
        return "wgs84"
    raise ValidationFailed(
        'the file does not say its datum: add "datum": "wgs84" | "gcj02" | "cgcs2000" or pass --datum',
        field="datum",
    )


def _features(path: Path | str) -> tuple[dict, list[dict]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"not JSON: {exc.msg} at line {exc.lineno}", field="file") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationFailed("a grids file is a GeoJSON FeatureCollection", field="file")
    return data, [f for f in data.get("features") or [] if isinstance(f, dict)]


def _depth(code: str, parents: dict[str, str | None]) -> int:
    depth, seen = 0, set()
    while parents.get(code) and code not in seen:
        seen.add(code)
        code = parents[code]  # type: ignore[assignment]
        depth += 1
    return depth


async def import_grids(actor: Actor, path: Path | str, datum: str | None = None) -> ImportReport:
    report = ImportReport("grids")
    collection, features = _features(path)
    datum = datum_of(collection, datum)
    report.rows = len(features)
    report.notes.append(f"datum: {datum}" + (" (converted to WGS-84)" if datum == "gcj02" else ""))
    centers = {c.code: c for c in await Center.all()}
    grids = {g.code: g for g in await Grid.all()}
    center_shapes: dict[str, Any] = {code: c.polygon for code, c in centers.items() if c.polygon}
    center_rows: dict[str, dict] = {}
    grid_rows: dict[str, dict] = {}  # code → {where, name, parent_grid, center, polygon}

    for n, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        code = str(props.get("code") or "").strip()
        where = f"feature {n}" + (f" ({code})" if code else "")

        def bad(field: str, message: str, where: str = where) -> None:
            report.problems.append(Problem(where, field, message))

        try:
            polygon = geo.to_wgs84(feature.get("geometry") or {}, datum)
            geom = geo.parse_polygon(polygon, "geometry")
        except ValidationFailed as exc:
            bad(exc.field or "geometry", exc.message)
            continue
        except (TypeError, ValueError, KeyError, IndexError):
            bad("geometry", "the coordinates are not a polygon")
            continue
        if props.get("kind") == "center":
            if code not in centers:
                bad("code", f"no center {code}")
            elif code in center_rows:
                bad("code", f"{code} appears twice in the file")
            elif not manages(actor, centers[code].path):
                bad("code", "outside the tree you manage")
            else:
                center_rows[code] = {"where": where, "polygon": polygon, "geom": geom}
                center_shapes[code] = polygon
            continue
        name = str(props.get("name") or "").strip()
        parent = str(props.get("parent") or "").strip()
        if not GRID_CODE.match(code):
            bad("code", "a grid code is 1-40 letters, digits, '-', '_' or '.'")
            continue
        if code in grid_rows:
            bad("code", f"{code} appears twice in the file")
            continue
        if not name or len(name) > 100:
            bad("name", "a name of 1-100 characters is required")
            continue
        if not parent:
            bad("parent", "name the parent grid's code or the village center's code")
            continue
        grid_rows[code] = {"where": where, "name": name, "parent": parent, "polygon": polygon, "geom": geom}

    # Parents: a grid (file or database) or a village center.
    parent_grid: dict[str, str | None] = {}
    for code, row in grid_rows.items():
        parent = row["parent"]
        if parent in grid_rows or parent in grids:
            parent_grid[code] = parent
        elif parent in centers:
            if centers[parent].level != CenterLevel.village:
                report.problems.append(
                    Problem(row["where"], "parent", f"{parent} is not a village or community")
                )
                continue
            parent_grid[code] = None
            row["center"] = parent
        else:
            report.problems.append(Problem(row["where"], "parent", f"no grid or center {parent}"))
    for code in list(parent_grid):
        if _depth(code, parent_grid) > 10:
            report.problems.append(Problem(grid_rows[code]["where"], "parent", "grids nest in a circle"))
            parent_grid.pop(code)
    ordered = sorted(parent_grid, key=lambda c: _depth(c, parent_grid))
    for code in ordered:  # the village of a nested grid is its top-level ancestor's
        row, parent = grid_rows[code], parent_grid[code]
        if parent is not None:
            row["center"] = (
                grid_rows[parent].get("center")
                if parent in grid_rows
                else (next(c for c in centers.values() if c.id == grids[parent].center_id).code)
            )
        village = centers.get(row.get("center") or "")
        if village is None:
            continue
        if not manages(actor, village.path):
            report.problems.append(Problem(row["where"], "parent", "outside the tree you manage"))
            continue
        if parent is None:
            within, label = center_shapes.get(village.code), f"village {village.name}"
        elif parent in grid_rows:
            within, label = grid_rows[parent]["polygon"], f"parent grid {parent}"
        else:
            within, label = grids[parent].polygon, f"parent grid {parent}"
        if within:
            try:
                geo.check_within(row["geom"], shape(within), label, "geometry")
            except ValidationFailed as exc:
                report.problems.append(Problem(row["where"], "geometry", exc.message))
                continue
        siblings = [
            (f"grid {c}", r["geom"])
            for c, r in grid_rows.items()
            if c != code and c in parent_grid and parent_grid[c] == parent and r.get("center") == village.code
        ]
        parent_id = (grids[parent].id if parent in grids else -1) if parent else None
        siblings += [
            (f"grid {g.code}", shape(g.polygon))
            for g in grids.values()
            if g.code not in grid_rows
            and g.polygon
            and g.center_id == village.id
            and g.parent_id == parent_id
        ]
        try:
            geo.check_no_overlap(row["geom"], siblings, "geometry")
        except ValidationFailed as exc:
            report.problems.append(Problem(row["where"], "geometry", exc.message))
    refuse_if_bad(report)

    async with in_transaction():
        for code, row in center_rows.items():
            center = centers[code]
            if center.polygon == row["polygon"]:
                report.unchanged += 1
                continue
            center.polygon = row["polygon"]
            await center.save(update_fields=["polygon"])
            report.updated.append(code)
        for code in ordered:
            row, parent = grid_rows[code], parent_grid[code]
            parent_row = grids[parent] if parent else None
            values = {
                "name": row["name"],
                "center_id": centers[row["center"]].id,
                "parent_id": parent_row.id if parent_row else None,
                "level": (parent_row.level + 1) if parent_row else 1,
                "polygon": row["polygon"],
                "datum": datum,
            }
            old = grids.get(code)
            if old is None:
                grids[code] = await Grid.create(code=code, **values)
                report.created.append(code)
            elif any(getattr(old, k) != v for k, v in values.items()):
                await Grid.filter(id=old.id).update(**values)
                grids[code] = await Grid.get(id=old.id)
                report.updated.append(code)
            else:
                report.unchanged += 1
        await record(actor, report, Path(path).name)
    return report

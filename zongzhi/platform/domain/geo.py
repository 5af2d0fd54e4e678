"""Geometry for grids and locations: polygon validation, datum conversion, point-in-polygon.

Boundaries are stored in one datum, WGS-84. Chinese web maps (高德, 腾讯) draw in GCJ-02, an
obfuscated offset of WGS-84 inside China; files in GCJ-02 are converted on the way in with the
well-known eviltransform formulas (the inverse by fixed-point iteration, accurate to centimetres).
CGCS2000 differs from WGS-84 by centimetres and is taken as it is.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from zongzhi.platform.base.errors import ValidationFailed

DATUMS = ("wgs84", "gcj02", "cgcs2000")
#: Siblings may overlap by this fraction of the smaller one's area (digitising slack on shared edges).
OVERLAP_TOLERANCE = 0.01
#: A child may stick out of its parent by this fraction of its own area.
CONTAINMENT_TOLERANCE = 0.01

_A = 6378245.0
_EE = 0.00669342162296594323


def _out_of_china(lng: float, lat: float) -> bool:
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform(x: float, y: float) -> tuple[float, float]:
    xy = x * y
    absx = math.sqrt(abs(x))
    xpi, ypi = x * math.pi, y * math.pi
    d = 20.0 * math.sin(6.0 * xpi) + 20.0 * math.sin(2.0 * xpi)
    lat = d + 20.0 * math.sin(ypi) + 40.0 * math.sin(ypi / 3.0)
    lng = d + 20.0 * math.sin(xpi) + 40.0 * math.sin(xpi / 3.0)
    lat += 160.0 * math.sin(ypi / 12.0) + 320 * math.sin(ypi / 30.0)
    lng += 150.0 * math.sin(xpi / 12.0) + 300.0 * math.sin(xpi / 30.0)
    lat *= 2.0 / 3.0
    lng *= 2.0 / 3.0
    lat += -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * xy + 0.2 * absx
    lng += 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * xy + 0.1 * absx
    return lat, lng


def _delta(lng: float, lat: float) -> tuple[float, float]:
    dlat, dlng = _transform(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return dlng, dlat


def wgs_to_gcj(lng: float, lat: float) -> tuple[float, float]:
    if _out_of_china(lng, lat):
        return lng, lat
    dlng, dlat = _delta(lng, lat)
    return lng + dlng, lat + dlat


def gcj_to_wgs(lng: float, lat: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 image is ``(lng, lat)`` (iterated to ~1e-9 degrees)."""
    if _out_of_china(lng, lat):
        return lng, lat
    wlng, wlat = lng, lat
    for _ in range(30):
        glng, glat = wgs_to_gcj(wlng, wlat)
        dlng, dlat = glng - lng, glat - lat
        if abs(dlng) < 1e-10 and abs(dlat) < 1e-10:
            break
        wlng, wlat = wlng - dlng, wlat - dlat
    return wlng, wlat


def _map_coords(coords: Any, fn) -> Any:
    if coords and isinstance(coords[0], int | float):
        lng, lat = fn(float(coords[0]), float(coords[1]))
        return [round(lng, 8), round(lat, 8)]
    return [_map_coords(c, fn) for c in coords]


def to_wgs84(geometry: dict, datum: str) -> dict:
    """``geometry`` in WGS-84, converted from ``datum`` (one of ``DATUMS``)."""
    if datum not in DATUMS:
        raise ValidationFailed(f"datum is one of {', '.join(DATUMS)}", field="datum")
    if datum != "gcj02":
        return geometry
    return {**geometry, "coordinates": _map_coords(geometry["coordinates"], gcj_to_wgs)}


def _rings(geometry: dict) -> Iterable[list]:
    coords = geometry.get("coordinates")
    polygons = [coords] if geometry.get("type") == "Polygon" else coords
    for polygon in polygons or []:
        yield from polygon


def parse_polygon(geometry: Any, field: str = "polygon") -> BaseGeometry:
    """A shapely geometry for a GeoJSON Polygon or MultiPolygon, or ``VALIDATION`` saying what is wrong."""
    if not isinstance(geometry, dict) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        raise ValidationFailed("a boundary is a GeoJSON Polygon or MultiPolygon", field=field)
    try:
        rings = list(_rings(geometry))
        for ring in rings:
            if len(ring) < 4:
                raise ValidationFailed("a ring needs at least 4 positions", field=field)
            if list(ring[0]) != list(ring[-1]):
                raise ValidationFailed(
                    "a ring is not closed (its first and last positions differ)", field=field
                )
            for lng, lat, *_ in ring:
                if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                    raise ValidationFailed(f"position {lng},{lat} is not a longitude,latitude", field=field)
        geom = shape(geometry)
    except ValidationFailed:
        raise
    except (TypeError, ValueError, IndexError, AttributeError, KeyError):
        raise ValidationFailed("the coordinates are not a polygon", field=field) from None
    if geom.is_empty or not geom.is_valid:
        raise ValidationFailed(f"the polygon is not valid: {explain_validity(geom)}", field=field)
    return geom


def check_within(
    child: BaseGeometry, parent: BaseGeometry, parent_label: str, field: str = "polygon"
) -> None:
    outside = child.difference(parent).area
    if outside > CONTAINMENT_TOLERANCE * child.area:
        raise ValidationFailed(f"the polygon reaches outside {parent_label}", field=field)


def check_no_overlap(
    geom: BaseGeometry, siblings: Iterable[tuple[str, BaseGeometry]], field: str = "polygon"
) -> None:
    for label, other in siblings:
        shared = geom.intersection(other).area
        if shared > OVERLAP_TOLERANCE * min(geom.area, other.area):
            raise ValidationFailed(f"the polygon overlaps {label}", field=field)


def covering(
    point_lng: float, point_lat: float, candidates: Iterable[Any], attr: str = "polygon"
) -> list[Any]:
    """The candidates whose polygon covers the point (malformed polygons are skipped)."""
    point = Point(point_lng, point_lat)
    found = []
    for c in candidates:
        polygon = getattr(c, attr)
        if not polygon:
            continue
        try:
            if shape(polygon).covers(point):
                found.append(c)
        except (ValueError, TypeError, AttributeError, KeyError):
            continue
    return found


async def grid_at(lat: float, lng: float):
    """The innermost grid whose polygon covers the point (a point on a shared edge takes either)."""
    from zongzhi.platform.models import Grid

    hits = covering(lng, lat, await Grid.filter(polygon__isnull=False).order_by("id"))
    found = None
    for grid in hits:
        if found is None or grid.level > found.level:
            found = grid
    return found

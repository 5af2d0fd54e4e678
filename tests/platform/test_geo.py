"""Boundaries: GCJ-02 conversion and the polygon checks grids are held to."""

from __future__ import annotations

import pytest
from shapely.geometry import shape

from zongzhi.platform.base.errors import ValidationFailed
from zongzhi.platform.domain import geo


def square(x0: float, y0: float, size: float) -> dict:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_gcj02_round_trip_is_centimetre_exact_and_moves_points_inside_china():
    lng, lat = 120.15507, 30.27408  # Hangzhou, WGS-84
    glng, glat = geo.wgs_to_gcj(lng, lat)
    assert abs(glng - lng) > 0.003  # the offset is hundreds of metres
    back = geo.gcj_to_wgs(glng, glat)
    assert abs(back[0] - lng) < 1e-8 and abs(back[1] - lat) < 1e-8


def test_points_outside_china_are_not_shifted():
    assert geo.wgs_to_gcj(2.35, 48.85) == (2.35, 48.85)
    assert geo.gcj_to_wgs(2.35, 48.85) == (2.35, 48.85)


def test_a_gcj02_polygon_is_stored_in_wgs84():
    wgs = square(120.0, 30.0, 0.01)
    gcj = {"type": "Polygon", "coordinates": [[list(geo.wgs_to_gcj(x, y)) for x, y in wgs["coordinates"][0]]]}
    converted = geo.to_wgs84(gcj, "gcj02")
    for (x, y), (cx, cy) in zip(wgs["coordinates"][0], converted["coordinates"][0], strict=True):
        assert abs(x - cx) < 1e-7 and abs(y - cy) < 1e-7


@pytest.mark.parametrize(
    ("geometry", "says"),
    [
        ({"type": "Point", "coordinates": [120, 30]}, "Polygon or MultiPolygon"),
        (
            {"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120.1, 30.1], [120, 30.1]]]},
            "not closed",
        ),
        ({"type": "Polygon", "coordinates": [[[120, 30], [120.1, 30], [120, 30]]]}, "at least 4"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[120, 30], [120.1, 30.1], [120.1, 30], [120, 30.1], [120, 30]]],
            },
            "not valid",
        ),
        ({"type": "Polygon", "coordinates": [[[200, 30], [201, 30], [201, 31], [200, 30]]]}, "longitude"),
    ],
)
def test_bad_polygons_are_refused_with_the_reason(geometry, says):
    with pytest.raises(ValidationFailed) as refused:
        geo.parse_polygon(geometry)
    assert says in refused.value.message
    assert refused.value.field == "polygon"


def test_containment_and_overlap_allow_only_the_tolerance():
    parent = shape(square(120.0, 30.0, 0.1))
    geo.check_within(shape(square(120.0, 30.0, 0.05)), parent, "parent")
    with pytest.raises(ValidationFailed, match="outside parent"):
        geo.check_within(shape(square(120.08, 30.0, 0.05)), parent, "parent")
    left = shape(square(120.0, 30.0, 0.05))
    geo.check_no_overlap(shape(square(120.05, 30.0, 0.05)), [("grid L", left)])  # shares an edge
    geo.check_no_overlap(shape(square(120.0496, 30.0, 0.05)), [("grid L", left)])  # slack under 1%
    with pytest.raises(ValidationFailed, match="overlaps grid L"):
        geo.check_no_overlap(shape(square(120.04, 30.0, 0.05)), [("grid L", left)])

"""Centers, departments and grids: the territory and who works in it."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from zongzhi.platform.base.codes import CenterLevel, Residence


class Center(Model):
    """A governance center (综治中心). ``path`` is ``/<root id>/.../<own id>/`` for subtree filters."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=12, unique=True, description="统计用区划代码 (12 digits)")
    name = fields.CharField(max_length=100)
    level = fields.CharEnumField(CenterLevel, max_length=10)
    parent: fields.ForeignKeyNullableRelation[Center] = fields.ForeignKeyField(
        "models.Center", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    path = fields.CharField(max_length=255, db_index=True, default="")
    active = fields.BooleanField(default=True)
    polygon = fields.JSONField(null=True, description="GeoJSON boundary (WGS-84), if drawn")

    class Meta:
        table = "center"


class Department(Model):
    """An agency (公安, 法院, 住建, 人社, ...) that takes part in a center's work."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=40, description="公安/法院/司法/信访/人社/住建/...")

    class Meta:
        table = "department"


class CenterDepartment(Model):
    id = fields.IntField(primary_key=True)
    center: fields.ForeignKeyRelation[Center] = fields.ForeignKeyField(
        "models.Center", related_name="departments", on_delete=fields.CASCADE
    )
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="centers", on_delete=fields.CASCADE
    )
    residence = fields.CharEnumField(Residence, max_length=10)

    class Meta:
        table = "center_department"
        unique_together = (("center", "department"),)


class Grid(Model):
    """The smallest management area, under a village or community center. Grids nest."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=100)
    center: fields.ForeignKeyRelation[Center] = fields.ForeignKeyField(
        "models.Center", related_name="grids", on_delete=fields.RESTRICT
    )
    parent: fields.ForeignKeyNullableRelation[Grid] = fields.ForeignKeyField(
        "models.Grid", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    level = fields.SmallIntField(default=1)
    polygon = fields.JSONField(null=True, description="GeoJSON Polygon or MultiPolygon")
    datum = fields.CharField(
        max_length=10, default="wgs84", description="Datum the boundary arrived in (stored as WGS-84)"
    )

    class Meta:
        table = "grid"

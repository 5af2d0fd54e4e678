"""The registry in grids (入网入格): houses, units, household links, key-group tags, visits.

People are the existing ``Person``; a house links people as owners or occupants with their household
relation; cases link to houses and units as well as to people.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class House(Model):
    """A house or flat (房屋): address, building, unit, room, its grid and its use."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(
        max_length=60, unique=True, description="The county's house code (idempotent imports)"
    )
    address = fields.CharField(max_length=255)
    building = fields.CharField(max_length=40, default="")
    entrance = fields.CharField(max_length=40, default="", description="单元 (building unit / entrance)")
    room = fields.CharField(max_length=40, default="")
    grid = fields.ForeignKeyField("models.Grid", related_name="houses", on_delete=fields.RESTRICT)
    use = fields.CharField(
        max_length=20, default="residential", description="residential|rental|business|vacant|other"
    )
    lat = fields.FloatField(null=True)
    lng = fields.FloatField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "house"


class HouseMember(Model):
    """A person linked to a house: owner or occupant, with their relation to the householder (户主)."""

    id = fields.IntField(primary_key=True)
    house = fields.ForeignKeyField("models.House", related_name="members", on_delete=fields.CASCADE)
    person = fields.ForeignKeyField("models.Person", related_name="house_links", on_delete=fields.CASCADE)
    role = fields.CharField(max_length=10, description="owner|occupant|tenant")
    relation = fields.CharField(max_length=20, default="", description="户主/配偶/子女/父母/其他")

    class Meta:
        table = "house_member"
        unique_together = (("house", "person"),)


class OrgUnit(Model):
    """A unit (单位): enterprise, shop, school or organisation, with its unified social credit code."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120)
    kind = fields.CharField(max_length=20, description="enterprise|shop|school|organisation|other")
    credit_code = fields.CharField(max_length=18, unique=True, description="统一社会信用代码 (18 characters)")
    address = fields.CharField(max_length=255, default="")
    grid = fields.ForeignKeyField("models.Grid", related_name="org_units", on_delete=fields.RESTRICT)
    contact_name = fields.CharField(max_length=60, default="")
    contact_phone_enc = fields.TextField(null=True)
    contact_phone_hash = fields.CharField(max_length=64, null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "org_unit"


class PersonTag(Model):
    """A key-group tag (重点人群: 独居老人, 重点人员, ...) on a person, visible only to the tag's roles."""

    id = fields.IntField(primary_key=True)
    person = fields.ForeignKeyField("models.Person", related_name="key_tags", on_delete=fields.CASCADE)
    tag = fields.CharField(max_length=30)
    note = fields.CharField(max_length=255, default="")
    created_by = fields.ForeignKeyField("models.User", related_name="+", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "person_tag"
        unique_together = (("person", "tag"),)


class CaseLink(Model):
    """A case's link to a house or a unit (people are linked as parties)."""

    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="registry_links", on_delete=fields.CASCADE)
    house = fields.ForeignKeyField(
        "models.House", related_name="case_links", null=True, on_delete=fields.CASCADE
    )
    org_unit = fields.ForeignKeyField(
        "models.OrgUnit", related_name="case_links", null=True, on_delete=fields.CASCADE
    )

    class Meta:
        table = "case_link"


class Visit(Model):
    """A grid worker's visit (民情日记): who, when, where, what was found, and the case it became."""

    id = fields.IntField(primary_key=True)
    worker = fields.ForeignKeyField("models.User", related_name="visits", on_delete=fields.RESTRICT)
    grid = fields.ForeignKeyField("models.Grid", related_name="visits", on_delete=fields.RESTRICT)
    at = fields.DatetimeField(db_index=True)
    house = fields.ForeignKeyField(
        "models.House", related_name="visits", null=True, on_delete=fields.SET_NULL
    )
    person = fields.ForeignKeyField(
        "models.Person", related_name="visits", null=True, on_delete=fields.SET_NULL
    )
    findings = fields.TextField(default="")
    case = fields.ForeignKeyField("models.Case", related_name="visits", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "visit"

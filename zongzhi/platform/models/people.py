"""People (residents who are parties to cases) and accounts (who uses the system)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Person(Model):
    """A resident. ID and phone numbers are stored encrypted with a keyed hash for lookup."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=60, db_index=True)
    id_number_enc = fields.TextField(null=True)
    id_number_hash = fields.CharField(max_length=64, null=True, unique=True)
    phone_enc = fields.TextField(null=True)
    phone_hash = fields.CharField(max_length=64, null=True, db_index=True)
    address = fields.CharField(max_length=255, default="")
    grid = fields.ForeignKeyField("models.Grid", related_name="people", null=True, on_delete=fields.SET_NULL)
    tags = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "person"


class User(Model):
    """An account. ``center`` is its scope, partners carry the plugin they may reach."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=60, unique=True)
    display_name = fields.CharField(max_length=60)
    roles = fields.JSONField(default=list)
    center = fields.ForeignKeyField(
        "models.Center", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    department = fields.ForeignKeyField(
        "models.Department", related_name="users", null=True, on_delete=fields.RESTRICT
    )
    specialties = fields.JSONField(default=list, description="mediator specialties (category codes)")
    title = fields.CharField(max_length=60, default="")
    plugin = fields.CharField(max_length=60, null=True, description="partner accounts: their plugin")
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user"


class ApiToken(Model):
    """An opaque bearer token, stored only as its SHA-256."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=12)
    name = fields.CharField(max_length=60, default="")
    user = fields.ForeignKeyField("models.User", related_name="tokens", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_token"


class UserGrid(Model):
    """A grid that a grid worker covers."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="grid_links", on_delete=fields.CASCADE)
    grid = fields.ForeignKeyField("models.Grid", related_name="worker_links", on_delete=fields.CASCADE)

    class Meta:
        table = "user_grid"
        unique_together = (("user", "grid"),)

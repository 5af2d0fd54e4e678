"""Evidence files kept in object storage, and every access to them."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Evidence(Model):
    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="evidence", on_delete=fields.RESTRICT)
    key = fields.CharField(max_length=400, unique=True)
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=120)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    uploaded_by = fields.ForeignKeyField("models.User", related_name="evidence", null=True)
    status = fields.CharField(max_length=10, default="pending", description="pending|stored|withdrawn")
    multipart_upload_id = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    stored_at = fields.DatetimeField(null=True)

    class Meta:
        table = "evidence"


class EvidenceAccess(Model):
    id = fields.BigIntField(primary_key=True)
    evidence = fields.ForeignKeyField("models.Evidence", related_name="accesses", on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("models.User", related_name="evidence_accesses", null=True)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "evidence_access"

"""Evidence files kept in object storage, and every access to them."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


# ``key`` is the final object, which no upload link ever names: clients upload to ``staging_key`` and
# confirmation moves the checked bytes to ``key``; ``version_id`` pins the store version downloads
# serve. ``status`` is pending, confirming (being checked, for a moment), stored or withdrawn.
class Evidence(Model):
    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="evidence", on_delete=fields.RESTRICT)
    key = fields.CharField(max_length=400, unique=True)
    staging_key = fields.CharField(
        max_length=400, null=True, description="Where the client uploads before confirmation"
    )
    version_id = fields.CharField(
        max_length=200, null=True, description="Store version of the confirmed object, served by downloads"
    )
    claimed_at = fields.DatetimeField(
        null=True, description="When a confirmation began checking the upload (a stale claim is taken over)"
    )
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

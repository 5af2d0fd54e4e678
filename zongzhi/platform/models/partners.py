"""Partner agencies' credentials, the data their plugins keep on cases, and outbound deliveries."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class PartnerCredential(Model):
    """A partner's signing secret for one plugin's endpoints (stored encrypted, rotated by an admin)."""

    id = fields.IntField(primary_key=True)
    plugin = fields.CharField(max_length=60, db_index=True)
    name = fields.CharField(max_length=100, description="e.g. 示范县人民法院")
    key_id = fields.CharField(max_length=40, unique=True)
    secret_enc = fields.TextField()
    callback_url = fields.CharField(max_length=500, default="")
    center = fields.ForeignKeyField("models.Center", related_name="partners", null=True)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    rotated_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "partner_credential"


class PartnerRecord(Model):
    """What a docking plugin keeps about a case (court referral, 110 incident, petition item)."""

    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="partner_records", on_delete=fields.CASCADE)
    plugin = fields.CharField(max_length=60)
    credential = fields.ForeignKeyField("models.PartnerCredential", related_name="records", null=True)
    data = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "partner_record"
        unique_together = (("case", "plugin"),)


class Delivery(Model):
    """One outbound message to a partner's callback URL, retried with backoff until sent or failed."""

    id = fields.BigIntField(primary_key=True)
    plugin = fields.CharField(max_length=60, db_index=True)
    credential = fields.ForeignKeyField("models.PartnerCredential", related_name="deliveries")
    case = fields.ForeignKeyField("models.Case", related_name="deliveries", null=True)
    event = fields.ForeignKeyField("models.CaseEvent", related_name="deliveries", null=True)
    kind = fields.CharField(max_length=60)
    payload = fields.JSONField(default=dict)
    status = fields.CharField(max_length=10, default="pending", description="pending|sent|failed")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delivery"
        unique_together = (("event", "credential", "kind"),)


class DeliveryAttempt(Model):
    id = fields.BigIntField(primary_key=True)
    delivery = fields.ForeignKeyField("models.Delivery", related_name="attempt_log", on_delete=fields.CASCADE)
    at = fields.DatetimeField(auto_now_add=True)
    status_code = fields.IntField(null=True)
    error = fields.TextField(default="")
    duration_ms = fields.IntField(default=0)

    class Meta:
        table = "delivery_attempt"

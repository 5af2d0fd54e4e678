"""Outbox, audit log and notifications: the platform's own bookkeeping."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Outbox(Model):
    """A message committed with the change that caused it, published after commit (DESIGN.md §5)."""

    id = fields.BigIntField(primary_key=True)
    event = fields.ForeignKeyField("models.CaseEvent", related_name="outbox", null=True)
    topic = fields.CharField(max_length=60)
    payload = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    published_at = fields.DatetimeField(null=True, db_index=True)
    processed_at = fields.DatetimeField(null=True, db_index=True, description="handled by its consumer")
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(default="")

    class Meta:
        table = "outbox"


class AuditLog(Model):
    """Administrative acts and sensitive reads (who saw a full ID number, who downloaded evidence)."""

    id = fields.BigIntField(primary_key=True)
    actor = fields.ForeignKeyField("models.User", related_name="audit", null=True, on_delete=fields.SET_NULL)
    action = fields.CharField(max_length=60)
    target = fields.CharField(max_length=120)
    details = fields.JSONField(default=dict)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_log"


class Notification(Model):
    """A message to a user or to everyone with a role at a center (rule action ``notify``)."""

    id = fields.BigIntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="notifications", null=True)
    user = fields.ForeignKeyField("models.User", related_name="notifications", null=True)
    role = fields.CharField(max_length=20, null=True)
    center = fields.ForeignKeyField("models.Center", related_name="notifications", null=True)
    message = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"

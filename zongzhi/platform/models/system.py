"""Outbox, audit log and notifications: the platform's own bookkeeping."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
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
        # A worker's message asks whether its event's row still waits: without this, a scan of the
        # whole outbox per message.
        indexes = (Index(fields=("event_id", "processed_at")),)


class AuditLog(Model):
    """Administrative acts and sensitive reads (who saw a full ID number, who downloaded evidence)."""

    id = fields.BigIntField(primary_key=True)
    actor = fields.ForeignKeyField("models.User", related_name="audit", null=True, on_delete=fields.SET_NULL)
    action = fields.CharField(max_length=60)
    target = fields.CharField(max_length=120)
    details = fields.JSONField(default=dict)
    at = fields.DatetimeField(auto_now_add=True)
    seq = fields.BigIntField(
        null=True,
        unique=True,
        description="Position in the hash chain (null: written before the chain began)",
    )
    prev_hash = fields.CharField(max_length=64, default="", description="The previous row's hash")
    hash = fields.CharField(max_length=64, default="", description="HMAC-SHA256 of this row and prev_hash")

    class Meta:
        table = "audit_log"

    async def save(self, using_db=None, update_fields=None, force_create=False, force_update=False) -> None:
        """A new row is appended to the hash chain (``zongzhi.platform.domain.audit``), an old one never
        changes."""
        if self._saved_in_db or force_update or update_fields:
            raise TypeError("audit log rows are append-only")
        from zongzhi.platform.domain.audit import append_row

        await append_row(self, using_db)

    async def _insert(self, using_db) -> None:
        """The plain INSERT, for ``append_row`` once the row's place in the chain is fixed."""
        await Model.save(self, using_db=using_db, force_create=True)


class AuditSubject(Model):
    """Whom or what an audit row concerns (a person, a case), so the log can be searched by them.

    Derived from the row when it is written. The row's own details, which the hash covers, stay the
    record of truth.
    """

    id = fields.BigIntField(primary_key=True)
    entry = fields.ForeignKeyField("models.AuditLog", related_name="subjects", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=10, description="person or case")
    ref = fields.BigIntField(description="The person's or case's id")

    class Meta:
        table = "audit_subject"
        indexes = (("kind", "ref"),)


class AuditChainHead(Model):
    """The last link of the audit chain (one row, id 1). Every append locks it, so appends are serial."""

    id = fields.IntField(primary_key=True)
    seq = fields.BigIntField(default=0)
    hash = fields.CharField(max_length=64, default="")
    mac = fields.CharField(max_length=64, default="", description="HMAC of seq and hash, against rewinding")

    class Meta:
        table = "audit_chain_head"


class Notification(Model):
    """A message to a user or to everyone with a role at a center (the inbox, services.inbox)."""

    id = fields.BigIntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="notifications", null=True)
    user = fields.ForeignKeyField("models.User", related_name="notifications", null=True)
    role = fields.CharField(max_length=20, null=True)
    center = fields.ForeignKeyField("models.Center", related_name="notifications", null=True)
    kind = fields.CharField(
        max_length=20, default="rule", description="rule|overdue|supervision|whistle|returned"
    )
    message = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True, description="read by its user (a role's: see NotificationRead)")

    class Meta:
        table = "notification"
        indexes = (Index(fields=("user_id", "id")), Index(fields=("center_id", "role", "id")))


class NotificationRead(Model):
    """One reader of a notification sent to a role: each of the role's users reads it on their own."""

    id = fields.BigIntField(primary_key=True)
    notification = fields.ForeignKeyField(
        "models.Notification", related_name="reads", on_delete=fields.CASCADE
    )
    user = fields.ForeignKeyField("models.User", related_name="notification_reads", on_delete=fields.CASCADE)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification_read"
        unique_together = (("notification", "user"),)

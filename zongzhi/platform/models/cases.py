"""Cases and everything that hangs off one: parties, timeline, assignments, follow-ups."""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from zongzhi.platform.base.codes import AssignmentMode, CaseStatus, FollowUpMethod, PartyRole, Risk, UnitKind

#: The columns the case list filters a jurisdiction on (schema.queries.CaseFilter, jurisdiction).
LIST_FILTERS = ("status", "category", "channel", "kind", "risk", "grid_id", "created_by_id", "resolve_by")


class Case(Model):
    """One dispute, complaint or hazard. ``center_path`` copies the owner's path for subtree filters."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=40, unique=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    category = fields.CharField(max_length=40)
    kind = fields.CharField(max_length=20)
    channel = fields.CharField(max_length=20)
    severity = fields.SmallIntField(default=2)
    complexity = fields.CharField(max_length=10, default="simple", description="simple|complex|difficult")
    risk = fields.CharEnumField(Risk, max_length=10, default=Risk.none)
    status = fields.CharEnumField(CaseStatus, max_length=12, default=CaseStatus.received)
    center = fields.ForeignKeyField("models.Center", related_name="cases", on_delete=fields.RESTRICT)
    center_path = fields.CharField(max_length=255)
    grid = fields.ForeignKeyField("models.Grid", related_name="cases", null=True, on_delete=fields.SET_NULL)
    lat = fields.FloatField(null=True)
    lng = fields.FloatField(null=True)
    address = fields.CharField(max_length=255, default="")
    tags = fields.JSONField(default=list)
    external_channel = fields.CharField(max_length=20, null=True)
    external_id = fields.CharField(max_length=80, null=True)
    created_by = fields.ForeignKeyField("models.User", related_name="created_cases", null=True)
    client_request_id = fields.CharField(max_length=80, null=True)
    respond_by = fields.DatetimeField(null=True)
    resolve_by = fields.DatetimeField(null=True)
    warn_at = fields.DatetimeField(null=True, description="when the deadline warning is due")
    warned_at = fields.DatetimeField(null=True, description="warning emitted for the current deadline")
    overdue_at = fields.DatetimeField(null=True, description="overdue emitted for the current deadline")
    deadline_note = fields.CharField(max_length=200, default="", description="e.g. calendar fallback")
    followup_due = fields.DatetimeField(null=True)
    outcome = fields.TextField(default="")
    agreement = fields.TextField(default="")
    amount = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    satisfaction = fields.SmallIntField(null=True)
    executed = fields.BooleanField(null=True, description="执行到位")
    reject_reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    accepted_at = fields.DatetimeField(null=True)
    concluded_at = fields.DatetimeField(null=True, description="resolved or failed")
    closed_at = fields.DatetimeField(null=True)
    last_event_id = fields.BigIntField(null=True)

    class Meta:
        table = "case"
        unique_together = (("external_channel", "external_id"), ("created_by", "client_request_id"))
        # The case list reads a large subtree newest first along (created_at, id) and a small one
        # along center_path, and counts it along center_path: both indexes carry every column the
        # list filters on, so a page's keys and a count come from the index alone, however few
        # cases the filter keeps (reading each table row to test it took up to 470 ms a page).
        indexes = (
            Index(fields=("center_path", "status", "created_at")),
            Index(fields=("center_path", "created_at", "id", *LIST_FILTERS)),
            Index(fields=("created_at", "id", "center_path", *LIST_FILTERS)),
            Index(fields=("grid_id", "created_at")),
            Index(fields=("status", "resolve_by")),
            Index(fields=("warn_at",)),
            # address.cases_90d (repeat disputes at one address) on every received case.
            Index(fields=("address", "created_at")),
            # The list's other orders (orderBy): a subtree's cases along each sort key.
            Index(fields=("center_path", "updated_at", "id")),
            Index(fields=("center_path", "resolve_by", "id")),
            Index(fields=("center_path", "severity", "id")),
        )


class CaseParty(Model):
    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="parties", on_delete=fields.CASCADE)
    person = fields.ForeignKeyField("models.Person", related_name="parties", on_delete=fields.RESTRICT)
    role = fields.CharEnumField(PartyRole, max_length=12)
    blind = fields.BooleanField(
        default=False,
        description="linked by an ID number whose record the filer could not see: the party shows it masked",
    )

    class Meta:
        table = "case_party"
        unique_together = (("case", "person", "role"),)
        # The repeat-dispute facts (party.prior_cases_90d, same_pair_cases_90d) look parties up by
        # person on every received case; without this each lookup read the whole table.
        indexes = (Index(fields=("person_id", "case_id")),)


class CaseEvent(Model):
    """An append-only fact about a case. The timeline, the statistics and the rules read these."""

    id = fields.BigIntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="events", on_delete=fields.CASCADE)
    type = fields.CharField(max_length=40)
    actor = fields.ForeignKeyField("models.User", related_name="events", null=True, on_delete=fields.SET_NULL)
    actor_label = fields.CharField(max_length=120, default="", description="who acted when not a user")
    payload = fields.JSONField(default=dict)
    cause = fields.ForeignKeyField(
        "models.CaseEvent", related_name="consequences", null=True, on_delete=fields.SET_NULL
    )
    depth = fields.SmallIntField(default=0, description="rule-chain depth: 0 for human actions")
    rule = fields.CharField(max_length=200, null=True, description="<ruleset>/<rule id> that caused it")
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "case_event"
        indexes = (Index(fields=("case_id", "at")), Index(fields=("type", "at")))


class Assignment(Model):
    """A unit (center, department or person) given a case, and how it took it."""

    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="assignments", on_delete=fields.CASCADE)
    unit_kind = fields.CharEnumField(UnitKind, max_length=12)
    center = fields.ForeignKeyField("models.Center", related_name="assignments", null=True)
    department = fields.ForeignKeyField("models.Department", related_name="assignments", null=True)
    user = fields.ForeignKeyField("models.User", related_name="assignments", null=True)
    mode = fields.CharEnumField(AssignmentMode, max_length=10)
    lead = fields.BooleanField(default=True)
    due = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    accepted_at = fields.DatetimeField(null=True)
    returned_at = fields.DatetimeField(null=True)
    return_reason = fields.TextField(default="")
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "assignment"
        indexes = (
            Index(fields=("department_id", "case_id")),
            Index(fields=("user_id", "case_id")),
            # Every lifecycle step reads the case's active assignments.
            Index(fields=("case_id",)),
        )


class FollowUp(Model):
    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="followups", on_delete=fields.CASCADE)
    method = fields.CharEnumField(FollowUpMethod, max_length=10)
    satisfaction = fields.SmallIntField()
    executed = fields.BooleanField(description="agreement carried out (执行到位)")
    note = fields.TextField(default="")
    by = fields.ForeignKeyField("models.User", related_name="followups", null=True)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "follow_up"
        indexes = (Index(fields=("case_id",)),)


class CaseCounter(Model):
    """The per-county, per-day sequence behind case numbers ``ZZ-<county>-<yyyymmdd>-<seq>``."""

    id = fields.IntField(primary_key=True)
    scope = fields.CharField(max_length=24, unique=True, description="<county code>-<yyyymmdd>")
    seq = fields.IntField(default=0)

    class Meta:
        table = "case_counter"


class Whistle(Model):
    """吹哨报到: a department summoned to a case, with the time by which it must report."""

    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="whistles", on_delete=fields.CASCADE)
    department = fields.ForeignKeyField("models.Department", related_name="whistles")
    due = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    answered_at = fields.DatetimeField(null=True)
    answer = fields.TextField(default="")
    unanswered_emitted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "whistle"

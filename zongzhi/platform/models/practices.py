"""The seeds' practices: scheduled sweeps (排查/研判), assessment (积分制考核), mediators (点单), citizens.

Each table is read and written only by its service module (``services.sweeps``, ``services.assessment``,
``services.mediators``, ``services.citizens``).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SweepSchedule(Model):
    """A county's sweep cycle for one center level (村组一周一排查 ... 县级一季一调度研判).

    ``form`` is the checklist the county defines, a list of items with key, label, kind, required
    and attachments. ``covers`` is center (one task per center of the level) or grid (one per grid).
    """

    id = fields.IntField(primary_key=True)
    county = fields.ForeignKeyField("models.Center", related_name="sweep_schedules", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=100)
    kind = fields.CharField(max_length=10, default="sweep", description="sweep (排查) or analysis (研判)")
    level = fields.CharField(max_length=10, description="center level the schedule covers")
    covers = fields.CharField(max_length=10, default="center", description="center or grid")
    cadence = fields.CharField(max_length=12, description="weekly, fortnightly, monthly or quarterly")
    due_working_days = fields.SmallIntField(default=3, description="working days after the period starts")
    form = fields.JSONField(default=list)
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sweep_schedule"


class SweepTask(Model):
    """One center's or grid's sweep for one period. Unique per schedule, target and period."""

    id = fields.IntField(primary_key=True)
    schedule = fields.ForeignKeyField("models.SweepSchedule", related_name="tasks", on_delete=fields.CASCADE)
    target = fields.CharField(max_length=24, description="c<center id> or g<grid id>")
    center = fields.ForeignKeyField("models.Center", related_name="sweep_tasks", on_delete=fields.CASCADE)
    center_path = fields.CharField(max_length=255)
    grid = fields.ForeignKeyField(
        "models.Grid", related_name="sweep_tasks", null=True, on_delete=fields.CASCADE
    )
    period = fields.CharField(max_length=16, description="e.g. 2026-W41, 2026-F20, 2026-10, 2026-Q4")
    period_start = fields.DateField()
    due_at = fields.DatetimeField()
    status = fields.CharField(max_length=10, default="open", description="open or done")
    answers = fields.JSONField(default=dict)
    findings = fields.JSONField(default=list, description="what the sweep found, each may become a case")
    done_by = fields.ForeignKeyField("models.User", related_name="sweep_tasks_done", null=True)
    done_at = fields.DatetimeField(null=True)
    overdue_notified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sweep_task"
        unique_together = (("schedule", "target", "period"),)


class AnalysisMeeting(Model):
    """研判会: an analysis meeting's conclusions and the cases and risks it discussed."""

    id = fields.IntField(primary_key=True)
    center = fields.ForeignKeyField(
        "models.Center", related_name="analysis_meetings", on_delete=fields.CASCADE
    )
    task = fields.ForeignKeyField(
        "models.SweepTask", related_name="meetings", null=True, on_delete=fields.SET_NULL
    )
    held_on = fields.DateField()
    title = fields.CharField(max_length=200)
    conclusions = fields.TextField()
    case_ids = fields.JSONField(default=list)
    risks = fields.JSONField(default=list)
    recorded_by = fields.ForeignKeyField("models.User", related_name="analysis_meetings", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "analysis_meeting"


class AssessmentConfig(Model):
    """A county's 积分制考核 rules: points per event kind and the weights of the shares."""

    id = fields.IntField(primary_key=True)
    county = fields.OneToOneField("models.Center", related_name="assessment_config", on_delete=fields.CASCADE)
    points = fields.JSONField(default=dict)
    center_weight = fields.FloatField(default=0.6)
    home_weight = fields.FloatField(default=0.4)
    township_share = fields.FloatField(default=0.3)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "assessment_config"


class HomeUnitScore(Model):
    """The home unit's score of a stationed person for a period, entered by its assessor."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="home_scores", on_delete=fields.CASCADE)
    period = fields.CharField(max_length=16)
    score = fields.FloatField()
    note = fields.TextField(default="")
    assessor = fields.ForeignKeyField("models.User", related_name="home_scores_given", null=True)
    at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "home_unit_score"
        unique_together = (("user", "period"),)


class MediatorProfile(Model):
    """调解员 on the wall: specialties, organisation, photo, availability (figures come from events)."""

    id = fields.IntField(primary_key=True)
    user = fields.OneToOneField("models.User", related_name="mediator_profile", on_delete=fields.CASCADE)
    organisation = fields.CharField(max_length=120, default="")
    org_kind = fields.CharField(max_length=20, default="committee", description="committee|lawyer|other")
    specialties = fields.JSONField(default=list)
    intro = fields.TextField(default="")
    contact = fields.CharField(max_length=60, default="", description="public contact (an office line)")
    photo_key = fields.CharField(max_length=400, null=True)
    photo_type = fields.CharField(max_length=60, null=True)
    available = fields.BooleanField(default=True)
    listed = fields.BooleanField(default=True, description="shown on the public wall")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "mediator_profile"


class MediatorChoice(Model):
    """点单: a case asks for a mediator, who accepts or declines with a reason."""

    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("models.Case", related_name="mediator_choices", on_delete=fields.CASCADE)
    mediator = fields.ForeignKeyField("models.User", related_name="mediator_choices")
    source = fields.CharField(max_length=10, description="window or citizen")
    status = fields.CharField(max_length=10, default="requested", description="requested|accepted|declined")
    reason = fields.TextField(default="")
    requested_by = fields.ForeignKeyField("models.User", related_name="mediator_choices_made", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mediator_choice"


class CitizenReport(Model):
    """群众端口 / 随手拍: a citizen's report, held for staff review before it becomes a case."""

    id = fields.IntField(primary_key=True)
    tracking = fields.CharField(max_length=24, unique=True)
    center = fields.ForeignKeyField("models.Center", related_name="citizen_reports", on_delete=fields.CASCADE)
    phone_hash = fields.CharField(max_length=64, db_index=True)
    phone_enc = fields.TextField()
    client_address = fields.CharField(max_length=64, default="", db_index=True)
    category = fields.CharField(max_length=40)
    description = fields.TextField()
    lat = fields.FloatField(null=True)
    lng = fields.FloatField(null=True)
    address = fields.CharField(max_length=255, default="")
    photos = fields.JSONField(default=list)
    status = fields.CharField(max_length=10, default="held", description="held|accepted|rejected")
    reject_reason = fields.TextField(default="")
    case = fields.ForeignKeyField("models.Case", related_name="citizen_reports", null=True)
    reviewed_by = fields.ForeignKeyField("models.User", related_name="citizen_reviews", null=True)
    rating = fields.SmallIntField(null=True)
    rating_note = fields.TextField(default="")
    mediator = fields.ForeignKeyField("models.User", related_name="citizen_requests", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "citizen_report"


class CitizenCode(Model):
    """A one-time code sent to a phone, which then gets a short-lived signed session token."""

    id = fields.IntField(primary_key=True)
    phone_hash = fields.CharField(max_length=64, db_index=True)
    code_hash = fields.CharField(max_length=64)
    client_address = fields.CharField(max_length=64, default="")
    attempts = fields.SmallIntField(default=0)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "citizen_code"

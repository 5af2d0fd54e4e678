"""Rulesets, their versions, the decisions they made, and the working-day calendar they use."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Ruleset(Model):
    """A named policy. Its ``center`` owns it: only rule authors of that center's subtree change it.

    No center means the root of the center tree (the county): ``core`` and plugins' rulesets.
    Every active version applies to every event whichever center owns the ruleset.
    """

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=80, unique=True)
    owner_plugin = fields.CharField(max_length=60, null=True)
    center = fields.ForeignKeyField(
        "models.Center", related_name="rulesets", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    enabled = fields.BooleanField(default=True, description="off: its active version is not evaluated")

    class Meta:
        table = "ruleset"


class RulesetVersion(Model):
    id = fields.IntField(primary_key=True)
    ruleset = fields.ForeignKeyField("models.Ruleset", related_name="versions", on_delete=fields.CASCADE)
    version = fields.IntField()
    source = fields.TextField()
    compiled = fields.JSONField()
    status = fields.CharField(max_length=10, default="draft", description="draft|active|retired")
    author = fields.ForeignKeyField("models.User", related_name="ruleset_versions", null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    activated_at = fields.DatetimeField(null=True)
    activated_by = fields.ForeignKeyField(
        "models.User",
        related_name="ruleset_activations",
        null=True,
        on_delete=fields.SET_NULL,
        description="who activated it last",
    )
    activation_reason = fields.TextField(default="", description="why it was activated last")

    class Meta:
        table = "ruleset_version"
        unique_together = (("ruleset", "version"),)


class Decision(Model):
    """One action of one rule fired on one event, unique so a re-delivered event changes nothing."""

    id = fields.BigIntField(primary_key=True)
    event = fields.ForeignKeyField("models.CaseEvent", related_name="decisions", on_delete=fields.CASCADE)
    case = fields.ForeignKeyField("models.Case", related_name="decisions", on_delete=fields.CASCADE)
    ruleset = fields.CharField(max_length=80)
    version = fields.IntField()
    rule_id = fields.CharField(max_length=120)
    action_index = fields.SmallIntField()
    action = fields.CharField(max_length=40)
    params = fields.JSONField(default=dict)
    outcome = fields.CharField(max_length=10, default="ok", description="ok|error|skipped")
    error = fields.TextField(default="")
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "decision"
        unique_together = (("event", "ruleset", "version", "rule_id", "action_index"),)


class CalendarDay(Model):
    """An official or local exception to Monday–Friday: a holiday or a make-up workday (调休).

    Rows with no center are the national calendar an admin loaded; they win over the
    ``chinese-calendar`` package. Rows with a center are that center's local closures.
    """

    id = fields.IntField(primary_key=True)
    day = fields.DateField()
    workday = fields.BooleanField()
    center = fields.ForeignKeyField("models.Center", related_name="calendar_days", null=True)
    note = fields.CharField(max_length=60, default="")
    festival = fields.CharField(
        max_length=40, null=True, description="the festival whose official holiday begins on this day"
    )

    class Meta:
        table = "calendar_day"
        unique_together = (("day", "center"),)

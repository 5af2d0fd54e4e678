"""Scheduled sweeps (排查) and analysis cycles (研判).

The seeds' rhythm (S1): 村组一周一排查、村委会（社区）半月一排查、乡镇一月一分析研判、县级一季一调度研判.
A county defines a schedule per center level with a checklist form; ``tick`` (run by beat) creates
one task per covered center or grid for the current period, at most once: the row is unique on
(schedule, target, period) and inserted with ``ON CONFLICT DO NOTHING``, so a restart or a second
beat process creates nothing more. Tasks still open after their due time notify the level above
(a ``Notification`` row for the parent center's leaders) exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from zongzhi.platform.base.codes import CenterLevel, Role
from zongzhi.platform.base.errors import Forbidden, NotFound, ValidationFailed
from zongzhi.platform.domain.actor import Actor
from zongzhi.platform.domain.jurisdiction import center_in_scope
from zongzhi.platform.domain.workdays import CHINA, WorkCalendar
from zongzhi.platform.models import AnalysisMeeting, Center, Grid, Notification, SweepSchedule, SweepTask
from zongzhi.platform.services.outbox import change

CADENCES = ("weekly", "fortnightly", "monthly", "quarterly")
KINDS = ("sweep", "analysis")
ITEM_KINDS = ("text", "number", "boolean", "choice")
ATTACHMENTS = ("none", "optional", "required")
#: The seeds' defaults (S1), by (level, covers): 村组 (grids) weekly, 村委会 (the village center)
#: fortnightly, township monthly, county quarterly.
SEED_CADENCE = {
    ("village", "grid"): "weekly",
    ("village", "center"): "fortnightly",
    ("township", "center"): "monthly",
    ("county", "center"): "quarterly",
}
SCHEDULE_ROLES = (Role.staff, Role.leader, Role.admin)
RESULT_ROLES = (Role.staff, Role.leader, Role.grid_worker, Role.mediator, Role.admin)
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


def now() -> datetime:
    return datetime.now(UTC)


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPeriod:
    key: str
    start: date
    end: date  # exclusive


def period_of(cadence: str, day: date) -> SweepPeriod:
    """The period of ``cadence`` that holds ``day`` (China date). Fortnights pair ISO weeks 1-2, 3-4, ..."""
    if cadence == "weekly":
        y, w, _ = day.isocalendar()
        start = date.fromisocalendar(y, w, 1)
        return SweepPeriod(f"{y}-W{w:02d}", start, start + timedelta(days=7))
    if cadence == "fortnightly":
        y, w, _ = day.isocalendar()
        f = (w + 1) // 2
        start = date.fromisocalendar(y, 2 * f - 1, 1)
        end = start + timedelta(days=14)
        if end.isocalendar()[0] != y:  # the year's 53rd week is a fortnight of one week
            end = date.fromisocalendar(end.isocalendar()[0], 1, 1)
        return SweepPeriod(f"{y}-F{f:02d}", start, end)
    if cadence == "monthly":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return SweepPeriod(f"{day.year}-{day.month:02d}", start, end)
    if cadence == "quarterly":
        q = (day.month - 1) // 3 + 1
        start = date(day.year, 3 * q - 2, 1)
        end = date(day.year + 1, 1, 1) if q == 4 else date(day.year, 3 * q + 1, 1)
        return SweepPeriod(f"{day.year}-Q{q}", start, end)
    raise ValidationFailed(f"cadence is one of {', '.join(CADENCES)}", field="cadence")


async def due_of(period: SweepPeriod, working_days: int, center_ids: list[int]) -> datetime:
    """End of the ``working_days``-th working day of the period; 0: its last working day."""
    calendar = await WorkCalendar.load(period.start, period.end, center_ids)
    days = [period.start + timedelta(days=i) for i in range((period.end - period.start).days)]
    workdays = [d for d in days if calendar.is_workday(d)] or days
    day = workdays[-1] if working_days <= 0 else workdays[min(working_days, len(workdays)) - 1]
    return datetime.combine(day, time(23, 59, 59), CHINA).astimezone(UTC)


# --- schedules -------------------------------------------------------------------------------


def validate_form(form: list[dict]) -> list[dict]:
    if not isinstance(form, list) or not form:
        raise ValidationFailed("a form has at least one item", field="form")
    keys: set[str] = set()
    clean = []
    for i, item in enumerate(form):
        f = f"form[{i}]"
        key = str(item.get("key") or "").strip()
        if not key or not key.replace("_", "").isalnum() or len(key) > 40:
            raise ValidationFailed("an item key is a short identifier", field=f"{f}.key")
        if key in keys:
            raise ValidationFailed(f"item key {key!r} appears twice", field=f"{f}.key")
        keys.add(key)
        label = str(item.get("label") or "").strip()
        if not label:
            raise ValidationFailed("an item needs a label", field=f"{f}.label")
        kind = item.get("kind", "text")
        if kind not in ITEM_KINDS:
            raise ValidationFailed(f"kind is one of {', '.join(ITEM_KINDS)}", field=f"{f}.kind")
        options = [str(o) for o in item.get("options") or []]
        if kind == "choice" and not options:
            raise ValidationFailed("a choice item lists its options", field=f"{f}.options")
        attachments = item.get("attachments", "none")
        if attachments not in ATTACHMENTS:
            raise ValidationFailed(
                f"attachments is one of {', '.join(ATTACHMENTS)}", field=f"{f}.attachments"
            )
        clean.append(
            {
                "key": key,
                "label": label,
                "kind": kind,
                "required": bool(item.get("required", False)),
                "options": options,
                "attachments": attachments,
            }
        )
    return clean


async def county_of(actor: Actor, county_id: int | None, *, read: bool = False) -> Center:
    """The county whose schedules are meant (default: the actor's own or the one above them).

    Changing needs the county in the actor's jurisdiction; reading (``read``) is also allowed to
    those below it, who do the sweeps.
    """
    center_id = county_id or actor.center_id
    county = await Center.get_or_none(id=center_id) if center_id else None
    if county is not None and county_id is None and county.level != CenterLevel.county:
        ids = [int(x) for x in county.path.strip("/").split("/") if x]
        county = await Center.filter(id__in=ids, level=CenterLevel.county).first()
    if county is None:
        raise ValidationFailed("name the county", field="countyId")
    below = bool(actor.center_path and actor.center_path.startswith(county.path))
    if not center_in_scope(actor, county.path) and not (read and below):
        raise Forbidden("that center is outside your jurisdiction", field="countyId")
    if county.level != CenterLevel.county:
        raise ValidationFailed("schedules are defined by a county center", field="countyId")
    return county


async def save_schedule(
    actor: Actor,
    *,
    name: str,
    level: str,
    cadence: str | None = None,
    form: list[dict],
    kind: str = "sweep",
    covers: str = "center",
    due_working_days: int = 3,
    county_id: int | None = None,
    schedule_id: int | None = None,
    active: bool = True,
) -> SweepSchedule:
    """Create or change a schedule. ``cadence`` defaults to the seeds' rhythm for the level."""
    if not actor.has(*SCHEDULE_ROLES):
        raise Forbidden("defining sweep schedules needs county staff")
    if not name or not name.strip() or len(name) > 100:
        raise ValidationFailed("a schedule needs a name of at most 100 characters", field="name")
    if level not in {str(x) for x in CenterLevel}:
        raise ValidationFailed("unknown center level", field="level")
    cadence = cadence or SEED_CADENCE.get((level, covers), "monthly")
    if cadence not in CADENCES:
        raise ValidationFailed(f"cadence is one of {', '.join(CADENCES)}", field="cadence")
    if kind not in KINDS:
        raise ValidationFailed("kind is sweep or analysis", field="kind")
    if covers not in ("center", "grid"):
        raise ValidationFailed("covers is center or grid", field="covers")
    if covers == "grid" and level != "village":
        raise ValidationFailed("grids lie under village centers", field="covers")
    if not 0 <= due_working_days <= 60:
        raise ValidationFailed("dueWorkingDays is 0 to 60", field="dueWorkingDays")
    clean = validate_form(form)
    county = await county_of(actor, county_id)
    values = dict(
        county=county,
        name=name.strip(),
        level=level,
        cadence=cadence,
        form=clean,
        kind=kind,
        covers=covers,
        due_working_days=due_working_days,
        active=active,
    )
    if schedule_id is None:
        return await SweepSchedule.create(**values)
    schedule = await SweepSchedule.get_or_none(id=schedule_id, county_id=county.id)
    if schedule is None:
        raise NotFound("no such schedule in that county", field="id")
    schedule.update_from_dict(values)
    await schedule.save()
    return schedule


# --- the tick --------------------------------------------------------------------------------


async def _targets(schedule: SweepSchedule, county: Center) -> list[tuple[str, Center, Grid | None]]:
    centers = await Center.filter(path__startswith=county.path, level=schedule.level, active=True).order_by(
        "id"
    )
    if schedule.covers == "center":
        return [(f"c{c.id}", c, None) for c in centers]
    by_id = {c.id: c for c in centers}
    grids = await Grid.filter(center_id__in=list(by_id)).order_by("id")
    return [(f"g{g.id}", by_id[g.center_id], g) for g in grids]


async def create_due_tasks(at: datetime | None = None) -> int:
    """Create this period's tasks of every active schedule; returns how many were new.

    The count is for the log: two beats running at once may both count a row only one of them wrote.
    The rows themselves are exact (the unique constraint decides).
    """
    at = at or now()
    day = at.astimezone(CHINA).date()
    created = 0
    for schedule in await SweepSchedule.filter(active=True).select_related("county"):
        period = period_of(schedule.cadence, day)
        targets = await _targets(schedule, schedule.county)
        dues: dict[int, datetime] = {}
        rows = []
        for target, center, grid in targets:
            if center.id not in dues:
                dues[center.id] = await due_of(period, schedule.due_working_days, [center.id])
            rows.append(
                SweepTask(
                    schedule_id=schedule.id,
                    target=target,
                    center_id=center.id,
                    center_path=center.path,
                    grid_id=grid.id if grid else None,
                    period=period.key,
                    period_start=period.start,
                    due_at=dues[center.id],
                )
            )
        before = await SweepTask.filter(schedule_id=schedule.id, period=period.key).count()
        # INSERT ... ON CONFLICT DO NOTHING on (schedule, target, period): a second beat or a
        # restart inserts nothing that exists, and never fails on what another beat just wrote.
        await SweepTask.bulk_create(rows, ignore_conflicts=True)
        created += await SweepTask.filter(schedule_id=schedule.id, period=period.key).count() - before
    return created


async def notify_overdue(at: datetime | None = None) -> int:
    """Open tasks past due go to the inbox of the level above, once each."""
    at = at or now()
    sent = 0
    late = await SweepTask.filter(status="open", due_at__lt=at, overdue_notified_at=None).select_related(
        "center", "schedule", "grid"
    )
    for task in late:
        async with change():
            claimed = await SweepTask.filter(id=task.id, overdue_notified_at=None).update(
                overdue_notified_at=at
            )
            if not claimed:
                continue
            above = task.center.parent_id or task.center.id
            where = task.center.name + (f" {task.grid.name}" if task.grid else "")
            await Notification.create(
                role=str(Role.leader),
                center_id=above,
                message=f"排查任务超期未完成：{where}「{task.schedule.name}」{task.period}",
            )
            sent += 1
    return sent


async def tick(at: datetime | None = None) -> dict[str, int]:
    return {"created": await create_due_tasks(at), "overdue": await notify_overdue(at)}


# --- doing a task ----------------------------------------------------------------------------


def _task_visible(actor: Actor, task: SweepTask) -> bool:
    if actor.system or center_in_scope(actor, task.center_path):
        return True
    return task.grid_id is not None and task.grid_id in actor.grid_ids


def visible_tasks(actor: Actor):
    """Tasks of the actor's center subtree, and of a grid worker's grids (``jurisdiction.visible``)."""
    from zongzhi.platform.domain.jurisdiction import visible

    return visible(actor, SweepTask)


async def get_task(actor: Actor, task_id: int) -> SweepTask:
    task = await SweepTask.get_or_none(id=task_id).select_related("schedule")
    if task is None or not _task_visible(actor, task):
        raise NotFound(f"no sweep task {task_id} in your jurisdiction", field="taskId")
    return task


def _check_answer(item: dict, value, field: str):
    kind = item["kind"]
    if (kind == "number" and not isinstance(value, int | float)) or (
        isinstance(value, bool) and kind == "number"
    ):
        raise ValidationFailed(f"{item['label']} is a number", field=field)
    if kind == "boolean" and not isinstance(value, bool):
        raise ValidationFailed(f"{item['label']} is yes or no", field=field)
    if kind == "text" and (not isinstance(value, str) or len(value) > 2000):
        raise ValidationFailed(f"{item['label']} is a text of at most 2000 characters", field=field)
    if kind == "choice" and value not in item["options"]:
        raise ValidationFailed(f"{item['label']} is one of {', '.join(item['options'])}", field=field)
    return value


async def attach_file(
    actor: Actor, store, task_id: int, item_key: str, filename: str, content_type: str, data: bytes
) -> SweepTask:
    """An attachment to one checklist item, checked like evidence and kept in the evidence store."""
    from zongzhi.platform.services.practice_files import put_checked

    if not actor.has(*RESULT_ROLES):
        raise Forbidden("your role does not do sweeps")
    task = await get_task(actor, task_id)
    item = next((i for i in task.schedule.form if i["key"] == item_key), None)
    if item is None or item["attachments"] == "none":
        raise ValidationFailed("that item takes no attachments", field="item")
    meta = await put_checked(
        store, f"sweeps/{task.id}", filename, content_type, data, ATTACHMENT_MAX_BYTES, "file"
    )
    async with change():
        task = await SweepTask.filter(id=task.id).select_for_update().first()
        files = dict(task.answers.get("_files", {}))
        files[item_key] = [*files.get(item_key, []), meta]
        task.answers = {**task.answers, "_files": files}
        await task.save(update_fields=["answers"])
    return await get_task(actor, task_id)


async def record_result(actor: Actor, task_id: int, answers: dict, findings: list[dict]) -> SweepTask:
    """Whoever holds the task records the answers (required ones checked) and what was found."""
    if not actor.has(*RESULT_ROLES):
        raise Forbidden("your role does not do sweeps")
    task = await get_task(actor, task_id)
    if task.status == "done":
        raise ValidationFailed("this sweep is already recorded", field="taskId")
    if not isinstance(answers, dict):
        raise ValidationFailed("answers map item keys to values", field="answers")
    form = {i["key"]: i for i in task.schedule.form}
    for key in answers:
        if key not in form:
            raise ValidationFailed(f"no item {key!r} in the form", field=f"answers.{key}")
    clean: dict = {}
    files = task.answers.get("_files", {})
    for key, item in form.items():
        if answers.get(key) is None:
            if item["required"]:
                raise ValidationFailed(f"{item['label']} must be answered", field=f"answers.{key}")
        else:
            clean[key] = _check_answer(item, answers[key], f"answers.{key}")
        if item["attachments"] == "required" and not files.get(key):
            raise ValidationFailed(f"{item['label']} needs an attachment", field=f"answers.{key}")
    if len(findings) > 50:
        raise ValidationFailed("at most 50 findings", field="findings")
    clean_findings = []
    for i, f in enumerate(findings):
        text = str(f.get("description") or "").strip()
        if not text or len(text) > 2000:
            raise ValidationFailed("a finding is described in 1 to 2000 characters", field=f"findings[{i}]")
        clean_findings.append(
            {"description": text, "category": f.get("category") or "other", "case_id": None}
        )
    async with change():
        task.answers = {**clean, "_files": files} if files else clean
        task.findings = clean_findings
        task.status = "done"
        task.done_by_id = actor.user_id
        task.done_at = now()
        await task.save(update_fields=["answers", "findings", "status", "done_by_id", "done_at"])
    return task


async def finding_to_case(actor: Actor, task_id: int, index: int, title: str | None = None):
    """One step from a finding to a case, through intake (received at the task's center or grid)."""
    from zongzhi.platform.base.codes import CATEGORIES
    from zongzhi.platform.models import Case
    from zongzhi.platform.services import cases as svc

    task = await get_task(actor, task_id)
    if not 0 <= index < len(task.findings):
        raise ValidationFailed("no such finding", field="index")
    finding = task.findings[index]
    if finding.get("case_id"):
        return await Case.get(id=finding["case_id"])
    category = finding["category"] if finding["category"] in CATEGORIES else "other"
    data = svc.CaseInput(
        title=(title or finding["description"])[:200],
        description=finding["description"],
        category=category,
        kind="hazard" if category == "safety_hazard" else "dispute",
        channel="grid" if task.grid_id else "window",
        center_id=None if task.grid_id else task.center_id,
        grid_id=task.grid_id,
        client_request_id=f"sweep-{task.id}-{index}",
        extra_payload={"sweep_task_id": task.id, "finding": index},
    )
    case, _ = await svc.intake(data, actor)
    async with change():
        locked = await SweepTask.filter(id=task.id).select_for_update().first()
        found = list(locked.findings)
        found[index] = {**found[index], "case_id": case.id}
        locked.findings = found
        await locked.save(update_fields=["findings"])
    return case


async def record_meeting(
    actor: Actor,
    *,
    center_id: int,
    held_on: date,
    title: str,
    conclusions: str,
    case_ids: list[int],
    risks: list[str],
    task_id: int | None = None,
) -> AnalysisMeeting:
    """研判会: conclusions, the cases discussed (inside the actor's jurisdiction) and the risks named."""
    from zongzhi.platform.domain.jurisdiction import scoped_cases

    if not actor.has(*SCHEDULE_ROLES):
        raise Forbidden("recording an analysis meeting needs center staff")
    center = await Center.get_or_none(id=center_id)
    if center is None or not center_in_scope(actor, center.path):
        raise NotFound("no such center in your jurisdiction", field="centerId")
    if not title or not title.strip() or len(title) > 200:
        raise ValidationFailed("a meeting needs a title of at most 200 characters", field="title")
    if not conclusions or not conclusions.strip():
        raise ValidationFailed("record the meeting's conclusions", field="conclusions")
    if len(case_ids) > 200 or len(risks) > 100:
        raise ValidationFailed("too many cases or risks for one meeting", field="caseIds")
    seen = set(await scoped_cases(actor).filter(id__in=case_ids).values_list("id", flat=True))
    for i, cid in enumerate(case_ids):
        if cid not in seen:
            raise NotFound(f"no case {cid} in your jurisdiction", field=f"caseIds[{i}]")
    task = None
    if task_id is not None:
        task = await get_task(actor, task_id)
    return await AnalysisMeeting.create(
        center=center,
        task=task,
        held_on=held_on,
        title=title.strip(),
        conclusions=conclusions.strip(),
        case_ids=list(dict.fromkeys(case_ids)),
        risks=[r.strip() for r in risks if r.strip()],
        recorded_by_id=actor.user_id,
    )


# --- statistics ------------------------------------------------------------------------------


@dataclass
class Completion:
    center_id: int
    center_name: str
    period: str
    tasks: int
    done: int
    done_on_time: int
    overdue_open: int

    @property
    def rate(self) -> float | None:
        return self.done / self.tasks if self.tasks else None


async def completion(
    center_paths: list[str], start: date, end: date, at: datetime | None = None
) -> list[Completion]:
    """Sweep completion per center and period for tasks whose period starts in ``[start, end)``."""
    at = at or now()
    tasks = (
        await SweepTask.filter(center_path__in=center_paths, period_start__gte=start, period_start__lt=end)
        .select_related("center")
        .order_by("center_id", "period")
    )
    out: dict[tuple[int, str], Completion] = {}
    for t in tasks:
        c = out.setdefault(
            (t.center_id, t.period), Completion(t.center_id, t.center.name, t.period, 0, 0, 0, 0)
        )
        c.tasks += 1
        if t.status == "done":
            c.done += 1
            c.done_on_time += t.done_at is not None and t.done_at <= t.due_at
        elif t.due_at < at:
            c.overdue_open += 1
    return list(out.values())

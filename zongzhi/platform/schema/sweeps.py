"""GraphQL for scheduled sweeps (排查) and analysis meetings (研判). The rules live in ``services.sweeps``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from zongzhi.platform import models
from zongzhi.platform.schema import types
from zongzhi.platform.schema.context import Info, actor_of
from zongzhi.platform.schema.from_dataclass import dataclass_type
from zongzhi.platform.schema.ids import pk_of, to_global_id
from zongzhi.platform.schema.nodes import ModelNode, copy_of
from zongzhi.platform.services import sweeps as svc


@strawberry.input(description="One checklist item of a sweep form (排查表格).")
class SweepItemInput:
    key: str = strawberry.field(description="Short identifier, unique in the form")
    label: str = strawberry.field(description="The question as shown")
    kind: str = strawberry.field(default="text", description="text, number, boolean or choice")
    required: bool = strawberry.field(default=False, description="Must be answered to record the sweep")
    options: list[str] = strawberry.field(default_factory=list, description="The choices of a choice item")
    attachments: str = strawberry.field(default="none", description="none, optional or required")


@strawberry.type(description="One checklist item of a sweep form.")
class SweepItem:
    key: str = strawberry.field(description="Identifier of the item")
    label: str = strawberry.field(description="The question")
    kind: str = strawberry.field(description="text, number, boolean or choice")
    required: bool = strawberry.field(description="Must be answered")
    options: list[str] = strawberry.field(description="Choices of a choice item")
    attachments: str = strawberry.field(description="none, optional or required")


@strawberry.type(
    description="A county's sweep cycle for one center level (村组一周一排查 ... 县级一季一调度研判)."
)
class SweepSchedule(ModelNode):
    model = models.SweepSchedule
    name: str = strawberry.field(description="Name of the cycle")
    kind: str = strawberry.field(description="sweep (排查) or analysis (研判)")
    level: str = strawberry.field(description="Center level it covers")
    covers: str = strawberry.field(description="center: a task per center; grid: a task per grid")
    cadence: str = strawberry.field(description="weekly, fortnightly, monthly or quarterly")
    due_working_days: int = strawberry.field(
        description="Due at the end of this working day of the period; 0: its last"
    )
    active: bool = strawberry.field(description="Creates tasks")
    form: list[SweepItem] = strawberry.field(description="The checklist")

    @classmethod
    def of(cls, m: models.SweepSchedule) -> SweepSchedule:
        return copy_of(cls, m, form=[SweepItem(**i) for i in m.form])


@strawberry.type(description="Something a sweep found; it may become a case in one step.")
class SweepFinding:
    index: int = strawberry.field(description="Position in the task's findings")
    description: str = strawberry.field(description="What was found")
    category: str = strawberry.field(description="Category code")
    case_id: strawberry.ID | None = strawberry.field(description="The case it became, if any")


@strawberry.type(description="One center's or grid's sweep for one period.")
class SweepTask(ModelNode):
    model = models.SweepTask
    schedule: SweepSchedule = strawberry.field(description="Its schedule and form")
    center_id: strawberry.ID = strawberry.field(description="The center that does the sweep")
    center_name: str = strawberry.field(description="Its name")
    grid_id: strawberry.ID | None = strawberry.field(description="The grid, when the schedule covers grids")
    period: str = strawberry.field(description="e.g. 2026-W41, 2026-F21, 2026-10, 2026-Q4")
    due_at: datetime = strawberry.field(description="Due time")
    status: str = strawberry.field(description="open or done")
    overdue: bool = strawberry.field(description="Open past its due time")
    answers: JSON = strawberry.field(description="Answers by item key; _files lists attachments per item")
    findings: list[SweepFinding] = strawberry.field(description="What the sweep found")
    done_at: datetime | None = strawberry.field(description="When it was recorded")

    @classmethod
    async def of(cls, m: models.SweepTask) -> SweepTask:
        schedule = m.schedule if isinstance(m.schedule, models.SweepSchedule) else await m.schedule
        center = m.center if isinstance(m.center, models.Center) else await m.center
        return copy_of(
            cls,
            m,
            schedule=SweepSchedule.of(schedule),
            center_id=strawberry.ID(to_global_id("Center", m.center_id)),
            center_name=center.name,
            grid_id=strawberry.ID(to_global_id("Grid", m.grid_id)) if m.grid_id else None,
            overdue=m.status == "open" and m.due_at < svc.now(),
            findings=[
                SweepFinding(
                    index=i,
                    description=f["description"],
                    category=f["category"],
                    case_id=strawberry.ID(to_global_id("Case", f["case_id"])) if f.get("case_id") else None,
                )
                for i, f in enumerate(m.findings)
            ],
        )

    @classmethod
    async def from_visible(cls, m: models.SweepTask, info: Info) -> SweepTask:
        return await cls.of(m)


@strawberry.type(description="研判会: an analysis meeting's conclusions and what it discussed.")
class AnalysisMeeting(ModelNode):
    model = models.AnalysisMeeting
    held_on: date = strawberry.field(description="Day of the meeting")
    title: str = strawberry.field(description="Title")
    conclusions: str = strawberry.field(description="Conclusions")
    case_ids: list[strawberry.ID] = strawberry.field(description="Cases discussed")
    risks: list[str] = strawberry.field(description="Risks named")

    @classmethod
    def of(cls, m: models.AnalysisMeeting) -> AnalysisMeeting:
        return copy_of(cls, m, case_ids=[strawberry.ID(to_global_id("Case", c)) for c in m.case_ids])


@strawberry.input(description="Something found during a sweep.")
class SweepFindingInput:
    description: str = strawberry.field(description="What was found")
    category: str = strawberry.field(default="other", description="Category code")


def _completion_center(self: svc.Completion) -> strawberry.ID:
    return strawberry.ID(to_global_id("Center", self.center_id))


SweepCompletion = dataclass_type(
    svc.Completion,
    name="SweepCompletion",
    description="Completion of sweeps at one center in one period.",
    properties={"rate": float | None},
    replace={"center_id": strawberry.field(resolver=_completion_center, description="The center")},
    docs={
        "center_name": "Its name",
        "period": "The sweep period",
        "tasks": "Tasks created",
        "done": "Tasks recorded",
        "done_on_time": "Recorded by the due time",
        "overdue_open": "Still open past the due time",
        "rate": "done / tasks; null without tasks",
    },
)


def _task_pk(task_id: strawberry.ID) -> int:
    return pk_of(task_id, "SweepTask", "taskId")


@strawberry.type
class SweepsQuery:
    @strawberry.field(description="Sweep schedules of a county (default: the asker's own or the one above).")
    async def sweep_schedules(
        self,
        info: Info,
        county_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The county center (global ID); default: the asker's"),
        ] = None,
    ) -> list[SweepSchedule]:
        actor = actor_of(info)
        county = await svc.county_of(
            actor, pk_of(county_id, "Center", "countyId") if county_id else None, read=True
        )
        rows = await models.SweepSchedule.filter(county_id=county.id).order_by("id")
        return [SweepSchedule.of(r) for r in rows]

    @strawberry.field(
        description="Sweep tasks the asker may see (their center subtree, their grids), newest first."
    )
    async def sweep_tasks(
        self,
        info: Info,
        status: Annotated[str | None, strawberry.argument(description="open or done")] = None,
        period: Annotated[str | None, strawberry.argument(description="A sweep period key")] = None,
        first: Annotated[int, strawberry.argument(description="At most 200")] = 50,
    ) -> list[SweepTask]:
        qs = svc.visible_tasks(actor_of(info))
        if status:
            qs = qs.filter(status=status)
        if period:
            qs = qs.filter(period=period)
        rows = (
            await qs.select_related("schedule").order_by("-period_start", "id").limit(max(1, min(first, 200)))
        )
        return [await SweepTask.of(r) for r in rows]

    @strawberry.field(description="Analysis meetings (研判会) recorded at a center.")
    async def analysis_meetings(
        self,
        info: Info,
        center_id: Annotated[
            strawberry.ID, strawberry.argument(description="A center (global ID) in the asker's jurisdiction")
        ],
    ) -> list[AnalysisMeeting]:
        from zongzhi.platform.stats.scope import scope_for

        scope = await scope_for(actor_of(info), pk_of(center_id, "Center", "centerId"))
        rows = (
            await models.AnalysisMeeting.filter(center_id=scope.center.id)
            .order_by("-held_on", "-id")
            .limit(100)
        )
        return [AnalysisMeeting.of(r) for r in rows]

    @strawberry.field(
        description="Sweep completion per center and period (tasks whose period starts in the range)."
    )
    async def sweep_completion(
        self,
        info: Info,
        start: Annotated[date, strawberry.argument(description="First day, inclusive (China time)")],
        end: Annotated[date, strawberry.argument(description="Last day, exclusive (China time)")],
        center_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="A center (global ID) in the asker's jurisdiction"),
        ] = None,
    ) -> list[SweepCompletion]:
        from zongzhi.platform.stats.scope import scope_for

        scope = await scope_for(actor_of(info), pk_of(center_id, "Center", "centerId") if center_id else None)
        return await svc.completion(scope.paths, start, end)


@strawberry.type
class SweepsMutation:
    @strawberry.mutation(description="Create (no id) or change a county's sweep schedule with its form.")
    async def save_sweep_schedule(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="Name of the cycle")],
        level: Annotated[
            str, strawberry.argument(description="Center level it covers: village, township, county, ...")
        ],
        form: Annotated[list[SweepItemInput], strawberry.argument(description="The checklist items")],
        cadence: Annotated[
            str | None, strawberry.argument(description="Default: the seeds' rhythm for the level")
        ] = None,
        kind: Annotated[str, strawberry.argument(description="sweep or analysis")] = "sweep",
        covers: Annotated[str, strawberry.argument(description="center or grid")] = "center",
        due_working_days: Annotated[
            int, strawberry.argument(description="0: the period's last working day")
        ] = 3,
        active: Annotated[bool, strawberry.argument(description="Creates tasks")] = True,
        county_id: Annotated[strawberry.ID | None, strawberry.argument(description="Default: yours")] = None,
        id: Annotated[strawberry.ID | None, strawberry.argument(description="The schedule to change")] = None,
    ) -> SweepSchedule:
        schedule = await svc.save_schedule(
            actor_of(info),
            name=name,
            level=level,
            cadence=cadence,
            form=[vars(i) for i in form],
            kind=kind,
            covers=covers,
            due_working_days=due_working_days,
            active=active,
            county_id=pk_of(county_id, "Center", "countyId") if county_id else None,
            schedule_id=pk_of(id, "SweepSchedule", "id") if id else None,
        )
        return SweepSchedule.of(schedule)

    @strawberry.mutation(description="Record a sweep's answers and findings (required items checked).")
    async def record_sweep(
        self,
        info: Info,
        task_id: Annotated[strawberry.ID, strawberry.argument(description="The sweep task (global ID)")],
        answers: Annotated[JSON, strawberry.argument(description="Answers by item key")],
        findings: Annotated[
            list[SweepFindingInput] | None, strawberry.argument(description="What the sweep found")
        ] = None,
    ) -> SweepTask:
        task = await svc.record_result(
            actor_of(info), _task_pk(task_id), answers, [vars(f) for f in findings or []]
        )
        return await SweepTask.of(task)

    @strawberry.mutation(description="Attach a file to a checklist item (checked like evidence).")
    async def attach_sweep_file(
        self,
        info: Info,
        task_id: Annotated[strawberry.ID, strawberry.argument(description="The sweep task (global ID)")],
        item: Annotated[str, strawberry.argument(description="The checklist item's key")],
        file: Annotated[Upload, strawberry.argument(description="The file (GraphQL multipart upload)")],
        content_type: Annotated[
            str, strawberry.argument(description="The file's declared type (checked against its bytes)")
        ],
    ) -> SweepTask:
        data = await file.read()
        name = getattr(file, "filename", None) or "file"
        store = info.context.request.app.state.store
        task = await svc.attach_file(actor_of(info), store, _task_pk(task_id), item, name, content_type, data)
        return await SweepTask.of(task)

    @strawberry.mutation(description="Turn a sweep finding into a case in one step (through intake).")
    async def sweep_finding_to_case(
        self,
        info: Info,
        task_id: Annotated[strawberry.ID, strawberry.argument(description="The sweep task (global ID)")],
        index: Annotated[int, strawberry.argument(description="Position of the finding in the task")],
        title: Annotated[
            str | None, strawberry.argument(description="Case title; default: the finding's text")
        ] = None,
    ) -> types.Case:
        case = await svc.finding_to_case(actor_of(info), _task_pk(task_id), index, title)
        return types.Case.of(case)

    @strawberry.mutation(
        description="Record an analysis meeting (研判会) with its conclusions, cases and risks."
    )
    async def record_analysis_meeting(
        self,
        info: Info,
        center_id: Annotated[
            strawberry.ID, strawberry.argument(description="A center (global ID) in the asker's jurisdiction")
        ],
        held_on: Annotated[date, strawberry.argument(description="Day of the meeting")],
        title: Annotated[str, strawberry.argument(description="Case title; default: the finding's text")],
        conclusions: Annotated[str, strawberry.argument(description="What the meeting concluded")],
        case_ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="Cases discussed (global IDs), each in the asker's jurisdiction"),
        ] = None,
        risks: Annotated[list[str] | None, strawberry.argument(description="Risks named")] = None,
        task_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="The sweep task (global ID)")
        ] = None,
    ) -> AnalysisMeeting:
        meeting = await svc.record_meeting(
            actor_of(info),
            center_id=pk_of(center_id, "Center", "centerId"),
            held_on=held_on,
            title=title,
            conclusions=conclusions,
            case_ids=[pk_of(c, "Case", f"caseIds[{i}]") for i, c in enumerate(case_ids or [])],
            risks=risks or [],
            task_id=_task_pk(task_id) if task_id else None,
        )
        return AnalysisMeeting.of(meeting)

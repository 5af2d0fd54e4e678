"""Township B's practice objects and the jurisdiction-matrix probes for the practices' fields (issue 16).

Written for ``tests/security/test_jurisdiction_matrix.py`` (sec-refs), which this branch predates.
After both are merged, three lines wire it in::

    # townships.build_targets, before it returns:
    await add_practice_targets(world, targets, B_MARK)
    # test_jurisdiction_matrix, after REGISTRY, NO_CHECK and EXTRA_COVERED:
    REGISTRY.update(practice_probes(p)); NO_CHECK.update(PRACTICE_NO_CHECK); EXTRA_COVERED |= set(PRACTICE_EXTRA)

The functions take the matrix's own helpers as arguments, so this module imports nothing of it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from zongzhi.platform.base.codes import Role
from zongzhi.platform.base.security import cipher
from zongzhi.platform.domain.actor import Actor, actor_for_user
from zongzhi.platform.models import Case, CitizenReport, SweepTask
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import mediators, sweeps
from zongzhi.platform.services.accounts import create_user

FORM = [{"key": "ok", "label": "平稳", "kind": "boolean", "required": True}]


async def add_practice_targets(world: Any, targets: Any, mark: str) -> None:
    """B's sweep task (with a finding), 研判 meeting, mediator, 点单 and a citizen's held report."""
    county, tb, vb1 = world.centers["county"], world.centers["tb"], world.centers["vb1"]
    system = Actor.system_actor("matrix")
    await sweeps.save_schedule(
        system, name="村级周排查", level="village", cadence="weekly", form=FORM, county_id=county.id
    )
    await sweeps.create_due_tasks()
    task = await SweepTask.get(center_id=vb1.id)
    b_staff = await actor_for_user(world.users["b_staff"])
    await sweeps.record_result(b_staff, task.id, {"ok": False}, [{"description": f"发现：{mark}"}])
    b_case = await Case.filter(center_path__startswith=tb.path).order_by("id").first()
    meeting = await sweeps.record_meeting(
        b_staff,
        center_id=tb.id,
        held_on=date.today(),
        title=f"研判：{mark}",
        conclusions=mark,
        case_ids=[b_case.id],
        risks=[mark],
    )
    b_mediator = await create_user("b_mediator", "乙镇调解员", [str(Role.mediator)], center=tb)
    await mediators.save_profile(system, b_mediator.id, organisation="乙镇人调委")
    open_case = await Case.filter(
        center_path__startswith=tb.path, status__in=["received", "assessed"]
    ).first()
    choice = await mediators.request(b_staff, open_case.id, b_mediator.id) if open_case else None
    report = await CitizenReport.create(
        tracking="QZ000000BBBBBB",
        center=vb1,
        phone_hash="0" * 64,
        phone_enc=cipher().encrypt("13900000000"),
        category="other",
        description=f"群众上报：{mark}",
    )
    targets.ids.update(
        b_sweep_task=to_global_id("SweepTask", task.id),
        b_mediator=to_global_id("User", b_mediator.id),
        b_report=to_global_id("CitizenReport", report.id),
        b_meeting=to_global_id("AnalysisMeeting", meeting.id),
    )
    if choice is not None:
        targets.ids["b_choice"] = to_global_id("MediatorChoice", choice.id)


def practice_probes(p) -> dict[str, list]:
    """REGISTRY entries: each names township B's objects; township A must be refused or see nothing of B."""
    return {
        "query.sweepSchedules": [p("query($c: ID) { sweepSchedules(countyId: $c) { name } }", c="b_center")],
        "query.analysisMeetings": [
            p("query($c: ID!) { analysisMeetings(centerId: $c) { title } }", c="b_center", control=True)
        ],
        "query.sweepCompletion": [
            p(
                'query($c: ID) { sweepCompletion(start: "2000-01-01", end: "2100-01-01", centerId: $c) { done } }',
                c="b_center",
                control=True,
            )
        ],
        "query.assessment": [
            p('query($c: ID) { assessment(period: "2026", centerId: $c) { period } }', c="b_center")
        ],
        "query.mediatorChoices": [p("query($c: ID!) { mediatorChoices(caseId: $c) { status } }", c="b_open")],
        "query.mediatorWall": [
            p(
                "query($c: ID!) { mediatorWall(centerId: $c) { name organisation } }",
                c="b_center",
                expect="no_leak",
            )
        ],
        "query.sweepTasks": [p("{ sweepTasks { id findings { description } } }", expect="no_leak")],
        "query.citizenReports": [p("{ citizenReports { description } }", expect="no_leak")],
        "mutation.saveSweepSchedule": [
            p(
                'mutation($c: ID) { saveSweepSchedule(name: "x", level: "village", countyId: $c, '
                'form: [{key: "a", label: "x"}]) { id } }',
                c="b_center",
            )
        ],
        "mutation.recordSweep": [
            p("mutation($t: ID!) { recordSweep(taskId: $t, answers: {}) { id } }", t="b_sweep_task")
        ],
        "mutation.attachSweepFile": [
            p(
                'mutation($t: ID!, $file: Upload!) { attachSweepFile(taskId: $t, item: "ok", file: $file, '
                'contentType: "image/png") { id } }',
                t="b_sweep_task",
                upload=True,
            )
        ],
        "mutation.sweepFindingToCase": [
            p("mutation($t: ID!) { sweepFindingToCase(taskId: $t, index: 0) { id } }", t="b_sweep_task")
        ],
        "mutation.recordAnalysisMeeting": [
            p(
                'mutation($c: ID!) { recordAnalysisMeeting(centerId: $c, heldOn: "2026-10-01", title: "x", '
                'conclusions: "y") { id } }',
                c="b_center",
            ),
        ],
        "mutation.configureAssessment": [
            p("mutation($c: ID!) { configureAssessment(countyId: $c, points: {}) }", c="b_center")
        ],
        "mutation.enterHomeUnitScore": [
            p('mutation($u: ID!) { enterHomeUnitScore(userId: $u, period: "2026", score: 90) }', u="b_user")
        ],
        "mutation.saveMediatorProfile": [
            p('mutation($u: ID!) { saveMediatorProfile(userId: $u, intro: "x") { name } }', u="b_mediator")
        ],
        "mutation.setMediatorPhoto": [
            p(
                "mutation($u: ID!, $file: Upload!) { setMediatorPhoto(userId: $u, file: $file, "
                'contentType: "image/png") { name } }',
                u="b_mediator",
                upload=True,
            )
        ],
        "mutation.requestMediator": [
            p(
                "mutation($c: ID!, $m: ID!) { requestMediator(caseId: $c, mediatorId: $m) { id } }",
                c="b_open",
                m="b_mediator",
            )
        ],
        "mutation.answerMediatorRequest": [
            p("mutation($i: ID!) { answerMediatorRequest(choiceId: $i, accept: true) { id } }", i="b_choice")
        ],
        "mutation.reviewCitizenReport": [
            p("mutation($r: ID!) { reviewCitizenReport(reportId: $r, accept: true) { id } }", r="b_report")
        ],
    }


#: Fields that are read by their own asker only, with no ID.
PRACTICE_NO_CHECK = {
    "query.myMediatorRequests": "the asking mediator's own pending requests; no ID argument",
}
#: Non-guarded fields that still get a no-leak probe.
PRACTICE_EXTRA = ("query.sweepTasks", "query.citizenReports")

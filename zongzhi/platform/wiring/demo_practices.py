"""The demo's share of the seeds' practices: sweeps, 研判 meetings, mediators' wall and 点单,
a home unit's score, and citizens' reports waiting for review. Called once from ``demo.seed``.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

from zongzhi.platform.base import security, sms
from zongzhi.platform.base.codes import CaseStatus
from zongzhi.platform.domain.actor import actor_for_user
from zongzhi.platform.models import Case, Center, SweepTask, User
from zongzhi.platform.services import assessment, citizens, mediators, sweeps
from zongzhi.platform.stats.period import TZ

VILLAGE_FORM = [
    {"key": "disputes", "label": "新排查矛盾纠纷（件）", "kind": "number", "required": True},
    {"key": "hazard", "label": "是否发现安全隐患", "kind": "boolean", "required": True},
    {
        "key": "mood",
        "label": "群众情绪",
        "kind": "choice",
        "options": ["平稳", "有波动", "需关注"],
        "required": True,
    },
    {"key": "photo", "label": "现场照片", "kind": "text", "attachments": "optional"},
]
TOWNSHIP_FORM = [
    {"key": "summary", "label": "研判结论", "kind": "text", "required": True},
    {"key": "risks", "label": "重点风险（件）", "kind": "number", "required": True},
]
COUNTY_FORM = [{"key": "summary", "label": "调度研判结论", "kind": "text", "required": True}]
FINDINGS = ["两户因宅基地边界争执", "工地拖欠农民工工资苗头", "河道旁有人倾倒建筑垃圾", "邻里装修噪音投诉"]


async def seed_practices(county: Center, users: dict[str, User], rng: random.Random) -> None:
    now = datetime.now(UTC)
    leader = await actor_for_user(users["county_leader"])
    await sweeps.save_schedule(
        leader,
        name="村组（网格）周排查",
        level="village",
        covers="grid",
        form=VILLAGE_FORM,
        county_id=county.id,
    )
    await sweeps.save_schedule(
        leader, name="村（社区）半月排查", level="village", form=VILLAGE_FORM, county_id=county.id
    )
    await sweeps.save_schedule(
        leader,
        name="乡镇月度分析研判",
        level="township",
        kind="analysis",
        form=TOWNSHIP_FORM,
        county_id=county.id,
    )
    await sweeps.save_schedule(
        leader,
        name="县级季度调度研判",
        level="county",
        kind="analysis",
        form=COUNTY_FORM,
        county_id=county.id,
    )
    for weeks_ago in (3, 2, 1, 0):
        await sweeps.create_due_tasks(now - timedelta(weeks=weeks_ago))
    staff_of = {u.center_id: u for name, u in users.items() if name.endswith("_staff")}
    for task in await SweepTask.filter(status="open").select_related("schedule").order_by("id"):
        if task.due_at > now or rng.random() < 0.15:  # this week's, and a few late ones, stay open
            continue
        who = await actor_for_user(staff_of.get(task.center_id) or users["county_dispatcher"])
        answers = {}
        for item in task.schedule.form:
            if item["kind"] == "number":
                answers[item["key"]] = rng.randint(0, 3)
            elif item["kind"] == "boolean":
                answers[item["key"]] = rng.random() < 0.2
            elif item["kind"] == "choice":
                answers[item["key"]] = rng.choice(item["options"][:2])
            elif item["required"]:
                answers[item["key"]] = "辖区总体平稳，重点关注劳资和邻里纠纷"
        sweep = task.schedule.kind == "sweep" and rng.random() < 0.3
        found = [{"description": rng.choice(FINDINGS), "category": "neighbor"}] if sweep else []
        await sweeps.record_result(who, task.id, answers, found)
        if found:
            await sweeps.finding_to_case(who, task.id, 0)
    await sweeps.notify_overdue(now)
    dispatcher = await actor_for_user(users["county_dispatcher"])
    risky = list(
        await Case.filter(risk__in=["high", "medium"]).order_by("-id").limit(3).values_list("id", flat=True)
    )
    await sweeps.record_meeting(
        dispatcher,
        center_id=county.id,
        held_on=now.astimezone(TZ).date(),
        title="本季度矛盾纠纷调度研判会",
        conclusions="劳资纠纷节前高发，责成人社局牵头专项排查；高风险案件逐件落实包案领导。",
        case_ids=risky,
        risks=["节前欠薪", "民转刑风险"],
    )
    await _mediators(users, rng)
    officer = users.get("housing_officer")
    if officer is not None:
        await assessment.enter_home_score(
            await actor_for_user(users["admin"]),
            officer.id,
            str(now.astimezone(TZ).year),
            85,
            "派出单位年度评分",
        )
    await _citizens(county)


async def _mediators(users: dict[str, User], rng: random.Random) -> None:
    for name, user in users.items():
        if not name.endswith("_mediator"):
            continue
        me = await actor_for_user(user)
        center = await Center.get(id=user.center_id)
        await mediators.save_profile(
            me,
            user.id,
            organisation=f"{center.name}人民调解委员会",
            intro="从事人民调解工作多年，擅长邻里、婚姻家庭纠纷。",
            contact="0571-8888" + str(rng.randint(1000, 9999)),
        )
        staff = await actor_for_user(users[name.replace("_mediator", "_staff")])
        waiting = (
            await Case.filter(status=CaseStatus.received, center_id=user.center_id).order_by("id").limit(2)
        )
        waiting = waiting or await Case.filter(
            status=CaseStatus.received, center_path__startswith=center.path
        ).order_by("id").limit(2)
        for i, case in enumerate(waiting):
            choice = await mediators.request(staff, case.id, user.id)
            if i == 0:
                await mediators.answer(me, choice.id, True)
            else:
                await mediators.answer(me, choice.id, False, "当事人系本人亲属，申请回避")


async def _citizens(county: Center) -> None:
    """Two reports held for review, filed through the door with the console sender's codes only."""
    sender = sms.sender(security.settings())
    if not isinstance(sender, sms.ConsoleSender):
        return  # never text real phones from the demo
    village = await Center.filter(path__startswith=county.path, level="village").order_by("id").first()
    for phone, category, text in [
        ("13800000001", "environment", "小区门口垃圾桶长期满溢无人清理"),
        ("13800000002", "safety_hazard", "村口桥梁护栏松动，存在安全隐患"),
    ]:
        await citizens.request_code(phone, "demo")
        text = next(t for p, t in reversed(sender.sent) if p == phone)
        code = re.search(r"\d{6}", text).group(0)
        token = await citizens.verify_code(phone, code)
        await citizens.submit(
            token, center_id=village.id, category=category, description=text, client_address="demo"
        )

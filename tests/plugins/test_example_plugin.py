"""The example 检调对接 plugin, installed as a separate distribution, appears with no change to the core.

The module installs ``examples/procuratorate_docking`` into the running environment with pip (from a
copy, so the build leaves nothing in the work tree), and uninstalls it when the module is done so no
other test sees it. Entry points are read from installed metadata, so each step that (re)installs
invalidates the import caches and loads the plugins again. About 10 s, most of it pip.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.casework import actor
from tests.gql import gql
from tests.platforms import running
from tests.plugins.conftest import make_partner, post_signed
from zongzhi.platform import partners
from zongzhi.platform.base.codes import AssignmentMode
from zongzhi.platform.base.current import current
from zongzhi.platform.base.settings import Settings
from zongzhi.platform.models import Case, Ruleset, RulesetVersion
from zongzhi.platform.pipeline import plugin_host as plugins
from zongzhi.platform.schema.ids import to_global_id
from zongzhi.platform.services import cases as svc
from zongzhi.platform.wiring import runtime
from zongzhi.platform.wiring.platform import Platform

EXAMPLE = Path(__file__).parents[2] / "examples" / "procuratorate_docking"
DISTRIBUTION = "zongzhi-procuratorate-docking"
PLUGIN = "procuratorate_docking"
REFERRALS = f"/partners/{PLUGIN}/referrals"


def _can_build_without_isolation() -> bool:
    """setuptools builds a wheel by itself from 70.1 on; before that it needs the ``wheel`` package."""
    import setuptools

    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    if (major, minor) >= (70, 1):
        return True
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return True


def _pip(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"pip {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


def _install(source: Path) -> None:
    """``pip install`` the distribution at ``source`` and make this process see its entry point."""
    # Without build isolation when the venv's setuptools can build a wheel; otherwise pip builds it in
    # an isolated environment (setuptools from the configured index or wheel directory).
    isolation = ["--no-build-isolation"] if _can_build_without_isolation() else []
    _pip("install", "--quiet", "--no-deps", *isolation, str(source))
    for name in [m for m in sys.modules if m == PLUGIN or m.startswith(f"{PLUGIN}.")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def _copy(tmp: Path) -> Path:
    target = tmp / "procuratorate_docking"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    return target


def _plugins_list(tmp: Path) -> str:
    env = {**os.environ, "ZONGZHI_DATA_DIR": str(tmp), "ZONGZHI_LOG_LEVEL": "WARNING"}
    env.pop("ZONGZHI_DISABLED_PLUGINS", None)
    result = subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", "plugins", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def installed(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example installed for this module; afterwards uninstalled. Its codes and event types only
    ever reach the platforms built while it is installed."""
    _install(_copy(tmp_path_factory.mktemp("example")))
    plugins.rescan()
    try:
        yield tmp_path_factory.mktemp("example-data")
    finally:
        _pip("uninstall", "--quiet", "--yes", DISTRIBUTION)
        for name in [m for m in sys.modules if m == PLUGIN or m.startswith(f"{PLUGIN}.")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        plugins.rescan()


@contextlib.asynccontextmanager
async def _started(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """What start-up does, on a platform of the test's own: load the plugins (the example among them),
    install their rulesets, evaluate inline. Deliveries are sent by the test's own ``deliver_due``."""
    from zongzhi.platform.wiring.app import create_app

    plugins.rescan()
    platform = Platform.build(settings)
    assert PLUGIN in platform.plugins.names()
    with running(platform):
        await runtime.install_rulesets(platform)
        platform.publishers = [runtime.inline_publisher]
        app = create_app(platform=platform, manage_db=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield client


@pytest.fixture
async def example_client(installed, settings: Settings, world) -> AsyncIterator[httpx.AsyncClient]:
    async with _started(settings) as client:
        yield client


def referral(referral_id: str = "示检刑和〔2026〕12号", **overrides) -> dict:
    return {
        "referral_id": referral_id,
        "procuratorate": "示范县人民检察院",
        "matter": "criminal_reconciliation",
        "criminal_case_number": "(2026)示检刑诉45号",
        "summary": "轻伤害案件，犯罪嫌疑人愿赔偿被害人医疗费并赔礼道歉",
        "referral_date": "2026-11-20",
        "area_code": "330110001000",
        "parties": [
            {"name": "周一", "role": "applicant", "phone": "13800138000"},
            {"name": "吴二", "role": "respondent"},
        ],
    } | overrides


def test_plugins_list_shows_the_installed_example(installed):
    out = _plugins_list(installed)
    assert f"{PLUGIN} 0.1.0  ({DISTRIBUTION}: procuratorate_docking.plugin)" in out
    hooks = out.split(f"{PLUGIN} 0.1.0", 1)[1].splitlines()[1]
    assert hooks.strip() == (
        "hooks: zongzhi_case_event, zongzhi_codes, zongzhi_fact_fields, zongzhi_graphql_queries, zongzhi_routes, "
        "zongzhi_rulesets"
    )
    assert out.startswith("court_docking "), "the built-in plugins are still there"


async def test_ruleset_field_endpoint_rules_and_callback(example_client, world, partner_server):
    client = example_client
    version = await RulesetVersion.get(ruleset__name=PLUGIN).select_related("ruleset")
    assert (version.version, version.status, version.ruleset.owner_plugin) == (1, "active", PLUGIN)
    listed = await gql(client, world.tokens["rule_author"], "{ rulesets { name ownerPlugin activeVersion } }")
    assert {"name": PLUGIN, "ownerPlugin": PLUGIN, "activeVersion": 1} in listed["rulesets"]

    key, secret = await make_partner(world, partner_server, PLUGIN)
    first = await post_signed(client, REFERRALS, key, secret, referral())
    again = await post_signed(client, REFERRALS, key, secret, referral())
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert again.json()["case_id"] == first.json()["case_id"] and again.json()["created"] is False
    assert await Case.filter(channel="procuratorate").count() == 1

    unsigned = await post_signed(client, REFERRALS, key, "not-the-secret", referral("其他号码"))
    assert unsigned.status_code == 401
    incomplete = referral("其他号码")
    del incomplete["criminal_case_number"]
    bad = await post_signed(client, REFERRALS, key, secret, incomplete)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "criminal_case_number"

    case = await Case.get(number=first.json()["number"])
    assert case.center_id == world.centers["ta"].id
    assert case.resolve_by is not None
    assert timedelta(days=19) < case.resolve_by - case.created_at <= timedelta(days=21), (
        "20 days, to the day's end"
    )
    assert "刑事和解" in case.tags

    cid = to_global_id("Case", case.id)
    seen = await gql(
        client,
        world.tokens["a_staff"],
        "query($c: ID!) { procuratorateReferral(caseId: $c) { referralId matter matterLabel "
        "criminalCaseNumber } decisions(caseId: $c) { ruleset version ruleId action outcome } "
        "case(id: $c) { channel { code label } timeline { type label } } }",
        {"c": cid},
    )
    assert seen["procuratorateReferral"] == {
        "referralId": "示检刑和〔2026〕12号",
        "matter": "criminal_reconciliation",
        "matterLabel": "刑事和解",
        "criminalCaseNumber": "(2026)示检刑诉45号",
    }
    decisions = [d for d in seen["decisions"] if d["ruleset"] == PLUGIN]
    assert decisions == [
        {
            "ruleset": PLUGIN,
            "version": 1,
            "ruleId": "procuratorate-mediation-deadline",
            "action": "deadline",
            "outcome": "ok",
        },
        {
            "ruleset": PLUGIN,
            "version": 1,
            "ruleId": "procuratorate-criminal-reconciliation",
            "action": "tag",
            "outcome": "ok",
        },
    ]
    assert seen["case"]["channel"] == {"code": "procuratorate", "label": "检调对接"}
    assert {"type": "procuratorate.referred", "label": "检察院委托调解"} in seen["case"]["timeline"]

    staff, mediator = await actor(world, "a_staff"), await actor(world, "a_mediator")
    await svc.dispatch(staff, case.id, AssignmentMode.self_handle, [svc.UnitInput(user_id=mediator.user_id)])
    await svc.accept(mediator, case.id)
    await svc.resolve(mediator, case.id, "双方达成和解", "赔偿医疗费8000元并书面道歉", "8000")
    await partners.deliver_due()
    assert partner_server.kinds() == ["mediation_succeeded"]
    sent = partner_server.received[0]
    assert sent.signature_ok and sent.body["payload"]["referral_id"] == "示检刑和〔2026〕12号"


async def test_an_upgrade_with_a_changed_ruleset_adds_a_draft(
    example_client, world, settings, tmp_path, partner_server
):
    assert (await RulesetVersion.get(ruleset__name=PLUGIN)).status == "active"
    upgraded = _copy(tmp_path)
    rules = upgraded / "procuratorate_docking" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("days: 20", "days: 15"), encoding="utf-8")
    project = upgraded / "pyproject.toml"
    project.write_text(project.read_text(encoding="utf-8").replace("0.1.0", "0.1.1"), encoding="utf-8")
    _install(upgraded)
    assert f"{PLUGIN} 0.1.1  ({DISTRIBUTION}" in _plugins_list(tmp_path)

    async with _started(settings) as client:
        versions = await RulesetVersion.filter(ruleset__name=PLUGIN).order_by("version")
        assert [(v.version, v.status) for v in versions] == [(1, "active"), (2, "draft")]
        assert "days: 15" in versions[1].source and "days: 20" in versions[0].source
        assert (await Ruleset.get(name=PLUGIN)).owner_plugin == PLUGIN

        key, secret = await make_partner(world, partner_server, PLUGIN)
        r = await post_signed(client, REFERRALS, key, secret, referral("升级后的号码"))
        case = await Case.get(number=r.json()["number"])
        assert case.resolve_by - case.created_at > timedelta(days=19), (
            "the active version (20 days) still rules"
        )

    await runtime.install_rulesets(current())
    assert await RulesetVersion.filter(ruleset__name=PLUGIN).count() == 2, "the same release adds nothing"

"""The dashboard, the alert rules and the scrape config name only metrics and jobs that exist, and
the README documents every metric the code defines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from zongzhi.platform.base.observability import metrics
from zongzhi.platform.base.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "zongzhi-dashboard.json"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS = REPO / "deploy" / "prometheus" / "prometheus.yml"
README = REPO / "README.md"
METRIC_NAME = re.compile(r"\bzongzhi_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def defined() -> dict[str, str]:
    """Base name → type of every metric the code defines (module-level objects and scrape-time gauges)."""
    found = {m._name: m._type for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    found.update({name: "gauge" for name in metrics.SCRAPE_TIME})
    return found


def exposed() -> set[str]:
    """The sample names Prometheus stores for them (``_total``, ``_bucket``...)."""
    return {base + suffix for base, kind in defined().items() for suffix in SUFFIXES[kind]}


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = []

    def walk(panels: list[dict]) -> None:
        for panel in panels:
            exprs.extend(t["expr"] for t in panel.get("targets", []))
            walk(panel.get("panels", []))

    walk(dashboard["panels"])
    return exprs


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def scrape_jobs() -> set[str]:
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    return {job["job_name"] for job in config["scrape_configs"]}


def app_paths() -> set[str]:
    from zongzhi.platform.wiring.app import create_app

    return {getattr(route, "path", "") for route in create_app(Settings.from_env({})).routes}


def test_every_metric_has_a_known_type_and_help() -> None:
    assert len(defined()) >= 15
    for m in vars(metrics).values():
        if isinstance(m, MetricWrapperBase):
            assert m._type in SUFFIXES and m._documentation, m._name


def test_dashboard_uses_only_defined_metrics() -> None:
    exprs = dashboard_exprs()
    assert len(exprs) >= 15
    used = {name for expr in exprs for name in METRIC_NAME.findall(expr)}
    unknown = used - exposed()
    assert not unknown, f"the dashboard names metrics the code does not define: {sorted(unknown)}"
    bases = {name for name in defined() if any(name + s in used for s in SUFFIXES[defined()[name]])}
    missing = set(defined()) - bases
    assert not missing, f"metrics no panel shows: {sorted(missing)}"


def test_alert_rules_use_only_defined_metrics_and_scraped_jobs() -> None:
    rules = alert_rules()
    names = {rule["alert"] for rule in rules}
    for wanted in (
        "ZongzhiOutboxBacklogGrowing",
        "ZongzhiDeliveriesFailing",
        "ZongzhiWorkerGone",
        "ZongzhiNotReady",
    ):
        assert wanted in names
    for rule in rules:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        unknown = set(METRIC_NAME.findall(rule["expr"])) - exposed()
        assert not unknown, f"{rule['alert']}: {sorted(unknown)} not defined in the code"
        for job in re.findall(r'job="([^"]+)"', rule["expr"]):
            assert job in scrape_jobs(), f"{rule['alert']}: job {job} is not scraped"


def test_readme_documents_every_metric() -> None:
    text = README.read_text(encoding="utf-8")
    shown = {base: base + ("_total" if kind == "counter" else "") for base, kind in defined().items()}
    missing = [name for name in shown.values() if f"`{name}`" not in text]
    assert not missing, f"README.md does not document: {missing}"


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/healthz", "/metrics"])
def test_probe_paths_are_served(path: str) -> None:
    assert path in app_paths()

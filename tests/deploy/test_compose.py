"""deploy/ stays in step with the code: services, settings names, CLI commands, manifests that parse.

Nothing here runs Docker or Kubernetes; it reads the files the way Compose and kubectl would and checks
them against ``Settings.describe()`` and (once it exists) the CLI's argument parser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from zongzhi.platform.base.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S = DEPLOY / "k8s"
ENV_EXAMPLE = DEPLOY / ".env.example"

SETTING_NAME = re.compile(r"\bZONGZHI_[A-Z0-9_]*[A-Z0-9]\b")
APP_SERVICES = ("migrate", "api", "worker", "beat")
EXPECTED_COMMANDS = {
    "migrate": ["zongzhi", "db", "migrate"],
    "api": ["zongzhi", "serve"],
    "worker": ["zongzhi", "worker"],
    "beat": ["zongzhi", "beat"],
}
#: Variables the deploy files may set besides the settings: read by libraries, documented in the README.
LIBRARY_VARIABLES = {"PROMETHEUS_MULTIPROC_DIR"}
SECRET_SETTINGS = {
    "ZONGZHI_DATABASE_URL",
    "ZONGZHI_SECRET_KEY",
    "ZONGZHI_PII_KEY",
    "ZONGZHI_S3_ACCESS_KEY",
    "ZONGZHI_S3_SECRET_KEY",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict[str, Any]:
    return compose["services"]


def k8s_files() -> list[Path]:
    return sorted(K8S.glob("*.yaml")) + sorted(K8S.glob("*.yml"))


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    docs = []
    for path in k8s_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path, doc))
    return docs


def k8s_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in k8s_documents() if doc.get("kind") == kind}


def as_argv(command: Any) -> list[str]:
    assert isinstance(command, list), f"use the exec (list) form for commands, got {command!r}"
    return [str(part) for part in command]


def known_settings() -> set[str]:
    return {name for name, _default, _doc in Settings.describe()}


# --- Compose -----------------------------------------------------------------------------------------


def test_compose_has_every_service(services):
    expected = {"postgres", "redis", "minio", "minio-init", *APP_SERVICES}
    assert expected <= set(services), f"missing: {sorted(expected - set(services))}"


def test_compose_images(services):
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["minio"]["image"].startswith("minio/minio")
    assert services["minio-init"]["image"].startswith("minio/mc")
    for name in APP_SERVICES:
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / services[name]["build"]["context"] / "deploy" / "Dockerfile").resolve() == (
            DEPLOY / "Dockerfile"
        ).resolve()


def test_compose_bucket_is_created_with_object_lock(services):
    script = " ".join(as_argv(services["minio-init"]["command"]))
    assert "mc mb" in script
    assert "--with-lock" in script
    assert "zongzhi-evidence" in script
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"


def test_compose_commands(services):
    for name, prefix in EXPECTED_COMMANDS.items():
        argv = as_argv(services[name]["command"])
        assert argv[: len(prefix)] == prefix, f"{name}: {argv}"
    assert "--workers" in as_argv(services["api"]["command"])
    assert "0.0.0.0" in as_argv(services["api"]["command"])


def test_compose_start_order(services):
    for name in ("api", "worker", "beat"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["minio-init"]["condition"] == "service_completed_successfully", name
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["redis"]["condition"] == "service_healthy", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"].get("restart") == "no"
    assert services["minio-init"].get("restart") == "no"


def test_compose_healthchecks(services):
    for name in ("postgres", "redis", "minio", "api", "worker"):
        assert services[name]["healthcheck"]["test"], name


def test_compose_app_healthchecks_use_the_probes(services):
    """The API is healthy when ready (/readyz, not just an open port); a worker while it serves metrics."""
    api = " ".join(as_argv(services["api"]["healthcheck"]["test"]))
    assert "http://127.0.0.1:8000/readyz" in api
    worker = " ".join(as_argv(services["worker"]["healthcheck"]["test"]))
    port = services["worker"]["environment"]["ZONGZHI_WORKER_METRICS_PORT"]
    assert f"http://127.0.0.1:{port}/metrics" in worker
    for name in ("api", "worker"):
        assert services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")


def test_compose_production_settings(services):
    known = known_settings()
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert isinstance(env, dict), f"{name}: use the mapping form for environment"
        assert set(env) <= known | LIBRARY_VARIABLES, f"{name}: unknown settings {sorted(set(env) - known)}"
        assert env["ZONGZHI_EVENT_MODE"] == "celery"
        assert env["ZONGZHI_STORAGE"] == "s3"
        assert env["ZONGZHI_DATABASE_URL"].startswith("postgres://")
        assert env["ZONGZHI_BROKER_URL"].startswith("redis://redis:")
        assert env["ZONGZHI_REDIS_URL"].startswith("redis://redis:")
        assert env["ZONGZHI_S3_ENDPOINT"] == "minio:9000"
        assert env["ZONGZHI_S3_BUCKET"] == "zongzhi-evidence"
        # Secrets come from deploy/.env through substitution, never written into the file.
        for secret in ("ZONGZHI_SECRET_KEY", "ZONGZHI_PII_KEY", "ZONGZHI_S3_SECRET_KEY"):
            assert env[secret].startswith("${"), f"{name}: {secret} must come from deploy/.env"


def test_compose_substitutions_are_in_env_example():
    text = COMPOSE.read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    example = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    assert used, "expected ${...} substitutions for the secrets"
    assert used <= example, f"not in .env.example: {sorted(used - example)}"


def test_env_example_holds_no_secrets():
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        if any(word in key for word in ("SECRET", "PASSWORD", "PII")):
            assert value == "", f"{key} must be empty in the example"


# --- Settings names everywhere -------------------------------------------------------------------


def deploy_texts() -> dict[str, str]:
    paths = [COMPOSE, ENV_EXAMPLE, *k8s_files()]
    return {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in paths}


def test_every_named_setting_exists():
    known = known_settings()
    named = {}
    for where, text in deploy_texts().items():
        for name in SETTING_NAME.findall(text):
            named.setdefault(name, where)
    assert named, "no ZONGZHI_* variables found in deploy/"
    unknown = {name: where for name, where in named.items() if name not in known}
    assert not unknown, f"not in Settings.describe(): {unknown}"


# --- Dockerfile ----------------------------------------------------------------------------------------


def test_dockerfile():
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    froms = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert froms and all(image == "python:3.11-slim" for image in froms), froms
    for tool in ("gcc", "g++", "make"):
        assert re.search(rf"\b{re.escape(tool)}(\s|$)", text), f"{tool} (durable_rules' C extension)"
    assert re.search(r"^USER\s+(?!root\b|0\b)\S+", text, re.MULTILINE), "must run as a non-root user"
    cmd = re.findall(r"^CMD\s+(\[.*\])\s*$", text, re.MULTILINE)
    assert cmd, "CMD in exec form"
    assert json.loads(cmd[-1]) == ["zongzhi", "serve", "--host", "0.0.0.0"]


# --- Kubernetes ----------------------------------------------------------------------------------------


def test_k8s_files_parse():
    assert k8s_files(), "deploy/k8s has no manifests"
    docs = k8s_documents()
    assert docs
    for path, doc in docs:
        assert isinstance(doc, dict), path
        assert doc.get("apiVersion") and doc.get("kind"), f"{path.name}: apiVersion and kind"
        if doc["kind"] != "Kustomization":
            assert doc.get("metadata", {}).get("name"), f"{path.name}: metadata.name"


def k8s_containers() -> dict[str, dict[str, Any]]:
    containers = {}
    for kind in ("Deployment", "Job"):
        for name, obj in k8s_objects(kind).items():
            for container in obj["spec"]["template"]["spec"]["containers"]:
                containers[f"{kind}/{name}/{container['name']}"] = container
    return containers


def test_k8s_workloads():
    deployments = k8s_objects("Deployment")
    assert {"zongzhi-api", "zongzhi-worker", "zongzhi-beat"} <= set(deployments)
    assert deployments["zongzhi-beat"]["spec"]["replicas"] == 1, "exactly one beat"
    assert deployments["zongzhi-beat"]["spec"]["strategy"]["type"] == "Recreate"
    for name, prefix in (
        ("zongzhi-api", ["zongzhi", "serve"]),
        ("zongzhi-worker", ["zongzhi", "worker"]),
        ("zongzhi-beat", ["zongzhi", "beat"]),
    ):
        spec = deployments[name]["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items(), name
        argv = as_argv(spec["template"]["spec"]["containers"][0]["command"])
        assert argv[: len(prefix)] == prefix, f"{name}: {argv}"
    jobs = k8s_objects("Job")
    assert any(
        as_argv(c["command"])[:3] == ["zongzhi", "db", "migrate"]
        for job in jobs.values()
        for c in job["spec"]["template"]["spec"]["containers"]
    ), "a migration Job"
    services = k8s_objects("Service")
    api_labels = deployments["zongzhi-api"]["spec"]["template"]["metadata"]["labels"]
    assert any(svc["spec"]["selector"].items() <= api_labels.items() for svc in services.values())


def test_k8s_config_and_secrets():
    configmaps = k8s_objects("ConfigMap")
    secrets = k8s_objects("Secret")
    for where, container in k8s_containers().items():
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in configmaps, where
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets, where
    for configmap in configmaps.values():
        leaked = SECRET_SETTINGS & set(configmap.get("data", {}))
        assert not leaked, f"secrets belong in the Secret, not the ConfigMap: {sorted(leaked)}"
    in_secrets: set[str] = set()
    for secret in secrets.values():
        in_secrets |= set(secret.get("stringData", {})) | set(secret.get("data", {}))
    missing = SECRET_SETTINGS - in_secrets
    assert not missing, f"missing from the Secret: {sorted(missing)}"


def test_k8s_probes_use_the_app_probe_paths():
    from tests.deploy.test_observability import app_paths

    paths = app_paths()
    deployments = k8s_objects("Deployment")
    api = deployments["zongzhi-api"]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/livez"
    worker = deployments["zongzhi-worker"]["spec"]["template"]["spec"]["containers"][0]
    port = k8s_objects("ConfigMap")["zongzhi-config"]["data"]["ZONGZHI_WORKER_METRICS_PORT"]
    assert {p["name"]: p["containerPort"] for p in worker["ports"]}["metrics"] == int(port)
    assert worker["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    for name, container in (("api", api), ("worker", worker)):
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if probe in container:
                declared = {p["name"] for p in container["ports"]}
                assert container[probe]["httpGet"]["port"] in declared, f"{name} {probe}"
                if name == "api":
                    assert container[probe]["httpGet"]["path"] in paths, f"{name} {probe}"


def test_kustomization_lists_existing_files():
    kustomization = K8S / "kustomization.yaml"
    if not kustomization.exists():
        pytest.skip("no kustomization.yaml")
    for resource in yaml.safe_load(kustomization.read_text(encoding="utf-8"))["resources"]:
        assert (K8S / resource).is_file(), resource


# --- The CLI knows every command deploy/ runs -----------------------------------------------------------


def deploy_commands(services) -> dict[str, list[str]]:
    commands = {f"compose/{name}": as_argv(services[name]["command"]) for name in APP_SERVICES}
    for where, container in k8s_containers().items():
        commands[f"k8s/{where}"] = as_argv(container["command"])
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    commands["Dockerfile CMD"] = json.loads(re.findall(r"^CMD\s+(\[.*\])\s*$", text, re.MULTILINE)[-1])
    return commands


def test_cli_parser_accepts_deploy_commands(services):
    import click

    from zongzhi.platform.wiring.cli import parse

    refused = []
    for where, argv in deploy_commands(services).items():
        assert argv[0] == "zongzhi", where
        try:
            parse(argv[1:])
        except click.UsageError as exc:  # click's way of refusing a command line
            refused.append(f"{where}: {' '.join(argv)} ({exc.format_message()})")
    assert not refused, "the CLI refuses commands that deploy/ runs:\n" + "\n".join(refused)

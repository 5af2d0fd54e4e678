"""The ``zongzhi`` command as an operator runs it: in a subprocess, on its own embedded database."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import pytest

from zongzhi.platform.base.progress import Progress
from zongzhi.platform.wiring.cli import build_cli, main
from zongzhi.storage.testing import free_port

COMMANDS = [
    ["serve"],
    ["demo"],
    ["db", "migrate"],
    ["users", "create"],
    ["tokens", "create"],
    ["worker"],
    ["beat"],
    ["rules", "lint"],
    ["rules", "simulate"],
    ["calendar", "load"],
    ["schema", "export"],
    ["users", "list"],
    ["backup"],
    ["restore"],
    ["report"],
]


def _zongzhi(tmp: Path, *args: str, check: bool = True, **env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONGZHI_")}
    env.update({"ZONGZHI_DATA_DIR": str(tmp), "ZONGZHI_LOG_LEVEL": "WARNING", **env_vars})
    result = subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"zongzhi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_every_command_has_help(command, capsys):
    assert main([*command, "--help"]) == 0
    assert f"Usage: zongzhi {' '.join(command)}" in capsys.readouterr().out


def test_users_and_tokens(tmp_path):
    _zongzhi(tmp_path, "db", "migrate")
    bad = _zongzhi(tmp_path, "users", "create", "x", "--roles", "wizard", check=False)
    assert (
        bad.returncode == 2 and bad.stderr.strip() == "zongzhi users create: unknown role(s): wizard (roles)"
    )
    missing = _zongzhi(
        tmp_path, "users", "create", "x", "--roles", "staff", "--center", "999999999999", check=False
    )
    assert missing.returncode == 2 and "no center" in missing.stderr
    assert "created user ops" in _zongzhi(tmp_path, "users", "create", "ops", "--roles", "admin").stdout
    token = _zongzhi(tmp_path, "tokens", "create", "ops", "--name", "laptop").stdout.strip()
    assert token.startswith("zz_")
    jwt = _zongzhi(tmp_path, "tokens", "create", "ops", "--jwt", "--days", "1").stdout.strip()
    assert jwt.count(".") == 2


def test_rules_lint_and_simulate(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        "ruleset: t\nrules:\n  - id: a\n    on: case.received\n    when: {channel: police}\n"
        "    then: [{tag: {add: [x]}}]\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "ruleset: t\nrules:\n  - id: a\n    on: case.recieved\n    then: [{teleport: {}}]\n", encoding="utf-8"
    )
    assert "is valid" in _zongzhi(tmp_path, "rules", "lint", str(good)).stdout
    linted = _zongzhi(tmp_path, "rules", "lint", str(bad), check=False)
    assert linted.returncode == 1
    assert f"{bad}:4: rule 'a' field 'on'" in linted.stdout and "teleport" in linted.stdout
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"type": "case.received", "channel": "police"}\n{"type": "case.received", "channel": "grid"}\n',
        encoding="utf-8",
    )
    lines = _zongzhi(tmp_path, "rules", "simulate", str(good), "--events", str(events)).stdout.splitlines()
    fired = [json.loads(line)["fired"] for line in lines]
    assert fired == [[{"rule": "a", "priority": 0, "actions": [{"tag": {"add": ["x"]}}]}], []]


def test_calendar_load(tmp_path):
    year = tmp_path / "2027.yaml"
    year.write_text(
        "year: 2027\nholidays: [2027-01-01, 2027-02-06]\nworkdays: [2027-02-14]\n", encoding="utf-8"
    )
    assert "stored 3 days for 2027" in _zongzhi(tmp_path, "calendar", "load", str(year)).stdout
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("year: 2027\nholidays: [2026-01-01]\n", encoding="utf-8")
    result = _zongzhi(tmp_path, "calendar", "load", str(wrong), check=False)
    assert result.returncode == 2 and "not in 2027" in result.stderr


def test_schema_export_to_stdout(tmp_path):
    out = _zongzhi(tmp_path, "schema", "export", "-o", "-").stdout
    assert "type Query" in out and "createCase" in out


def _one_line_mistake(result: subprocess.CompletedProcess, command: str) -> str:
    """A user's mistake: non-zero exit, exactly one line on stderr naming the command, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"zongzhi {command}: "), lines[0]
    return lines[0]


def test_version():
    result = subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and re.fullmatch(r"zongzhi \d+\.\d+\.\d+\S*\n", result.stdout)


def _commands(command: click.Command, path: str = "zongzhi"):
    yield path, command
    if isinstance(command, click.Group):
        for name, child in command.commands.items():
            yield from _commands(child, f"{path} {name}")


def test_every_option_has_help_and_shows_its_default(capsys):
    undocumented = [
        f"{path} {param.name}"
        for path, command in _commands(build_cli())
        for param in command.params
        if not param.help
    ]
    assert not undocumented, undocumented
    assert main(["serve", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "[default: 8000]" in text and "[default: 127.0.0.1]" in text
    assert main(["restore", "--help"]) == 0
    restore = capsys.readouterr().out
    assert "default: False" not in restore and "default: None" not in restore


def test_mistakes_are_one_line_without_traceback(tmp_path):
    _zongzhi(tmp_path, "db", "migrate")
    missing = _zongzhi(tmp_path, "rules", "lint", str(tmp_path / "nope.yaml"), check=False)
    assert _one_line_mistake(missing, "rules lint").endswith("nope.yaml: No such file or directory")

    bad = tmp_path / "bad.yaml"
    bad.write_text("year: [2027,\nholidays: {\n", encoding="utf-8")
    line = _one_line_mistake(_zongzhi(tmp_path, "calendar", "load", str(bad), check=False), "calendar load")
    assert "bad YAML in" in line and "line" in line

    unknown_center = _zongzhi(
        tmp_path, "report", "--center", "999999999999", "--period", "2026-10", check=False
    )
    assert _one_line_mistake(unknown_center, "report") == "zongzhi report: no center with code 999999999999"
    unknown_grid = _zongzhi(
        tmp_path, "users", "create", "x", "--roles", "grid_worker", "--grids", "NOPE", check=False
    )
    assert _one_line_mistake(unknown_grid, "users create") == "zongzhi users create: no grid with code NOPE"
    assert _one_line_mistake(_zongzhi(tmp_path, "tokens", "create", "nobody", check=False), "tokens create")

    nothing_listens = free_port()
    unreachable = _zongzhi(
        tmp_path,
        "db",
        "migrate",
        check=False,
        ZONGZHI_DATABASE_URL=f"postgres://zz:pw@127.0.0.1:{nothing_listens}/zongzhi",
        ZONGZHI_SECRET_KEY="s" * 40,
    )
    line = _one_line_mistake(unreachable, "db migrate")
    assert line.startswith(
        f"zongzhi db migrate: cannot reach the database at 127.0.0.1:{nothing_listens}/zongzhi"
    )
    assert "pw" not in line

    no_secret = _zongzhi(tmp_path, "db", "migrate", check=False, ZONGZHI_DATABASE_URL="postgres://zz@h/zz")
    assert "ZONGZHI_SECRET_KEY" in _one_line_mistake(no_secret, "db migrate")

    debug = _zongzhi(tmp_path, "rules", "lint", str(tmp_path / "nope.yaml"), check=False, ZONGZHI_DEBUG="1")
    assert debug.returncode == 2 and "Traceback" in debug.stderr, "ZONGZHI_DEBUG=1 shows the traceback"


def test_serve_refuses_a_busy_port_before_any_start_up_work(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _zongzhi(tmp_path, "serve", "--port", str(port), check=False)
    assert _one_line_mistake(result, "serve").startswith(f"zongzhi serve: port {port} on 127.0.0.1 is in use")
    assert not (tmp_path / "zongzhi.sqlite3").exists(), "no migration ran"


def test_users_list(tmp_path):
    _zongzhi(tmp_path, "db", "migrate")
    _zongzhi(tmp_path, "users", "create", "ops", "--roles", "admin")
    lines = _zongzhi(tmp_path, "users", "list").stdout.splitlines()
    assert lines[0].split() == ["USERNAME", "ROLES", "CENTER", "DEPARTMENT", "ACTIVE"]
    assert lines[1].split() == ["ops", "admin", "-", "-", "yes"]


def test_progress_draws_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    with Progress.start("seeding cases", 4, stream=screen) as bar:
        for _ in range(4):
            bar.advance()
    drawn = screen.getvalue()
    assert drawn.startswith("\r") and "seeding cases" in drawn and "100%" in drawn and "4/4" in drawn
    piped = io.StringIO()
    with Progress.start("seeding cases", 4, stream=piped) as bar:
        bar.advance(4)
    assert piped.getvalue() == ""


def test_demo_serves_on_its_port_with_tokens_per_township_role(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZONGZHI_")}
    env.update(ZONGZHI_DATA_DIR=str(tmp_path), ZONGZHI_LOG_LEVEL="WARNING")
    demo = subprocess.Popen(
        [sys.executable, "-m", "zongzhi.platform.wiring.cli", "demo", "--port", str(port), "--cases", "3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        printed = _read_until(demo, "(jurisdiction)")
        assert f"GraphiQL at http://127.0.0.1:{port}/graphql" in printed
        for code in ["330199000000", "330199001000", "330199002000", "330199003000", "330199003003"]:
            assert code in printed
        tokens = {m[0]: m[1] for m in re.findall(r"^  (\w+) .* (eyJ\S+)$", printed, re.M)}
        for t in (1, 2, 3):
            assert {f"township{t}_staff", f"township{t}_mediator", f"township{t}_leader"} <= set(tokens)
        assert {"village1_grid", "village4_grid", "village7_grid", "county_dispatcher", "admin"} <= set(
            tokens
        )
        url = f"http://127.0.0.1:{port}/graphql"
        headers = {"Authorization": f"Bearer {tokens['county_dispatcher']}"}
        _wait_for(url)
        cases = httpx.post(
            url,
            json={"query": "{ cases(first: 100) { edges { node { evidence { id } } } } }"},
            headers=headers,
        ).json()["data"]["cases"]["edges"]
        evidence_id = next(e["id"] for c in cases for e in c["node"]["evidence"])
        link = httpx.post(
            url,
            json={
                "query": "mutation($id: ID!) { evidenceDownloadUrl(id: $id) { url } }",
                "variables": {"id": evidence_id},
            },
            headers=headers,
        ).json()["data"]["evidenceDownloadUrl"]["url"]
        assert link.startswith(f"http://127.0.0.1:{port}/evidence-local/")
        assert httpx.get(link).content.startswith(b"\x89PNG")

        busy = _zongzhi(tmp_path / "other", "serve", "--port", str(port), check=False)
        assert _one_line_mistake(busy, "serve").startswith(
            f"zongzhi serve: port {port} on 127.0.0.1 is in use"
        )
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    assert "\r" not in demo.stderr.read(), "no progress bar when stderr is not a terminal"


def _read_until(process: subprocess.Popen, marker: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    out = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"demo ended early: {''.join(out)}\n{process.stderr.read()}")
        out.append(line)
        if marker in line:
            return "".join(out)
    raise AssertionError(f"no {marker!r} within {timeout} s: {''.join(out)}")


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def test_readme_command_line_block_lists_every_command():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Command line", 1)[1].split("```", 2)[1]
    lines = [line for line in block.splitlines() if line.startswith("zongzhi ")]

    def shown(words: list[str]) -> bool:
        group, rest = words[1], words[2:]
        return any(
            line.split()[1] == group and all(re.search(rf"\b{w}\b", line) for w in rest) for line in lines
        )

    leaves = [
        path.split() for path, command in _commands(build_cli()) if not isinstance(command, click.Group)
    ]
    missing = [" ".join(words) for words in leaves if not shown(words)]
    assert not missing, f"README.md's Command line block does not show: {missing}"


def test_parse_reads_a_command_line_without_running_it():
    from zongzhi.platform.wiring.cli import parse

    ctx = parse(["users", "create", "ops", "--roles", "admin"])
    assert ctx.command_path == "zongzhi users create"
    assert ctx.params["username"] == "ops" and ctx.params["roles"] == "admin" and ctx.params["grids"] is None
    assert parse(["serve"]).params == {"host": "127.0.0.1", "port": 8000, "workers": 1}
    for refused in (
        ["serve", "--bogus"],
        ["users", "nobody"],
        ["users", "create", "ops"],
        ["report", "--format", "doc"],
    ):
        with pytest.raises(click.UsageError):
            parse(refused)


def test_a_refused_command_line_exits_2_with_click_usage(tmp_path):
    result = _zongzhi(tmp_path, "users", "create", "ops", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Usage: zongzhi users create" in result.stderr and "Missing option '--roles'" in result.stderr
    assert not (tmp_path / "zongzhi.sqlite3").exists(), "nothing started"


def test_rules_impact_takes_one_of_file_and_version_before_any_start_up(tmp_path):
    neither = _zongzhi(tmp_path, "rules", "impact", "core", "--since", "2026-01-01", check=False)
    assert (
        _one_line_mistake(neither, "rules impact")
        == "zongzhi rules impact: one of the options --file and --version is required"
    )
    both = _zongzhi(
        tmp_path,
        "rules",
        "impact",
        "core",
        "--since",
        "2026-01-01",
        "--file",
        "x.yaml",
        "--version",
        "2",
        check=False,
    )
    assert "exclude each other" in _one_line_mistake(both, "rules impact")
    assert not (tmp_path / "zongzhi.sqlite3").exists(), "no migration ran"


def test_the_commands_start_the_platform_in_one_place():
    """Only cli/context.py opens, migrates and closes the database or starts the runtime."""
    package = Path(__file__).parents[2] / "zongzhi" / "platform" / "wiring" / "cli"
    start_up = re.compile(r"\b(db\.(init|close|migrate)|Platform\.build|plugins\.load)\(")
    elsewhere = [
        f"{path.name}: {match.group(0)}"
        for path in sorted(package.glob("*.py"))
        if path.name != "context.py"
        for match in start_up.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not elsewhere, elsewhere
    assert start_up.search((package / "context.py").read_text(encoding="utf-8"))


def test_partner_credentials_from_create_to_revoke(tmp_path):
    created = _zongzhi(
        tmp_path, "partners", "create", "court_docking", "示范县人民法院", "--callback", "http://x/cb"
    )
    key_id = re.search(r"^key id: (\S+)$", created.stdout, re.M)[1]
    assert re.search(r"^secret: \S{20,}$", created.stdout, re.M) and "shown only now" in created.stdout
    listed = _zongzhi(tmp_path, "partners", "list").stdout.split()
    assert listed[:4] == [key_id, "court_docking", "active", "示范县人民法院"]
    rotated = _zongzhi(tmp_path, "partners", "rotate", key_id).stdout
    assert rotated.startswith("secret: ") and rotated.split()[1] not in created.stdout
    assert _zongzhi(tmp_path, "partners", "revoke", key_id).stdout == f"revoked {key_id}\n"
    assert _zongzhi(tmp_path, "partners", "list").stdout.split()[2] == "revoked"
    unknown = _zongzhi(tmp_path, "partners", "create", "no_such_plugin", "X", check=False)
    assert (
        _one_line_mistake(unknown, "partners create")
        == "zongzhi partners create: no plugin 'no_such_plugin' is loaded (plugin)"
    )
    no_version = _zongzhi(tmp_path, "rules", "diff", "core", "1", "2", check=False)
    assert _one_line_mistake(no_version, "rules diff").startswith("zongzhi rules diff: no version")

"""The ``zongzhi`` command as an operator runs it: in a subprocess, on its own embedded database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zongzhi.platform.cli import build_parser

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
]


def _zongzhi(tmp: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "ZONGZHI_DATA_DIR": str(tmp), "ZONGZHI_LOG_LEVEL": "WARNING"}
    env.pop("ZONGZHI_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "zongzhi.platform.cli", *args],
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
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: zongzhi" in capsys.readouterr().out


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

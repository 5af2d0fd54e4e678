"""The README's two commands and CI's entry point: present, executable, valid bash, wired together."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = [REPO / "scripts" / "test", REPO / "scripts" / "demo", REPO / ".ci" / "run"]
SOURCED = [REPO / "scripts" / "lib" / "venv.sh"]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_script_is_executable_strict_bash(path: Path):
    assert path.is_file()
    assert os.access(path, os.X_OK), f"{path} must be executable (git update-index --chmod=+x)"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text


@pytest.mark.parametrize("path", SCRIPTS + SOURCED, ids=lambda p: str(p.relative_to(REPO)))
def test_script_syntax(path: Path):
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_ci_runs_the_readme_test_command():
    lines = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == "./scripts/test", "CI must end by running exactly the README's test command"


def test_demo_hands_over_to_the_cli():
    text = (REPO / "scripts" / "demo").read_text(encoding="utf-8")
    assert 'exec "$VENV_DIR/bin/zongzhi" demo "$@"' in text


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed")
def test_shellcheck():
    subprocess.run(["shellcheck", "-x", *map(str, SCRIPTS)], check=True, cwd=REPO)

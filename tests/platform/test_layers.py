"""The layers' import contracts (pyproject's ``[tool.importlinter]``) hold, and a broken one fails.

``lint-imports`` runs on a copy of the package in a temporary directory (found first on
``PYTHONPATH``), once as it is and once per contract with one forbidden import added, so the test
proves each contract can fail, not only that today's tree passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")


def _copy_tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "zongzhi", tmp_path / "zongzhi", ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=120
    )


def _add_import(module: Path, statement: str) -> None:
    text = module.read_text(encoding="utf-8")
    module.write_text(f"{text}\n{statement}\n", encoding="utf-8")


def test_the_tree_keeps_every_contract(tmp_path):
    result = _lint(_copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        (
            "zongzhi/platform/base/codes.py",
            "from zongzhi.platform.services import cases  # noqa",
            "The platform's layers import downwards only",
        ),
        (
            "zongzhi/platform/services/org.py",
            "from zongzhi.platform.schema import ids  # noqa",
            "The platform's layers import downwards only",
        ),
        (
            "zongzhi/storage/keys.py",
            "from zongzhi.platform.base import settings  # noqa",
            "Storage imports nothing of the platform or the plugins",
        ),
        (
            "zongzhi/platform/wiring/runtime.py",
            "from zongzhi.platform.wiring import worker  # noqa",
            "No import cycles between sibling modules",
        ),
        (
            "zongzhi/plugins/court_docking/payloads.py",
            "from zongzhi.platform.services import evidence  # noqa",
            "Plugins import only the public plugin API",
        ),
    ],
)
def test_one_forbidden_import_breaks_its_contract(tmp_path, module, statement, contract):
    tree = _copy_tree(tmp_path)
    _add_import(tree / module, statement)
    result = _lint(tree)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout, result.stdout

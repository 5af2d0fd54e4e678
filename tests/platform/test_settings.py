"""Every setting is documented in the README, and production refuses to start without a secret."""

from pathlib import Path

import pytest

from zongzhi.platform.base.settings import Settings

README = Path(__file__).parents[2] / "README.md"


def test_readme_lists_every_setting():
    text = README.read_text(encoding="utf-8")
    missing = [env for env, _default, _doc in Settings.describe() if f"`{env}`" not in text]
    assert not missing, f"README.md does not document: {', '.join(missing)}"


def test_embedded_secret_is_generated_once(tmp_path):
    first = Settings.from_env({"ZONGZHI_DATA_DIR": str(tmp_path)})
    second = Settings.from_env({"ZONGZHI_DATA_DIR": str(tmp_path)})
    assert len(first.secret_key) > 40 and first.secret_key == second.secret_key
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


def test_production_needs_a_secret(tmp_path):
    with pytest.raises(ValueError, match="ZONGZHI_SECRET_KEY"):
        Settings.from_env({"ZONGZHI_DATA_DIR": str(tmp_path), "ZONGZHI_DATABASE_URL": "postgres://x@y/z"})

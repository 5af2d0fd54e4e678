"""Settings for stores under test (kept out of conftest.py so test modules can import them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from zongzhi.platform.base.settings import Settings


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    is_moto: bool


def s3_settings(server: S3Server, tmp_path: Path, **overrides) -> Settings:
    values = {
        "storage": "s3",
        "s3_endpoint": server.endpoint,
        "s3_access_key": server.access_key,
        "s3_secret_key": server.secret_key,
        "s3_bucket": f"zz-test-{uuid.uuid4().hex[:12]}",
        "data_dir": tmp_path,
        "evidence_retention_days": 1,
    }
    values.update(overrides)
    return Settings(**values)


def local_settings(tmp_path: Path, **overrides) -> Settings:
    values = {
        "storage": "local",
        "data_dir": tmp_path,
        "secret_key": "test-secret",
        "public_url": "http://zongzhi.test",
    }
    values.update(overrides)
    return Settings(**values)

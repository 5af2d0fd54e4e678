"""Running a test's own platform: the helper behind ``tests/conftest.py``'s platform fixtures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from zongzhi.platform.base import current
from zongzhi.platform.wiring.platform import Platform


@contextlib.contextmanager
def running(platform: Platform) -> Iterator[Platform]:
    """``platform`` as the current one (this context's and the process's) inside the block; its rules
    are unloaded from durable_rules afterwards."""
    current.install(platform)
    try:
        with current.use(platform):
            yield platform
    finally:
        platform.close_engine()
        current.uninstall(platform)

"""The served app leaves its start-up heap out of the garbage collector's full passes."""

from __future__ import annotations

import gc

from zongzhi.platform.wiring.app import create_app


async def test_start_up_objects_are_frozen(settings, world):
    """A full pass over the start-up heap took ~50 ms every few case-list pages (bench/case_list.py)."""
    frozen_before = gc.get_freeze_count()
    app = create_app(settings, manage_db=False)
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 0
    finally:
        if frozen_before == 0:
            gc.unfreeze()

"""Deliveries in these tests are sent when the test calls ``deliver_due``, never in the background.

An earlier test that served the app with its lifespan leaves the embedded mode's kicker installed,
which would start a background sweep that claims a delivery while the test's own sweep finds
nothing due.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zongzhi.platform import partners


@pytest.fixture(autouse=True)
def no_background_delivery() -> Iterator[None]:
    partners.set_kicker(lambda: None)
    yield
    partners.set_kicker(lambda: None)

"""The domain bounds: text, tags, dates and amounts refused with the field named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from zongzhi.platform.base import limits
from zongzhi.platform.base.errors import ValidationFailed


@pytest.mark.parametrize(
    ("value", "multiline"),
    [
        ("a\x00b", True),
        ("a\x1bb", True),
        ("a\x7fb", True),
        ("a\nb", False),
        ("a\ud800", True),
        ("\udfff", False),
    ],
)
def test_unstorable_text_is_refused(value, multiline):
    with pytest.raises(ValidationFailed) as refused:
        limits.check_text(value, "title", 100, multiline=multiline)
    assert refused.value.field == "title"


def test_free_text_keeps_line_breaks_and_tabs():
    assert limits.check_note("第一行\n第二行\r\n\t缩进", "note") == "第一行\n第二行\r\n\t缩进"


def test_length_and_required():
    assert limits.check_text("x" * 200, "title", limits.TITLE_MAX) is not None
    for value in ("x" * 201, " ", None):
        with pytest.raises(ValidationFailed):
            limits.check_text(value, "title", limits.TITLE_MAX, required=True)


def test_tags():
    assert limits.check_tags(["a"] * limits.TAGS_MAX) == ["a"] * limits.TAGS_MAX
    with pytest.raises(ValidationFailed, match="at most"):
        limits.check_tags(["a"] * (limits.TAGS_MAX + 1))
    with pytest.raises(ValidationFailed) as refused:
        limits.check_tags(["ok", "x" * (limits.TAG_MAX + 1)], "add")
    assert refused.value.field == "add[1]"


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
        datetime(1900, 1, 1, tzinfo=UTC),
        datetime(2100, 1, 2, tzinfo=UTC),
    ],
)
def test_datetimes_need_a_zone_and_a_sane_year(value):
    with pytest.raises(ValidationFailed) as refused:
        limits.check_datetime(value, "createdFrom")
    assert refused.value.field == "createdFrom"


def test_deadlines_may_lie_a_little_in_the_past():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert limits.check_deadline(now - timedelta(days=30), "resolveBy", now) == now - timedelta(days=30)
    with pytest.raises(ValidationFailed):
        limits.check_deadline(now - timedelta(days=400), "resolveBy", now)
    east = datetime(2026, 6, 2, 8, tzinfo=timezone(timedelta(hours=8)))
    assert limits.check_deadline(east, "resolveBy", now) == datetime(2026, 6, 2, tzinfo=UTC)


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "sNaN", "1e30", "-1", "0.001"])
def test_amounts_out_of_bounds(value):
    with pytest.raises(ValidationFailed) as refused:
        limits.check_amount(Decimal(value))
    assert refused.value.field == "amount"


def test_amounts_in_bounds():
    assert limits.check_amount(Decimal("1200.5")) == Decimal("1200.50")
    assert limits.check_amount(limits.AMOUNT_MAX) == limits.AMOUNT_MAX
    assert limits.check_amount(float("1200.25")) == Decimal("1200.25")

"""Domain bounds of everything a client can send, in one place, with the checks services use.

Every text has a length that fits its purpose and no control characters (NUL, escapes; tab and line
breaks only in free text); every date lies in a range a case can have; every amount is a finite
number of yuan with at most two decimals. A value outside its bound is a ``ValidationFailed``
naming the field, raised before anything is written. The GraphQL layer also refuses, for every
argument of every field, strings that cannot be stored at all (lone surrogates, NUL) or that are
longer than ``ANY_TEXT_MAX`` (see ``zongzhi.platform.schema.sanitise``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from zongzhi.platform.base.errors import ValidationFailed

# --- text lengths (characters) -------------------------------------------------------------------

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
ADDRESS_MAX = 200
NAME_MAX = 60
NOTE_MAX = 2_000  # notes, reasons, outcomes, agreements, answers
TAG_MAX = 40
TAGS_MAX = 20
SEARCH_MAX = 100  # search texts (case filter text, people name)
CASE_NUMBER_MAX = 40
CODE_MAX = 40  # category, kind, channel, levels and other codes
#: The longest string any argument may carry (rule sources, ruleset names etc. have their own).
ANY_TEXT_MAX = 100_000

# --- dates ---------------------------------------------------------------------------------------

#: The earliest and latest instant a case date may name (the republic's founding, and 2100).
DATE_MIN = datetime(1949, 10, 1, tzinfo=UTC)
DATE_MAX = datetime(2100, 1, 1, tzinfo=UTC)
#: How far in the past a new deadline may lie (a deadline set after the fact, e.g. from paper files).
DEADLINE_PAST = timedelta(days=366)

# --- amounts ------------------------------------------------------------------------------------

#: The largest amount (yuan) an agreement may record: 10 billion, two decimals.
AMOUNT_MAX = Decimal("10000000000")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")


def text_problem(value: str, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text, or ``None``."""
    try:
        value.encode("utf-8")  # strict: any surrogate code point (category Cs) fails here
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode)"
    if _CONTROL.search(value) or (not multiline and _LINE_BREAKS.search(value)):
        return "contains control characters"
    return None


def check_text(
    value: str | None,
    field: str,
    max_len: int,
    *,
    required: bool = False,
    multiline: bool = False,
) -> str | None:
    """``value`` if it is text of at most ``max_len`` characters (and not blank if required)."""
    if value is None:
        if required:
            raise ValidationFailed(f"{field} is required", field=field)
        return None
    if required and not value.strip():
        raise ValidationFailed(f"{field} is required", field=field)
    if len(value) > max_len:
        raise ValidationFailed(f"{field} is longer than {max_len} characters", field=field)
    problem = text_problem(value, multiline)
    if problem:
        raise ValidationFailed(f"{field} {problem}", field=field)
    return value


def check_note(value: str | None, field: str, *, required: bool = False) -> str | None:
    """A note, reason, outcome or agreement: free text of at most ``NOTE_MAX`` characters."""
    return check_text(value, field, NOTE_MAX, required=required, multiline=True)


def check_tags(tags: Iterable[str], field: str = "tags") -> list[str]:
    tags = list(tags)
    if len(tags) > TAGS_MAX:
        raise ValidationFailed(f"at most {TAGS_MAX} tags", field=field)
    for i, tag in enumerate(tags):
        check_text(tag, f"{field}[{i}]", TAG_MAX, required=True)
    return tags


def check_datetime(
    value: datetime | None, field: str, *, earliest: datetime = DATE_MIN, latest: datetime = DATE_MAX
) -> datetime | None:
    """``value`` in UTC, if it names its zone and lies within ``earliest`` .. ``latest``."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(f"{field} needs a time zone (e.g. +08:00)", field=field)
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationFailed(f"{field} is out of range", field=field) from None
    if not earliest <= utc <= latest:
        raise ValidationFailed(
            f"{field} must lie between {earliest:%Y-%m-%d %H:%M} and {latest:%Y-%m-%d %H:%M} UTC", field=field
        )
    return utc


def check_deadline(value: datetime | None, field: str, now: datetime) -> datetime | None:
    """A deadline: no earlier than ``DEADLINE_PAST`` before now, no later than ``DATE_MAX``."""
    return check_datetime(value, field, earliest=max(DATE_MIN, now - DEADLINE_PAST))


def check_date(value: date | None, field: str) -> date | None:
    if value is None:
        return None
    if not DATE_MIN.date() <= value <= DATE_MAX.date():
        raise ValidationFailed(
            f"{field} must lie between {DATE_MIN:%Y-%m-%d} and {DATE_MAX:%Y-%m-%d}", field=field
        )
    return value


def check_amount(value: Decimal | float | None, field: str = "amount") -> Decimal | None:
    """A finite, non-negative amount of yuan up to ``AMOUNT_MAX``, at most two decimals."""
    if value is None:
        return None
    try:
        amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed(f"{field} is not a number", field=field) from None
    if not amount.is_finite() or (isinstance(value, float) and not math.isfinite(value)):
        raise ValidationFailed(f"{field} must be a finite number", field=field)
    if not Decimal(0) <= amount <= AMOUNT_MAX:
        raise ValidationFailed(f"{field} must be between 0 and {AMOUNT_MAX}", field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{field} has at most two decimals", field=field)
    return amount.quantize(Decimal("0.01"))


# --- the bounds as the schema's descriptions say them ---------------------------------------------

_PLAIN = "no control characters"
TITLE_DOC = f"1 to {TITLE_MAX} characters, {_PLAIN}."
DESCRIPTION_DOC = f"At most {DESCRIPTION_MAX} characters; line breaks allowed, other control characters not."
ADDRESS_DOC = f"At most {ADDRESS_MAX} characters, {_PLAIN}."
NAME_DOC = f"1 to {NAME_MAX} characters, {_PLAIN}."
NOTE_DOC = f"At most {NOTE_MAX} characters; line breaks allowed, other control characters not."
TAGS_DOC = f"At most {TAGS_MAX} tags of 1 to {TAG_MAX} characters each."
DEADLINE_DOC = (
    f"With a time zone (e.g. +08:00); no more than a year in the past and before {DATE_MAX:%Y-%m-%d}."
)
DATETIME_DOC = f"With a time zone (e.g. +08:00), between {DATE_MIN:%Y-%m-%d} and {DATE_MAX:%Y-%m-%d}."
AMOUNT_DOC = f"Yuan: a finite number from 0 to {AMOUNT_MAX:,}, at most two decimals."

"""How fact values compare: the one definition both the reference interpreter and the fact shaping
for durable_rules follow.

- A field is reached by a dotted path through nested dicts. A missing key, a ``None`` value or a
  non-dict on the way means the field is *missing*.
- Numbers (``int``/``float``, not ``bool``) compare as fixed-point with 6 decimals
  (``round(x * 10**6)``) so that 3 == 3.0 and 0.1 + 0.2 == 0.3; a number that is not finite or whose
  magnitude is 10**12 or more is *present but not comparable* (it equals nothing and orders nothing).
- Strings equal strings, booleans equal booleans, numbers equal numbers: ``1`` is not ``"1"`` and not
  ``true``. Lists and dicts equal nothing.
"""

from __future__ import annotations

import math
from typing import Any

MISSING: Any = object()
NUMBER_LIMIT = 10**12
SCALE = 1_000_000


def split_path(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def lookup(fact: Any, parts: tuple[str, ...]) -> Any:
    """The value at ``parts`` in ``fact``, or :data:`MISSING`."""
    value = fact
    for part in parts:
        if not isinstance(value, dict):
            return MISSING
        value = value.get(part, MISSING)
        if value is None:
            return MISSING
    return value


def fixed_number(value: Any) -> int | None:
    """The fixed-point form of a comparable number, or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if abs(value) >= NUMBER_LIMIT:
        return None
    if isinstance(value, int):
        return value * SCALE
    return round(value * SCALE)


def encode(value: Any) -> str:
    """A string that is equal for two values exactly when they are equal in the rule language.

    ``m:`` missing, ``s:`` string, ``n:`` comparable number, ``b:`` boolean, ``o:`` anything else that
    is present (list, dict, out-of-range number) and so equal to no rule constant.
    """
    if value is MISSING:
        return "m:"
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, bool):
        return "b:1" if value else "b:0"
    number = fixed_number(value)
    if number is not None:
        return f"n:{number}"
    return "o:"

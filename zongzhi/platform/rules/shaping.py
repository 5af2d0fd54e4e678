"""Fact shaping: turn an enriched fact into the flat, single-typed message a compiled ruleset expects.

Deterministic and driven only by the compiled ruleset's field plan (see :mod:`.compiler` for why and
for the key names). Only the paths a ruleset tests are written, which keeps messages small (cheap to
serialise and parse) and under durable_rules' per-message property limit.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from .compiler import SENTINEL, FieldPlan
from .values import MISSING, encode, fixed_number, lookup, split_path


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class Shaper:
    """Shapes facts for one compiled ruleset; build once per loaded ruleset, reuse for every fact."""

    def __init__(self, fields: list[FieldPlan]):
        self._fields = [
            (
                split_path(f.path),
                "q__" + f.path if f.q else None,
                "lo__" + f.path if f.lo else None,
                "hi__" + f.path if f.hi else None,
                "l__" + f.path if f.lst else None,
                [(needle, encode(needle)) for needle in f.needles],
                [(key, _regex(pattern).search) for key, pattern in f.regexes],
            )
            for f in fields
        ]

    def shape(self, fact: dict[str, Any], fact_id: int, sid: str = "0") -> dict[str, Any]:
        out: dict[str, Any] = {"id": fact_id, "sid": sid}
        for parts, q, lo, hi, lst, needles, regexes in self._fields:
            if len(parts) == 1:
                value = fact.get(parts[0], MISSING)
                if value is None:
                    value = MISSING
            else:
                value = lookup(fact, parts)
            if q is not None:
                out[q] = encode(value)
            if lo is not None or hi is not None:
                number = None if value is MISSING else fixed_number(value)
                if lo is not None:
                    out[lo] = -SENTINEL if number is None else number
                if hi is not None:
                    out[hi] = SENTINEL if number is None else number
            if lst is not None:
                if isinstance(value, list):
                    out[lst] = ["m:", *map(encode, value)]
                elif isinstance(value, str):
                    out[lst] = ["m:", *(code for needle, code in needles if needle in value)]
                else:
                    out[lst] = ["m:"]
            if regexes:
                is_text = isinstance(value, str)
                for key, search in regexes:
                    out[key] = 1 if is_text and search(value) is not None else 0
        return out

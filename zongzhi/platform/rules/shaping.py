"""Fact shaping: turn an enriched fact into the flat, single-typed message a compiled ruleset expects.

Deterministic and driven only by the compiled ruleset's field plan (see :mod:`.compiler` for why and
for the key names). Only the paths a ruleset tests are written, which keeps messages small (cheap to
serialise and parse) and under durable_rules' per-message property limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from .compiler import FieldPlan
from .values import MISSING, encode, fixed_number, lookup, split_path


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _flag_test(kind: str, argument: str) -> Callable[[str], bool]:
    if kind == "regex":
        search = _regex(argument).search
        return lambda text: search(text) is not None
    return lambda text: argument in text


class Shaper:
    """Shapes facts for one compiled ruleset; build once per loaded ruleset, reuse for every fact."""

    def __init__(self, fields: list[FieldPlan]):
        self._fields = [
            (
                split_path(f.path),
                "q__" + f.path if f.q else None,
                "n__" + f.path if f.n else None,
                "l__" + f.path if f.lst else None,
                [(key, _flag_test(kind, argument)) for key, kind, argument in f.flags],
            )
            for f in fields
        ]

    def shape(self, fact: dict[str, Any], fact_id: int, sid: str = "0") -> dict[str, Any]:
        out: dict[str, Any] = {"id": fact_id, "sid": sid}
        for parts, q, n, lst, flags in self._fields:
            if len(parts) == 1:
                value = fact.get(parts[0], MISSING)
                if value is None:
                    value = MISSING
            else:
                value = lookup(fact, parts)
            if q is not None:
                out[q] = encode(value)
            if n is not None and value is not MISSING:
                number = fixed_number(value)
                if number is not None:
                    out[n] = number
            if lst is not None:
                out[lst] = ["m:", *map(encode, value)] if isinstance(value, list) else ["m:"]
            if flags:
                is_text = isinstance(value, str)
                for key, test in flags:
                    out[key] = 1 if is_text and test(value) else 0
        return out

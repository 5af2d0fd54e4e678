"""Every argument of every field checked for values nothing downstream can store or compare.

Services give each value its domain bound (``zongzhi.platform.base.limits``); this is the floor under
all of them, so a field that forgets a check still cannot turn odd input into an ``INTERNAL``
error, a crashed rule engine or a poisoned event: strings that are not valid Unicode (a lone
surrogate such as ``"\\ud800"``), that hold NUL or other control characters (tab and line breaks
allowed), or longer than ``ANY_TEXT_MAX``; date-times without a zone or outside ``DATE_MIN`` ..
``DATE_MAX`` (``9999-12-31T23:59:59-14:00`` overflows when turned into UTC); dates outside that
range; amounts that are not finite. The error names the argument path (``input.parties[0].name``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension
from strawberry.utils.str_converters import to_camel_case as _to_camel_case

from zongzhi.platform.base import limits
from zongzhi.platform.base.errors import ValidationFailed

#: Field names repeat on every request: each is converted once (bounded, as JSON keys are free).
to_camel_case = lru_cache(maxsize=4096)(_to_camel_case)


def check_value(value: Any, field: str) -> None:
    """Raise ``ValidationFailed`` naming ``field`` if ``value`` (or anything in it) is unusable."""
    if isinstance(value, str):
        if len(value) > limits.ANY_TEXT_MAX:
            raise ValidationFailed(f"{field} is longer than {limits.ANY_TEXT_MAX} characters", field=field)
        problem = limits.text_problem(value, multiline=True)
        if problem:
            raise ValidationFailed(f"{field} {problem}", field=field)
    elif isinstance(value, datetime):
        limits.check_datetime(value, field)
    elif isinstance(value, date):
        limits.check_date(value, field)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationFailed(f"{field} must be a finite number", field=field)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(item, f"{field}.{to_camel_case(str(key))}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_value(item, f"{field}[{i}]")
    elif hasattr(value, "__dataclass_fields__"):  # an input object already converted by Strawberry
        for name in value.__dataclass_fields__:
            check_value(getattr(value, name, None), f"{field}.{to_camel_case(name)}")


class SaneArguments(SchemaExtension):
    def resolve(self, _next: Callable, root: Any, info: GraphQLResolveInfo, *args: Any, **kwargs: Any) -> Any:
        for name, value in kwargs.items():
            if value is None:
                continue
            if name == "input" and isinstance(value, dict):  # paths as the services name them
                for key, item in value.items():
                    check_value(item, to_camel_case(str(key)))
            else:
                check_value(value, to_camel_case(name))
        return _next(root, info, *args, **kwargs)

"""The published JSON Schema of the ruleset YAML (editors and the GraphQL layer may serve it)."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _schema() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("ruleset.schema.json").read_text("utf-8"))


def ruleset_schema() -> dict[str, Any]:
    """A copy of the ruleset JSON Schema (draft 2020-12)."""
    return copy.deepcopy(_schema())

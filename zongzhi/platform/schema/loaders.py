"""DataLoaders, one set per request, so a page of cases costs a fixed number of SQL statements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cached_property

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from zongzhi.platform.models import (
    Assignment,
    CaseEvent,
    CaseParty,
    Center,
    CenterDepartment,
    Department,
    Evidence,
    FollowUp,
    Grid,
    User,
    Whistle,
)


def by_id(model: type[Model]) -> DataLoader[int, Model | None]:
    async def load(ids: Sequence[int]) -> list[Model | None]:
        rows = {row.pk: row for row in await model.filter(id__in=list(set(ids)))}
        return [rows.get(i) for i in ids]

    return DataLoader(load_fn=load)


def many_by(
    model: type[Model], fk: str, order: str = "id", related: tuple[str, ...] = (), **filters
) -> DataLoader[int, list[Model]]:
    async def load(keys: Sequence[int]) -> list[list[Model]]:
        groups: dict[int, list[Model]] = defaultdict(list)
        query = model.filter(**{f"{fk}__in": list(set(keys))}, **filters).order_by(order)
        if related:
            query = query.select_related(*related)
        for row in await query:
            groups[getattr(row, fk)].append(row)
        return [groups.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """Created lazily per request; each attribute is one loader."""

    @cached_property
    def center(self) -> DataLoader:
        return by_id(Center)

    @cached_property
    def grid(self) -> DataLoader:
        return by_id(Grid)

    @cached_property
    def department(self) -> DataLoader:
        return by_id(Department)

    @cached_property
    def user(self) -> DataLoader:
        return by_id(User)

    @cached_property
    def event(self) -> DataLoader:
        return by_id(CaseEvent)

    @cached_property
    def parties(self) -> DataLoader:
        return many_by(CaseParty, "case_id", related=("person",))

    @cached_property
    def assignments(self) -> DataLoader:
        return many_by(Assignment, "case_id")

    @cached_property
    def events(self) -> DataLoader:
        return many_by(CaseEvent, "case_id", order="id")

    @cached_property
    def followups(self) -> DataLoader:
        return many_by(FollowUp, "case_id")

    @cached_property
    def evidence(self) -> DataLoader:
        return many_by(Evidence, "case_id", status="stored")

    @cached_property
    def center_children(self) -> DataLoader:
        return many_by(Center, "parent_id", order="code")

    @cached_property
    def center_grids(self) -> DataLoader:
        return many_by(Grid, "center_id", order="code")

    @cached_property
    def center_departments(self) -> DataLoader:
        return many_by(CenterDepartment, "center_id", related=("department",))

    @cached_property
    def whistles(self) -> DataLoader:
        return many_by(Whistle, "case_id")

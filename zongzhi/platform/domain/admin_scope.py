"""Which master data an admin may change: their center's subtree, or everything without a center.

A township admin (an admin account whose center is a township) manages that township and the
villages, grids and accounts under it; an admin without a center, and the command line, manage the
whole database.
"""

from __future__ import annotations

from zongzhi.platform.base.codes import Role
from zongzhi.platform.domain.actor import Actor


def is_global_admin(actor: Actor) -> bool:
    return actor.system or (actor.has(Role.admin) and not actor.center_path)


def manages(actor: Actor, center_path: str | None) -> bool:
    """Whether ``actor`` may change master data at the center with this path (``None``: no center)."""
    if is_global_admin(actor):
        return True
    if not actor.has(Role.admin) or not actor.center_path:
        return False
    return center_path is not None and center_path.startswith(actor.center_path)

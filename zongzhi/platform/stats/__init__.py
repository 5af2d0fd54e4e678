"""Statistics, hot spots and early warning (分析研判 / 指挥调度), computed in the database.

Every figure is defined in ``definitions``; ``figures.statistics`` computes them for a center
subtree (``scope``) and a ``period``; ``hotspots`` and ``warnings`` serve the map and the
dispatcher's screen; plugins add docking figures through their ``zongzhi_docking_figures`` hook.
"""

from zongzhi.platform.stats.period import Period, parse_period
from zongzhi.platform.stats.scope import Scope, scope_for, scope_of_center

__all__ = [
    "Period",
    "Scope",
    "parse_period",
    "scope_for",
    "scope_of_center",
]

"""Reports (分析研判报告: daily, weekly, monthly, special): one ``Report`` rendered as md, csv or pdf.

``build_report`` gathers the statistics, hot spots and the overdue and high-risk lists for a
center subtree and a period; ``render(report, fmt)`` turns it into bytes. The CLI (``zongzhi
report``) and the GraphQL ``report`` query use the same two functions, so they say the same thing.
"""

from zongzhi.platform.reports.build import Report, build_report
from zongzhi.platform.reports.render import FORMATS, render

__all__ = ["FORMATS", "Report", "build_report", "render"]

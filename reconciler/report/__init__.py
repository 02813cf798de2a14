"""``reconciler report``: one self-contained HTML page of every export, its runs and the audit.

build_dashboard(options, state) -> Dashboard   (config, journal, audit, live list sizes)
render_html(dashboard) -> str                  (Jinja2 + pygal SVG: no script source, no CDN)
"""

from reconciler.report.data import Dashboard, ExportCard, RunPoint, build_dashboard
from reconciler.report.page import render_html

__all__ = ["Dashboard", "ExportCard", "RunPoint", "build_dashboard", "render_html"]

"""Per-export SVG charts, drawn by pygal: list size, and adds/removes, over the export's runs."""

from __future__ import annotations

import pygal
from pygal.style import Style

from reconciler.report.data import RunPoint

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=15,
    colors=("#2563eb", "#16a34a", "#dc2626"),
)
COMMON = {
    "style": STYLE,
    "js": [],  # no script is loaded: the page works offline and without JavaScript
    "disable_xml_declaration": True,
    "explicit_size": False,  # viewBox only: the page's CSS sizes the chart to its column
    "width": 640,
    "height": 300,
    "legend_at_bottom": True,
    "x_label_rotation": 30,
    "truncate_label": -1,
    "show_minor_x_labels": True,
    "max_scale": 6,  # a few round y labels, readable on a phone
    "show_minor_y_labels": False,
}


def _labels(runs: tuple[RunPoint, ...]) -> list[str]:
    return [run.started_at.strftime("%m-%d %H:%M") for run in runs]


def size_chart(name: str, runs: tuple[RunPoint, ...]) -> str:
    """A line of the list's size after each run."""
    chart = pygal.Line(title=f"{name}: list size", **COMMON)
    chart.x_labels = _labels(runs)
    chart.add("members", [run.size_after for run in runs])
    return str(chart.render(is_unicode=True))


def changes_chart(name: str, runs: tuple[RunPoint, ...]) -> str:
    """Bars of the members added and removed by each run."""
    chart = pygal.Bar(title=f"{name}: adds and removes per run", **COMMON)
    chart.x_labels = _labels(runs)
    chart.add("added", [run.added for run in runs])
    chart.add("removed", [run.removed for run in runs])
    return str(chart.render(is_unicode=True))

"""Charts as server-rendered SVG: titled, described, labelled axes; no script, no inline style (the CSP allows none).

A small renderer of our own rather than pygal or matplotlib: the two chart shapes the reports need (bars per item,
two series per day) fit in a page of code, the markup is exactly what a screen reader needs (role="img",
<title>, <desc>, aria-labelledby), colours come from the app's stylesheet via classes, and no dependency adds
scripts or style attributes that the Content-Security-Policy would block."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from markupsafe import Markup, escape

_ids = itertools.count(1)
WIDTH = 640
BAR = 22
GAP = 8
LABEL_WIDTH = 220


def _frame(title: str, description: str, height: int, body: list[str]) -> Markup:
    n = next(_ids)
    head = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="chart-t{n} chart-d{n}" width="100%" preserveAspectRatio="xMinYMin meet">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(description)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    step = 10 ** (len(str(int(value))) - 1)
    return float(-(-value // step) * step)


def bar_chart(title: str, description: str, items: Sequence[tuple[str, float]], *, value_label: str) -> Markup:
    """Return horizontal bars, one per (label, value), with the value written at the end of each bar."""
    top, axis_height = 10, 36
    height = top + len(items) * (BAR + GAP) + axis_height
    scale_max = _nice_max(max((v for _l, v in items), default=0))
    span = WIDTH - LABEL_WIDTH - 60
    body = []
    for index, (label, value) in enumerate(items):
        y = top + index * (BAR + GAP)
        width = 0 if scale_max == 0 else span * value / scale_max
        text = label if len(label) <= 34 else label[:33] + "\u2026"
        body.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 6}" y="{y + BAR * 0.7:.1f}" '
            f'text-anchor="end">{escape(text)}</text>'
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR}"/>'
            f'<text class="chart-value" x="{LABEL_WIDTH + width + 4:.1f}" y="{y + BAR * 0.7:.1f}">'
            f"{escape(_number(value))}</text>"
        )
    axis_y = top + len(items) * (BAR + GAP)
    body.append(
        f'<line class="chart-axis" x1="{LABEL_WIDTH}" y1="{axis_y}" x2="{LABEL_WIDTH + span}" y2="{axis_y}"/>'
        f'<text class="chart-tick" x="{LABEL_WIDTH}" y="{axis_y + 14}">0</text>'
        f'<text class="chart-tick" x="{LABEL_WIDTH + span}" y="{axis_y + 14}" text-anchor="end">'
        f"{escape(_number(scale_max))}</text>"
        f'<text class="chart-axis-label" x="{LABEL_WIDTH + span / 2:.0f}" y="{axis_y + 30}" '
        f'text-anchor="middle">{escape(value_label)}</text>'
    )
    return _frame(title, description, height, body)


def series_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    value_label: str,
) -> Markup:
    """Return one line per series over the labels (days or weeks), with a legend and labelled axes."""
    left, right, top, bottom = 50, 20, 30, 50
    height = 260
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    scale_max = _nice_max(max((v for _n, values in series for v in values), default=0))
    step = plot_w / max(1, len(labels) - 1)
    body = [
        f'<line class="chart-axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>',
        f'<line class="chart-axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        f'<text class="chart-tick" x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
        f'<text class="chart-tick" x="{left - 4}" y="{top + 8}" text-anchor="end">{_number(scale_max)}</text>',
        f'<text class="chart-axis-label" x="12" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.0f})">{escape(value_label)}</text>',
    ]
    if labels:
        for index in sorted({0, len(labels) // 2, len(labels) - 1}):
            body.append(
                f'<text class="chart-tick" x="{left + index * step:.1f}" y="{top + plot_h + 16}" '
                f'text-anchor="middle">{escape(labels[index])}</text>'
            )
    for number, (name, values) in enumerate(series):
        points = " ".join(
            f"{left + i * step:.1f},{top + plot_h - plot_h * v / scale_max:.1f}" for i, v in enumerate(values)
        )
        body.append(f'<polyline class="chart-line chart-line-{number}" fill="none" points="{points}"/>')
        legend_x = left + number * 160
        body.append(
            f'<line class="chart-line chart-line-{number}" x1="{legend_x}" y1="14" x2="{legend_x + 24}" '
            f'y2="14"/><text class="chart-label" x="{legend_x + 30}" y="18">{escape(name)}</text>'
        )
    body.append(
        f'<text class="chart-axis-label" x="{left + plot_w / 2:.0f}" y="{height - 8}" '
        f'text-anchor="middle">Day (UTC)</text>'
    )
    return _frame(title, description, height, body)


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)

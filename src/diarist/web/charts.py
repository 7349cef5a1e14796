"""Charts drawn on the server as SVG: readable without JavaScript, styled by the page's own
stylesheet (light and dark), each with a text alternative and the numbers in a table beside
it. Only presentation attributes and classes: the Content Security Policy allows no inline
style."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 600, 180, 28


def _x(index: int, count: int) -> float:
    if count <= 1:
        return WIDTH / 2
    return PAD + index * (WIDTH - 2 * PAD) / (count - 1)


def _y(value: float, low: float, high: float) -> float:
    return HEIGHT - PAD - (value - low) / (high - low) * (HEIGHT - 2 * PAD)


def line_chart(
    labels: Sequence[str], values: Sequence[float | None], *, low: float, high: float, title: str
) -> Markup:
    """One series over time; a gap where a period has no value."""
    runs: list[list[str]] = [[]]
    dots = []
    for index, value in enumerate(values):
        if value is None:
            runs.append([])
            continue
        x, y = _x(index, len(values)), _y(value, low, high)
        runs[-1].append(f"{x:.1f},{y:.1f}")
        label = escape(f"{labels[index]}: {value:.2f}")
        dots.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{label}</title></circle>'
        )
    lines = [f'<polyline class="line" points="{" ".join(run)}"/>' for run in runs if run]
    axis = [
        f'<line class="axis" x1="{PAD}" y1="{_y(v, low, high):.1f}" x2="{WIDTH - PAD}" '
        f'y2="{_y(v, low, high):.1f}"/><text class="tick" x="2" y="{_y(v, low, high) + 4:.1f}">'
        f"{v:g}</text>"
        for v in (low, (low + high) / 2, high)
    ]
    ends = ""
    if labels:
        ends = (
            f'<text class="tick" x="{PAD}" y="{HEIGHT - 6}">{escape(labels[0])}</text>'
            f'<text class="tick end" x="{WIDTH - PAD}" y="{HEIGHT - 6}">{escape(labels[-1])}</text>'
        )
    return _svg(title, "".join(axis) + "".join(lines) + "".join(dots) + ends)


def bar_chart(labels: Sequence[str], values: Sequence[int], *, title: str) -> Markup:
    """Counts by category (weekday, hour)."""
    top = max(values, default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(values), 1)
    bars = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = value / top * (HEIGHT - 2 * PAD)
        x = PAD + index * step
        bars.append(
            f'<rect class="bar" x="{x + 2:.1f}" y="{HEIGHT - PAD - height:.1f}" '
            f'width="{max(step - 4, 1):.1f}" height="{height:.1f}">'
            f"<title>{escape(label)}: {value}</title></rect>"
            f'<text class="tick middle" x="{x + step / 2:.1f}" y="{HEIGHT - 8}">'
            f"{escape(label)}</text>"
        )
    return _svg(title, "".join(bars))


def _svg(title: str, body: str) -> Markup:
    return Markup(  # noqa: S704 (every text above is escaped; numbers are formatted)
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )

"""Charts drawn on the server as SVG: readable without JavaScript, styled by the page's own
stylesheet (light and dark), each with a text alternative and the numbers in a table beside
it. Only presentation attributes and classes: the Content Security Policy allows no inline
style."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
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


def heat_map(counts: dict[date, int], end: date, links: dict[date, str], *, title: str) -> Markup:
    """A year of writing days ending at `end`, one square a day, a column a week (Monday
    first), darker for more entries; a day with entries links to them."""
    start = end - timedelta(days=364)
    start -= timedelta(days=start.weekday())
    cell, gap = 11, 2
    squares = []
    day = start
    while day <= end:
        column, row = (day - start).days // 7, day.weekday()
        n = counts.get(day, 0)
        level = 0 if n == 0 else 1 if n == 1 else 2 if n == 2 else 3 if n <= 4 else 4
        x, y = 30 + column * (cell + gap), 14 + row * (cell + gap)
        label = escape(f"{day.isoformat()}: {n} {'entry' if n == 1 else 'entries'}")
        square = (
            f'<rect class="day level-{level}" x="{x}" y="{y}" width="{cell}" height="{cell}" '
            f'rx="2"><title>{label}</title></rect>'
        )
        if n and day in links:
            square = f'<a href="{escape(links[day])}">{square}</a>'
        squares.append(square)
        if day.day == 1:
            squares.append(f'<text class="tick" x="{x}" y="10">{day.strftime("%b")}</text>')
        day += timedelta(days=1)
    rows = "".join(
        f'<text class="tick" x="0" y="{14 + r * (cell + gap) + 9}">{name}</text>'
        for r, name in ((0, "Mon"), (2, "Wed"), (4, "Fri"))
    )
    width = 30 + 55 * (cell + gap)  # room for the last month's name
    return Markup(  # noqa: S704 (labels escaped, numbers formatted)
        f'<svg class="chart heat" viewBox="0 0 {width} {14 + 7 * (cell + gap)}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>{rows}{"".join(squares)}</svg>'
    )

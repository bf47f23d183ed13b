"""Server-rendered SVG charts: a week-by-week line for one figure against its target.

No JavaScript and no CDN: the page ships the picture itself, so it prints, works on a court
intranet, and needs nothing under the strict content-security policy.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

WIDTH, HEIGHT, PAD = 320, 120, 24


def trend_svg(title: str, points: list[tuple[str, float | None]], target: float | None) -> str:
    """A line of fractions in [0, 1] over the weeks, the target dashed; gaps where a week has no value."""
    n = max(len(points), 1)
    step = (WIDTH - 2 * PAD) / max(n - 1, 1)

    def y(value: float) -> float:
        return HEIGHT - PAD - max(0.0, min(1.0, value)) * (HEIGHT - 2 * PAD)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title, {chr(34): "&quot;"})}" class="trend">',
             f'<line x1="{PAD}" y1="{y(0):.1f}" x2="{WIDTH - PAD}" y2="{y(0):.1f}" stroke="#9aa0a6"/>',
             f'<text x="2" y="{y(1) + 4:.1f}" font-size="10" fill="#5f6368">100%</text>',
             f'<text x="8" y="{y(0) + 4:.1f}" font-size="10" fill="#5f6368">0%</text>']
    if target is not None:
        parts.append(f'<line x1="{PAD}" y1="{y(target):.1f}" x2="{WIDTH - PAD}" y2="{y(target):.1f}" '
                     f'stroke="#9b1c1c" stroke-dasharray="4 3"/>')
    runs: list[list[str]] = [[]]
    for index, (label, value) in enumerate(points):
        x = PAD + index * step
        if value is None:
            runs.append([])
            continue
        runs[-1].append(f"{x:.1f},{y(value):.1f}")
        colour = "#1e5631" if target is None or value >= target else "#9b1c1c"
        parts.append(f'<circle cx="{x:.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                     f'<title>{escape(label)}: {value * 100:.1f}%</title></circle>')
    for run in runs:
        if len(run) > 1:
            parts.append(f'<polyline fill="none" stroke="#0b57d0" stroke-width="2" points="{" ".join(run)}"/>')
    if points:
        parts.append(f'<text x="{PAD}" y="{HEIGHT - 6}" font-size="10" fill="#5f6368">{escape(points[0][0])}</text>')
        parts.append(f'<text x="{WIDTH - PAD}" y="{HEIGHT - 6}" font-size="10" fill="#5f6368" '
                     f'text-anchor="end">{escape(points[-1][0])}</text>')
    parts.append("</svg>")
    return "".join(parts)

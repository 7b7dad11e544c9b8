"""Small inline SVG charts (no JavaScript, no CDN): the report stays one offline file."""

from __future__ import annotations

from html import escape

__all__ = ["histogram", "pareto", "bars", "trend"]

_FONT = "font-family=\"'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','Microsoft YaHei',sans-serif\""


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" {_FONT} font-size="11">' + "".join(body) + "</svg>"
    )


def histogram(scores: list[float], pass_line: float, width: int = 520, height: int = 220) -> str:
    """Score distribution in 10-point bins with the pass line marked."""
    bins = [0] * 10
    for s in scores:
        bins[min(9, max(0, int(s // 10)))] += 1
    top = max(bins) or 1
    left, bottom, plot_w, plot_h = 36, height - 28, width - 48, height - 48
    bw = plot_w / 10
    body = [f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#888"/>']
    for i, n in enumerate(bins):
        h = plot_h * n / top
        x = left + i * bw
        color = "#d9534f" if (i + 1) * 10 <= pass_line else "#5b9bd5"
        body.append(f'<rect x="{x + 2:.1f}" y="{bottom - h:.1f}" width="{bw - 4:.1f}" height="{h:.1f}" fill="{color}"><title>{i * 10}-{i * 10 + 10}: {n}</title></rect>')
        if n:
            body.append(f'<text x="{x + bw / 2:.1f}" y="{bottom - h - 3:.1f}" text-anchor="middle">{n}</text>')
        body.append(f'<text x="{x + bw / 2:.1f}" y="{bottom + 14}" text-anchor="middle">{i * 10}</text>')
    px = left + plot_w * pass_line / 100
    body.append(f'<line x1="{px:.1f}" y1="{bottom - plot_h - 6}" x2="{px:.1f}" y2="{bottom}" stroke="#333" stroke-dasharray="4 3"/>')
    body.append(f'<text x="{px + 3:.1f}" y="{bottom - plot_h}" >合格线 {pass_line:g}</text>')
    return _svg(width, height, body, "得分分布")


def pareto(items: list[tuple[str, float]], width: int = 620, height: int = 260, unit: str = "分") -> str:
    """Bars (largest first) with the cumulative share as a line: which problems cost the most."""
    items = sorted(items, key=lambda kv: -kv[1])[:12]
    total = sum(v for _, v in items) or 1
    left, right, bottom = 40, 40, height - 48
    plot_w, plot_h = width - left - right, height - 70
    top = items[0][1] if items else 1
    bw = plot_w / max(1, len(items))
    body = [f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#888"/>']
    cum, points = 0.0, []
    for i, (label, value) in enumerate(items):
        h = plot_h * value / (top or 1)
        x = left + i * bw
        body.append(f'<rect x="{x + 3:.1f}" y="{bottom - h:.1f}" width="{bw - 6:.1f}" height="{h:.1f}" fill="#f0ad4e"><title>{escape(label)}: {value:g}{unit}</title></rect>')
        body.append(f'<text x="{x + bw / 2:.1f}" y="{bottom - h - 3:.1f}" text-anchor="middle">{value:g}</text>')
        body.append(f'<text x="{x + bw / 2:.1f}" y="{bottom + 14}" text-anchor="middle">{escape(label[:8])}</text>')
        cum += value
        points.append((x + bw / 2, bottom - plot_h * cum / total))
    if points:
        body.append('<polyline fill="none" stroke="#333" stroke-width="1.5" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
        for (x, y), (_, _) in zip(points, items):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#333"/>')
        body.append(f'<text x="{left + plot_w + 4}" y="{bottom - plot_h + 4}">100%</text>')
        y80 = bottom - plot_h * 0.8
        body.append(f'<line x1="{left}" y1="{y80:.1f}" x2="{left + plot_w}" y2="{y80:.1f}" stroke="#bbb" stroke-dasharray="2 3"/>')
        body.append(f'<text x="{left + plot_w + 4}" y="{y80 + 4:.1f}">80%</text>')
    return _svg(width, height, body, "违规帕累托")


def bars(items: list[tuple[str, float]], maximum: float = 100.0, width: int = 520, target: float | None = None, suffix: str = "") -> str:
    """Horizontal bars (team mean scores, dimension scores)."""
    row = 22
    height = row * max(1, len(items)) + 12
    label_w, plot_w = 110, width - 170
    body = []
    for i, (label, value) in enumerate(items):
        y = 6 + i * row
        w = plot_w * max(0.0, min(value, maximum)) / (maximum or 1)
        body.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(label[:12])}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="#5b9bd5"/>')
        body.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 14}">{value:.1f}{suffix}</text>')
    if target is not None:
        tx = label_w + plot_w * target / maximum
        body.append(f'<line x1="{tx:.1f}" y1="2" x2="{tx:.1f}" y2="{height - 2}" stroke="#d9534f" stroke-dasharray="4 3"/>')
    return _svg(width, height, body, "条形图")


def trend(points: list[tuple[str, float]], pass_line: float | None = None, width: int = 520, height: int = 180) -> str:
    """Mean score night over night."""
    left, bottom, plot_w, plot_h = 36, height - 30, width - 60, height - 50
    body = [f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#888"/>']
    for v in (0, 50, 100):
        y = bottom - plot_h * v / 100
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
    if pass_line is not None:
        y = bottom - plot_h * pass_line / 100
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#d9534f" stroke-dasharray="4 3"/>')
    n = len(points)
    xy = []
    for i, (label, value) in enumerate(points):
        x = left + (plot_w * (i + 0.5) / n if n else 0)
        y = bottom - plot_h * max(0.0, min(100.0, value)) / 100
        xy.append((x, y))
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#5b9bd5"><title>{escape(label)}: {value:.1f}</title></circle>')
        body.append(f'<text x="{x:.1f}" y="{y - 6:.1f}" text-anchor="middle">{value:.1f}</text>')
        body.append(f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">{escape(label[5:] if len(label) == 10 else label)}</text>')
    if len(xy) > 1:
        body.append('<polyline fill="none" stroke="#5b9bd5" stroke-width="2" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
    return _svg(width, height, body, "趋势")


# --- public building blocks for other pages (the VOC page) ---

__all__ += ["svg", "line"]


def svg(width: int, height: int, body: list[str], title: str) -> str:
    """An inline ``<svg>`` in the report's font holding ``body`` (SVG elements as strings); ``title``
    is its accessible name. For pages that draw their own marks in the report's style."""
    return _svg(width, height, body, title)


def line(points: list[tuple[str, float]], width: int = 300, height: int = 90, suffix: str = "%", title: str = "趋势") -> str:
    """A small line chart of a value night over night, scaled to its own maximum (a tag's share of
    calls): a dot per night with its value on hover, the first and last night under the axis."""
    if not points:
        return ""
    left, bottom, plot_w, plot_h = 44, height - 18, width - 54, height - 28
    top = max(v for _, v in points) or 1.0
    body = [f'<line x1="{left}" y1="{bottom}" x2="{left + plot_w}" y2="{bottom}" stroke="#888"/>',
            f'<text x="{left - 3}" y="{bottom - plot_h + 4}" text-anchor="end">{top:.1f}{escape(suffix)}</text>']
    xy = []
    for i, (label, v) in enumerate(points):
        x = left + plot_w * (i + 0.5) / len(points)
        y = bottom - plot_h * v / top
        xy.append((x, y))
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="#5b9bd5"><title>{escape(label)}: {v:.1f}{escape(suffix)}</title></circle>')
    short = lambda d: d[5:] if len(d) == 10 else d  # noqa: E731  (2026-01-05 -> 01-05)
    body.append(f'<text x="{left}" y="{height - 4}">{escape(short(points[0][0]))}</text>')
    body.append(f'<text x="{left + plot_w}" y="{height - 4}" text-anchor="end">{escape(short(points[-1][0]))}</text>')
    if len(xy) > 1:
        body.append('<polyline fill="none" stroke="#5b9bd5" stroke-width="1.5" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
    return _svg(width, height, body, title)

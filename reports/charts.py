"""Inline SVG bar charts for the PDFs and the dashboard.

The font family is named on every text element: WeasyPrint renders SVG text with the fonts
named inside the SVG, not with the page's CSS, and a missing family draws empty boxes.
"""

from decimal import ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

SANS = "Noto Sans CJK SC"


def _nice_max(value: Decimal) -> Decimal:
    """A round axis maximum at or above `value` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return Decimal(1)
    exp = len(str(int(value))) - 1
    base = Decimal(10) ** exp
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= base * step:
            return base * step
    return base * 10


def _fmt(value: Decimal) -> str:
    value = Decimal(value)
    if value >= 10000:
        wan = (value / 10000).quantize(Decimal("0.01"), ROUND_HALF_UP).normalize()
        return f"{wan:f}万"
    return f"{value.quantize(Decimal('1'), ROUND_HALF_UP)}"


def bar_chart_svg(rows, *, title: str, width: int = 640, height: int = 220) -> str:
    """Bars of `total` per row with the amount above each bar and the label below."""
    left, right, top, bottom = 56, 12, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((r.total for r in rows), default=Decimal(0)))
    n = max(len(rows), 1)
    slot = Decimal(plot_w) / n
    bar_w = slot * Decimal("0.6")
    font = f'font-family="{SANS}"'
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{width / 2}" y="16" text-anchor="middle" {font} font-size="13" '
        f'font-weight="bold">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - (Decimal(plot_h) * i / 4)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#ccc" stroke-width="0.5"/>'
        )
        out.append(
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" {font} '
            f'font-size="9" fill="#444">{_fmt(value)}</text>'
        )
    for i, row in enumerate(rows):
        h = Decimal(plot_h) * row.total / top_value
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h - h
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#b22222"/>'
        )
        cx = x + bar_w / 2
        if row.total:
            out.append(
                f'<text x="{cx:.1f}" y="{y - 3:.1f}" text-anchor="middle" {font} '
                f'font-size="9">{_fmt(row.total)}</text>'
            )
        out.append(
            f'<text x="{cx:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {font} '
            f'font-size="10">{escape(row.label)}</text>'
        )
        if row.count:
            out.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 27}" text-anchor="middle" {font} '
                f'font-size="8" fill="#555">{row.count}人次</text>'
            )
    out.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="#333" stroke-width="1"/>'
    )
    out.append("</svg>")
    return "".join(out)

"""Inline SVG bar charts for the PDFs and the dashboard.

The font family is named on every text element: WeasyPrint renders SVG text with the fonts
named inside the SVG, not with the page's CSS, and a missing family draws empty boxes.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from xml.sax.saxutils import escape

SANS = "Noto Sans CJK SC"


WAN = Decimal(10000)
# At most this many intervals on an axis; with 1-2-5 steps there are then 3 to 5.
TARGET_INTERVALS = 5
# Money is in yuan: an axis never steps by fen, and an empty chart still has a scale.
MIN_STEP = Decimal(1)


@dataclass(frozen=True)
class Axis:
    """A value axis from 0: its step (1, 2 or 5 times a power of ten), ticks and their labels."""

    step: Decimal
    ticks: list[Decimal]
    labels: list[str]

    @property
    def top(self) -> Decimal:
        return self.ticks[-1]


def _round_step(raw: Decimal) -> Decimal:
    """The smallest 1, 2 or 5 times a power of ten at or above `raw` (> 0)."""
    exponent = raw.adjusted()  # floor(log10(raw)), exact for Decimals
    magnitude = Decimal(1).scaleb(exponent)
    for multiple in (1, 2, 5, 10):
        step = magnitude * multiple
        if step >= raw:
            return step
    raise AssertionError("unreachable: 10 x magnitude is always above raw")


def axis_ticks(max_value) -> Axis:
    """Ticks from 0 to the first multiple of a round step at or above `max_value`.

    Every label is in one unit: 万 when the axis reaches 10,000 yuan, else yuan, each with the
    number of decimals the step needs (0.5万, 1.0万, 1.5万), so no tick reads 6250 or 1.88万.
    """
    value = Decimal(max_value)
    if value <= 0:
        value = TARGET_INTERVALS * MIN_STEP
    step = max(_round_step(value / TARGET_INTERVALS), MIN_STEP)
    count = int((value / step).to_integral_value(rounding=ROUND_CEILING))
    ticks = [step * i for i in range(count + 1)]
    unit, suffix = (WAN, "万") if ticks[-1] >= WAN else (Decimal(1), "")
    places = max(0, -(step / unit).normalize().as_tuple().exponent)
    quantum = Decimal(1).scaleb(-places)

    def label(tick: Decimal) -> str:
        if not tick:
            return "0"
        return f"{(tick / unit).quantize(quantum, ROUND_HALF_UP):f}{suffix}"

    return Axis(step=step, ticks=ticks, labels=[label(t) for t in ticks])


def _fmt(value: Decimal) -> str:
    """A bar's own amount: exact yuan below 10,000, else 万 with two decimals."""
    value = Decimal(value)
    if value >= WAN:
        wan = (value / WAN).quantize(Decimal("0.01"), ROUND_HALF_UP).normalize()
        return f"{wan:f}万"
    return f"{value.quantize(Decimal('1'), ROUND_HALF_UP)}"


def bar_chart_svg(rows, *, title: str, width: int = 640, height: int = 220) -> str:
    """Bars of `total` per row with the amount above each bar and the label below."""
    left, right, top, bottom = 56, 12, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    axis = axis_ticks(max((r.total for r in rows), default=Decimal(0)))
    top_value = axis.top
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
    for value, text in zip(axis.ticks, axis.labels, strict=True):
        y = top + plot_h - (Decimal(plot_h) * value / top_value)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#ccc" stroke-width="0.5"/>'
        )
        out.append(
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end" {font} '
            f'font-size="9" fill="#444" class="tick">{text}</text>'
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

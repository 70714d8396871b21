"""The payout report's detail table as pre-formatted lines in a monospaced CJK font.

Why: WeasyPrint's cost is per box, and a real 11-column table gives every row ~35 boxes
(cell, line, text for each column), about 9-10 ms of CPU per row; 20,000 rows took over 4
minutes. Here each row is ONE table cell holding one pre-formatted text (one line per wrapped
line), so a row costs a handful of boxes. The columns line up because "Noto Sans Mono CJK SC"
draws every Latin character exactly half as wide as a Chinese character: widths are counted
in half-width units (a Chinese character is 2). The vertical column rules are drawn once per
page as background layers of the table (see `grid_css`), the horizontal rules as each row's
bottom border.

The table is still a table: its header row repeats on every page (thead), and text extraction
returns every value in column order.
"""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

FONT_MONO = "Noto Sans Mono CJK SC"
FONT_SIZE_PT = 9.0
UNIT_PT = FONT_SIZE_PT / 2  # the advance of a half-width character in the mono font
GAP = 2  # half-width units between two columns; the column rule is drawn in its middle
PAD_PT = 3.0  # left and right padding of the table, inside its outer border


@dataclass(frozen=True)
class Column:
    label: str
    width: int  # in half-width units
    align: str = "left"  # left, center or right


# 273 mm of text width = 774 pt = 172 units of 4.5 pt: 150 units of columns + 10 gaps of 2.
DETAIL_COLUMNS = (
    Column("序号", 6, "right"),
    Column("姓名", 8, "center"),
    Column("身份证号", 18, "center"),
    Column("基层工会", 24),
    Column("困难类别", 22),
    Column("批准日期", 10, "center"),
    Column("发放日期", 10, "center"),
    Column("发放金额", 14, "right"),  # up to 100,000,000.00 (a district's 合计)
    Column("资金来源", 10, "center"),
    Column("该职工本期累计", 14, "right"),
    Column("该职工历年累计", 14, "right"),
)


def char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


# Chinese punctuation that must not begin a line (避头点): the character before it moves down too.
NO_LINE_START = set("、，。；：！？）」』》")


def wrap(text: str, width: int) -> list[str]:
    """Split `text` into lines of at most `width` units (never loses a character)."""
    lines, line, used = [], [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width and line:
            carry = [line.pop()] if ch in NO_LINE_START and len(line) > 1 else []
            lines.append("".join(line))
            line, used = carry, sum(map(char_width, carry))
        line.append(ch)
        used += w
    lines.append("".join(line))
    return lines


def _fit(text: str, width: int, align: str) -> str:
    pad = width - text_width(text)
    if pad <= 0:
        return text
    if align == "right":
        return " " * pad + text
    if align == "center":
        left = pad // 2
        return " " * left + text + " " * (pad - left)
    return text + " " * pad


def format_row(cells, columns=DETAIL_COLUMNS) -> str:
    """One table row as text: each cell wrapped to its column, lines joined by newlines.

    Trailing spaces are dropped (they draw nothing)."""
    wrapped = [wrap(str(cell), col.width) for cell, col in zip(cells, columns, strict=True)]
    height = max(len(w) for w in wrapped)
    gap = " " * GAP
    lines = []
    for i in range(height):
        parts = [
            _fit(w[i] if i < len(w) else "", col.width, col.align)
            for w, col in zip(wrapped, columns, strict=True)
        ]
        lines.append(gap.join(parts).rstrip())
    return "\n".join(lines)


def header_row(columns=DETAIL_COLUMNS) -> str:
    return format_row([c.label for c in columns], columns)


def _yuan(value) -> str:
    return f"{Decimal(value):,.2f}"


NO_DATE = "—"


def _date(value) -> str:
    return value.isoformat() if value else ""


def detail_line(row) -> str:
    """A DetailRow (reports.documents) as one pre-formatted row."""
    return format_row(
        [
            row.seq,
            row.name,
            row.id_number,
            row.union,
            row.categories,
            # A historical ledger row may not say when it was approved (see the footnote).
            _date(row.approved_on) or NO_DATE,
            _date(row.paid_on),
            _yuan(row.amount),
            row.fund_source,
            _yuan(row.worker_period_total),
            _yuan(row.worker_all_time_total),
        ]
    )


def total_line(label: str, union: str, count: int, amount) -> str:
    """小计 / 合计 row: the label in the first column (the column rules run through every row,
    so no cells are merged), the count under 困难类别 and the amount under 发放金额."""
    cells = [label, "", "", union, f"{count} 人次", "", "", _yuan(amount), "", "", ""]
    return format_row(cells)


def grid_css(selector: str = "table.rows", columns=DETAIL_COLUMNS) -> str:
    """The table's width and its vertical column rules: one SVG background image, stretched
    over each page's part of the table, instead of one border per cell."""
    x, rules = PAD_PT, []
    for col in columns[:-1]:
        x += (col.width + GAP / 2) * UNIT_PT
        rules.append(x - 0.3)
        x += GAP / 2 * UNIT_PT
    total = sum(c.width for c in columns) + GAP * (len(columns) - 1)
    width = total * UNIT_PT + 2 * PAD_PT
    rects = "".join(f"<rect x='{x:.2f}' y='0' width='0.6' height='100'/>" for x in rules)
    svg = (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.2f}' height='100' "
        f"viewBox='0 0 {width:.2f} 100' preserveAspectRatio='none'>{rects}</svg>"
    )
    url = "data:image/svg+xml;charset=utf-8," + quote(svg, safe="")
    background = f'url("{url}") no-repeat 0 0 / 100% 100%'
    return f"{selector} {{ width: {width:.2f}pt; background: {background}; }}"

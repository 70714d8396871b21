from decimal import Decimal

import pytest

from reports import textgrid


@pytest.mark.parametrize(
    "text, width, lines",
    [
        ("基准第1镇第1社区工会", 24, ["基准第1镇第1社区工会"]),
        # 、 never starts a line: the character before it moves down with it.
        ("重大疾病、家庭成员患病、子女教育", 22, ["重大疾病、家庭成员患", "病、子女教育"]),
        ("", 10, [""]),
    ],
)
def test_wrap_counts_chinese_characters_as_two_units_and_keeps_every_character(text, width, lines):
    assert textgrid.wrap(text, width) == lines
    assert "".join(lines) == text
    assert all(textgrid.text_width(line) <= width for line in lines)


def test_columns_line_up_and_fit_the_page():
    header = textgrid.header_row()
    total = sum(c.width for c in textgrid.DETAIL_COLUMNS) + textgrid.GAP * 10
    assert total * textgrid.UNIT_PT + 2 * textgrid.PAD_PT <= 774  # 273 mm of text width
    line = textgrid.total_line("合计", "樵园社区工会", 4, Decimal("24000"))
    # The amount ends where the 发放金额 header ends (right-aligned in the same column).
    assert textgrid.text_width(line[: line.index("24,000.00") + 9]) == textgrid.text_width(
        header[: header.index("发放金额") + 4]
    )


def test_a_long_cell_wraps_into_more_lines_of_the_same_row():
    cells = ["1", "梁*明", "4406**********1234", "很长很长很长很长很长的社区工会名称", "其他"]
    cells += ["2024-01-02", "2024-01-10", "1,000.00", "区级拨款", "1,000.00", "1,000.00"]
    text = textgrid.format_row(cells)
    assert text.count("\n") == 1
    assert "很长很长很长很长很长的社" in text and "区工会名称" in text

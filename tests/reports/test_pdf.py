import io
import re

import pytest

from reports import documents, pdf
from reports.figures import Period
from tests.reports.pdfcheck import embedded_fonts, is_cjk, pages_text

Y2023 = Period(2023, 2023)
FULL_NAMES = ["梁志明", "何丽娟", "陈大文", "林小红"]


def render_report(unit, period, **kw) -> tuple[bytes, dict]:
    buf = io.BytesIO()
    result = pdf.render_payout_report(unit, period, buf, **kw)
    return buf.getvalue(), result


@pytest.fixture(params=[1, 2], ids=["in-process", "2-workers"])
def report(request, tree, payouts):
    # Two rows per chunk: the report is rendered in several pieces and merged, in this
    # process or in worker processes.
    return render_report(tree.nh, Y2023, chunk_rows=2, processes=request.param)


def test_totals_in_the_pdf_equal_the_database(report):
    data, result = report
    text = "\n".join(pages_text(data))
    assert result["rows"] == 4
    assert "佛山" not in text  # the fixture's district is 南海区总工会
    assert "南海区总工会2023年临时救助金发放汇总表" in text.replace(" ", "")
    for figure in ["24,000.00", "10,000.00", "6,000.00", "14,000.00", "22,000.00"]:
        assert figure in text
    # Per-union subtotals and the grand total.
    assert re.search(r"小计\s*樵园社区工会\s*2 人次\s*6,000.00", text)
    assert re.search(r"小计\s*凤池村工会\s*1 人次\s*10,000.00", text)
    assert re.search(r"合计\s*4 人次\s*24,000.00", text)
    for label in ["制表人", "审核人", "负责人", "单位盖章"]:
        assert label in text


def test_no_full_name_or_id_number_in_the_report(report, payouts):
    text = "\n".join(pages_text(report[0]))
    for name in FULL_NAMES:
        assert name not in text
    for worker in (payouts.w1, payouts.w2, payouts.w3):
        assert worker.id_number not in text
        assert worker.masked_id_number in text
    assert "梁*明" in text


def test_page_numbers_and_header_rows_on_every_page(report):
    data, result = report
    pages = pages_text(data)
    total = len(pages)
    assert result["pages"] == total >= 3
    for i, page in enumerate(pages, start=1):
        assert f"第 {i} 页 / 共 {total} 页" in page
    # Every page after the summary holds the detail table and starts with its header row.
    for page in pages[1:]:
        assert "序号" in page and "该职工历年累计" in page


@pytest.mark.parametrize("block", [1, 2])
def test_footers_made_in_blocks_number_every_page_once(tree, payouts, monkeypatch, block):
    """A long report's footers are rendered and stamped FOOTER_BLOCK pages at a time (memory):
    each page still gets exactly its own number, across the blocks' seams."""
    monkeypatch.setattr(pdf, "FOOTER_BLOCK", block)
    data, result = render_report(tree.nh, Y2023, chunk_rows=2)
    pages = pages_text(data)
    total = len(pages)
    assert result["pages"] == total >= 3
    for i, page in enumerate(pages, start=1):
        assert re.findall(r"第 \d+ 页 / 共 \d+ 页", page) == [f"第 {i} 页 / 共 {total} 页"]


def test_long_table_repeats_its_header_inside_one_chunk(tree, payouts, monkeypatch):
    # 40 copies of the rows in one chunk: WeasyPrint breaks the table over several pages.
    original = documents.payout_detail_rows

    def many(unit, period):
        rows = list(original(unit, period))
        for i in range(40):
            for union, row in rows:
                yield union, type(row)(**{**row.__dict__, "seq": i})

    monkeypatch.setattr(documents, "payout_detail_rows", many)
    data, _ = render_report(tree.nh, Y2023, chunk_rows=1000)
    pages = pages_text(data)
    assert len(pages) >= 4
    assert all("该职工本期累计" in p for p in pages[1:])


def test_the_embedded_fonts_hold_the_chinese_glyphs(report):
    data, _ = report
    fonts = embedded_fonts(data)
    cjk_fonts = {name: chars for name, chars in fonts.items() if any(map(is_cjk, chars))}
    assert cjk_fonts, fonts.keys()
    for name, chars in cjk_fonts.items():
        # Subset names look like ABCDEF+Noto-Serif-CJK-SC-Bold; the detail table uses the
        # monospaced face of the same family (ABCDEF+Noto-Sans-Mono-CJK-SC).
        assert re.search(r"\+Noto-(Serif|Sans|Sans-Mono)-CJK-SC", name), name
        missing = [ch for ch, drawn in chars.items() if is_cjk(ch) and not drawn]
        assert not missing, (name, missing)
    # The characters of the title come back from text extraction and are drawn.
    all_drawn = {ch for chars in cjk_fonts.values() for ch, ok in chars.items() if ok}
    assert set("临时救助金发放汇总表") <= all_drawn


def test_empty_period_still_gives_a_signed_report(tree, payouts):
    data, result = render_report(tree.nh, Period(2019, 2019))
    text = "\n".join(pages_text(data))
    assert result["rows"] == 0
    assert "本期无发放记录" in text and "制表人" in text
    assert "第 1 页 / 共 1 页" in text


def test_progress_is_reported_per_chunk(tree, payouts):
    seen = []
    render_report(tree.nh, Y2023, chunk_rows=2, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (4, 4)
    assert len(seen) >= 2


def _simple(template, context) -> bytes:
    buf = io.BytesIO()
    pdf.render_simple(template, context, buf)
    return buf.getvalue()


def test_worker_statement_pdf(payouts):
    data = _simple("reports/pdf/worker_statement.html", documents.worker_statement(payouts.w1))
    text = "\n".join(pages_text(data))
    assert "个人救助累计明细" in text
    for running in ["3,000.00", "7,000.00", "9,000.00", "14,000.00"]:
        assert running in text
    assert "梁志明" not in text and payouts.w1.id_number not in text
    assert "第 1 页 / 共 1 页" in text


def test_approval_form_fills_the_boxes_reached(payouts):
    data = _simple("reports/pdf/approval_form.html", documents.approval_form(payouts.a))
    text = re.sub(r"\s", "", "".join(pages_text(data)))
    assert len(pages_text(data)) == 1
    for label in ["基层工会意见", "镇总工会意见", "区总工会意见", "入户核实情况", "申请人签名"]:
        assert label in text
    assert "镇研讨会议同意救助" in text
    assert "批准金额：6,000.00" in text
    assert payouts.w1.id_number not in text


def test_approval_form_leaves_later_boxes_blank(people, tree):
    from tests.factories import case_in_state

    app = case_in_state(
        "submitted", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    data = _simple("reports/pdf/approval_form.html", documents.approval_form(app))
    text = re.sub(r"\s", "", "".join(pages_text(data)))
    # Nobody wrote an opinion: none is printed (issue 13.6), the step taken is.
    assert "同意申报" not in text
    assert "基层工会意见已申报" in text
    assert "同意救助" not in text and "建议救助" not in text
    # The town and district boxes and the applicant's line keep blank dates.
    assert text.count("年月日") >= 3


def test_approval_form_prints_each_opinion_as_recorded(people, tree):
    """The caseworker's opinion from the case, the town's and district's from their steps."""
    from relief import services
    from tests.factories import file_case, walk

    app = file_case(people.alice, grassroots_opinion="该职工透析三年，家中无其他收入。")
    app = walk(
        app, "recommended", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    app = services.application_approve(
        application=app, user=people.erin, amount=app.recommended_amount, comment=""
    )
    data = _simple("reports/pdf/approval_form.html", documents.approval_form(app))
    text = re.sub(r"\s", "", "".join(pages_text(data)))
    assert "该职工透析三年，家中无其他收入。" in text
    assert "研讨同意" in text  # the town's comment from the factory's recommendation
    assert "批准救助" in text and "同意救助" not in text and "同意申报" not in text

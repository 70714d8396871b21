"""The printed documents are Chinese paperwork whatever the interface language.

A district officer who reads the site in English still prints 区拨款 in the yearly report, not
"District allocation" (which also widened the column: the same report had 909 pages in Chinese
and 1,385 asked for in English). Each document is fetched with the English and the Chinese
interface and must come out the same, word for word.
"""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from reports import documents, pdf
from reports.figures import Period
from tests.reports.pdfcheck import pages_text

pytestmark = pytest.mark.usefixtures("module_payouts")

ENGLISH_LABELS = ["District allocation", "Town funds", "Ten-yuan donations"]


def _text(response) -> str:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(pages_text(response.content))


def _in_both_languages(client, user, fetch) -> tuple[str, str]:
    client.force_login(user)
    texts = []
    for language in ("zh-hans", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        texts.append(_text(fetch(client)))
    return texts[0], texts[1]


DOCUMENTS = {
    "payout report": lambda c, p: c.post(
        reverse("reports:payout_report"), {"unit": "NH", "year": 2023}
    ),
    "worker statement": lambda c, p: c.post(
        reverse("reports:statement"), {"id_number": p.w1.id_number}
    ),
    "approval form": lambda c, p: c.get(reverse("reports:approval_form", args=[p.a.pk])),
}


@pytest.mark.parametrize("document", DOCUMENTS)
def test_a_document_asked_for_in_english_is_the_chinese_one(client, people, payouts, document):
    chinese, english = _in_both_languages(
        client, people.erin, lambda c: DOCUMENTS[document](c, payouts)
    )
    assert english == chinese
    assert not any(label in english for label in ENGLISH_LABELS)


def test_the_fund_sources_print_in_chinese(client, people, payouts):
    _chinese, english = _in_both_languages(
        client, people.erin, lambda c: DOCUMENTS["worker statement"](c, payouts)
    )
    # w1 was paid from all three sources.
    for word in ("区拨款", "镇自筹", "十元捐"):
        assert word in english


@pytest.mark.parametrize("processes", [1, 2], ids=["in-process", "2-workers"])
def test_the_yearly_report_rendered_under_english_is_the_chinese_one(tree, payouts, processes):
    rendered = []
    for language in ("zh-hans", "en"):
        buf = io.BytesIO()
        with translation.override(language):
            pdf.render_payout_report(
                tree.nh, Period(2022, 2024), buf, chunk_rows=2, processes=processes
            )
        rendered.append(pages_text(buf.getvalue()))
    assert rendered[1] == rendered[0]
    assert "区拨款" in "".join(rendered[1])


def test_the_command_in_english_prints_the_chinese_report(tree, payouts, tmp_path):
    out = {}
    for language in ("zh-hans", "en"):
        target = tmp_path / f"{language}.pdf"
        call_command(
            "payout_report", "--unit", "NH", "--year", "2023", "-o", str(target),
            "--lang", language, stdout=io.StringIO(),
        )  # fmt: skip
        out[language] = pages_text(target.read_bytes())
    assert out["en"] == out["zh-hans"]


def test_the_detail_rows_come_in_chinese_and_leave_the_callers_language(tree, payouts):
    with translation.override("en"):
        rows = documents.payout_detail_rows(tree.nh, Period(2023, 2023))
        _union, first = next(rows)
        assert first.fund_source == "区拨款"
        assert translation.get_language() == "en"
        rows.close()


def test_a_generator_runs_each_step_in_chinese_and_is_closed_with_its_caller(db):
    closed = []

    @documents.in_chinese
    def steps():
        try:
            yield translation.get_language()
            yield translation.get_language()
        finally:
            closed.append(True)  # a report's server-side cursor is closed here

    with translation.override("en"):
        running = steps()
        assert next(running) == "zh-hans"
        assert translation.get_language() == "en"
        running.close()
    assert closed == [True]

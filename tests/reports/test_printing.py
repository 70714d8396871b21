"""Printing from where the work is (issue 14): the approval form, the worker's statement, a
review meeting's minutes and a payment batch's list, each checked by its text, its scope and
roles, its access-log row, and the links on the pages the work is done on."""

import re
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from privacy.models import AccessKind, AccessLog
from relief import services
from relief.models import BatchState
from relief.services.meetings import DecisionInput
from reports import documents
from tests.factories import WorkerFactory, file_case, make_id_number, walk
from tests.reports.pdfcheck import embedded_fonts, is_cjk, pages_text


def _walk(people, app, state, **kw):
    return walk(
        app, state, caseworker=people.alice, reviewer=people.carol, officer=people.erin, **kw
    )


def _pdf(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    return pages_text(response.content)


def _flat(pages) -> str:
    """The text of all pages without white space (pdf text extraction spaces CJK freely)."""
    return re.sub(r"\s+", "", "".join(pages))


def _logged(kind, obj, user):
    return AccessLog.objects.filter(kind=kind, object_id=obj.pk, user=user)


def _worker(people, n, **kw):
    return WorkerFactory(
        union=people.alice.union,
        id_number=make_id_number(600 + n),
        bank_card=f"62284800000{n:08d}",
        **kw,
    )


# --- the approval form: only what was entered -----------------------------------------------


def test_an_empty_tier_prints_blank_lines_and_no_sentence_nobody_wrote(client, people, well_funded):
    worker = _worker(people, 1, name="梁志明", health="")
    app = _walk(people, file_case(people.alice, worker), "approved")  # no opinion, no comment
    context = documents.approval_form(app)
    html = render_to_string("reports/pdf/approval_form.html", context)
    boxes = re.findall(r"<th>(\S+?意见)</th>(.*?)</td></tr>", html, re.S)
    assert [label for label, _box in boxes] == ["基层工会意见", "镇总工会意见", "区总工会意见"]
    by_label = dict(boxes)
    # Blank: three ruled lines to write on. Written: the words, no lines.
    assert by_label["基层工会意见"].count('class="line"') == 3
    assert by_label["区总工会意见"].count('class="line"') == 3
    assert "研讨同意" in by_label["镇总工会意见"] and 'class="line"' not in by_label["镇总工会意见"]

    client.force_login(people.alice)
    text = _flat(_pdf(client.get(reverse("reports:approval_form", args=[app.pk]))))
    # Each tier's recorded step, signer and date; between the label and the step nothing.
    assert re.search(r"基层工会意见已申报", text), text
    assert re.search(r"区总工会意见批准救助", text), text
    assert "镇总工会意见研讨同意建议救助" in text
    for invented in ("同意申报", "情况属实，同意", "同意救助", "良好", "无共同生活家庭成员"):
        assert invented not in text, invented
    assert _logged(AccessKind.DOCUMENT, app, people.alice).count() == 1


def test_a_written_opinion_is_printed_word_for_word(client, people, well_funded):
    app = file_case(people.alice, _worker(people, 2), grassroots_opinion="透析费用高，困难属实。")
    app = _walk(people, app, "recommended")
    client.force_login(people.carol)
    text = _flat(_pdf(client.get(reverse("reports:approval_form", args=[app.pk]))))
    assert "基层工会意见透析费用高，困难属实。" in text
    assert "区总工会意见" in text and "批准救助" not in text  # not reached: nothing claimed


# --- the worker's statement from the worker's page ---------------------------------------


def test_the_statement_from_the_workers_page_totals_each_year_and_all(client, people, payouts):
    w1 = payouts.w1  # 2022 3,000; 2023 4,000 + 2,000; 2024 5,000 (tests/reports/conftest.py)
    client.force_login(people.alice)
    text = _flat(_pdf(client.get(reverse("reports:worker_statement", args=[w1.pk]))))
    for year_total in ("2022年3,000.00元", "2023年6,000.00元", "2024年5,000.00元"):
        assert year_total in text, text
    assert "4次，合计14,000.00元" in text
    assert "440605********1996" in text and "440605197208161996" not in text
    assert _logged(AccessKind.DOCUMENT, w1, people.alice).count() == 1


def test_the_statement_is_scoped_by_the_workers_union(client, people, payouts):
    url = reverse("reports:worker_statement", args=[payouts.w3.pk])  # held in 大沥
    for user in (people.alice, people.carol):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(people.dave)
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405
    assert not AccessLog.objects.filter(user__in=[people.alice, people.carol]).exists()


# --- 研讨会纪要 -------------------------------------------------------------------------------


def _meeting(people, cases, *, place="", decisions=None):
    return services.review_meeting_record(
        user=people.carol,
        meeting_date=cases[0].application_date,
        place=place,
        attendees="梁慧敏、何建华、陈志强",
        minutes="镇总工会召开临时救助研讨会，逐案讨论。",
        decisions=decisions,
    )


def test_the_minutes_list_each_case_with_decision_amount_and_reason(client, people, well_funded):
    recommend = _walk(
        people, file_case(people.alice, _worker(people, 3, name="梁志明")), "verified"
    )
    back = _walk(people, file_case(people.alice, _worker(people, 4, name="何丽娟")), "verified")
    reject = _walk(people, file_case(people.alice, _worker(people, 5, name="黄国华")), "submitted")
    meeting = _meeting(
        people,
        [recommend],
        place="西樵镇总工会三楼会议室",
        decisions=[
            DecisionInput(recommend, "recommend", Decimal("4500.00"), "透析费用高，建议救助4500元"),
            DecisionInput(back, "return", None, "缺医院诊断证明"),
            DecisionInput(reject, "reject", None, "已获商业保险理赔"),
        ],
    )
    client.force_login(people.carol)
    pages = _pdf(client.get(reverse("reports:meeting_minutes", args=[meeting.pk])))
    text = _flat(pages)
    assert "西樵镇总工会临时救助研讨会纪要" in text
    assert "西樵镇总工会三楼会议室" in text and "梁慧敏、何建华、陈志强" in text
    rows = [
        (recommend.reference, "梁*明", "建议救助", "4,500.00", "透析费用高，建议救助4500元"),
        (back.reference, "何*娟", "退回补充", "", "缺医院诊断证明"),
        (reject.reference, "黄*华", "不予救助", "", "已获商业保险理赔"),
    ]
    for reference, name, decision, amount, reason in rows:
        # One row: reference, masked name, ..., decision, amount (if any), reason.
        assert re.search(
            re.escape(reference + name) + r".*?" + re.escape(decision + amount + reason), text
        ), (reference, text)
    assert "建议救助金额合计4,500.00" in text
    assert "建议救助1件；退回补充1件；不予救助1件" in text
    for line in ("主持人（签名）", "记录人（签名）", "参会人员（签名）"):
        assert line in text
    for full in ("梁志明", "何丽娟", "黄国华"):
        assert full not in text
    assert _logged(AccessKind.DOCUMENT, meeting, people.carol).count() == 1


def test_minutes_without_a_place_print_none(client, people, well_funded):
    case = _walk(people, file_case(people.alice, _worker(people, 6)), "verified")
    meeting = _meeting(people, [case], decisions=[DecisionInput(case, "return", None, "补充")])
    client.force_login(people.erin)
    text = _flat(_pdf(client.get(reverse("reports:meeting_minutes", args=[meeting.pk]))))
    assert "会议地点主办单位" in text  # the label, then straight the next row: nothing invented


def test_minutes_are_for_meeting_readers_in_scope(client, people, well_funded):
    case = _walk(people, file_case(people.alice, _worker(people, 7)), "verified")
    meeting = _meeting(people, [case], decisions=[DecisionInput(case, "return", None, "补充")])
    url = reverse("reports:meeting_minutes", args=[meeting.pk])
    expected = {people.alice: 403, people.bob: 403, people.dave: 404, people.root: 200}
    for user, status in expected.items():
        client.force_login(user)
        assert client.get(url).status_code == status, user
    client.force_login(people.carol)
    assert (
        client.get(reverse("reports:meeting_minutes", args=[meeting.pk + 999])).status_code == 404
    )


def test_a_meeting_of_25_cases_repeats_its_header_on_every_page(client, people, well_funded):
    cases = [
        _walk(people, file_case(people.alice, _worker(people, 100 + i)), "verified")
        for i in range(25)
    ]
    reason = "患者长期透析，家庭收入低，子女在读，医疗支出大，经研讨同意按标准给予救助。"
    meeting = _meeting(
        people,
        cases,
        decisions=[DecisionInput(c, "recommend", Decimal("3000.00"), reason) for c in cases],
    )
    client.force_login(people.carol)
    response = client.get(reverse("reports:meeting_minutes", args=[meeting.pk]))
    pages = _pdf(response)
    assert len(pages) >= 2
    for page in pages:
        flat = re.sub(r"\s+", "", page)
        assert "研讨结果" in flat and "理由或意见" in flat  # the table header on each page
        assert "研讨会纪要" in flat  # the running header names the meeting
    text = _flat(pages)
    assert all(c.reference in text for c in cases)
    assert "建议救助金额合计75,000.00" in text
    fonts = embedded_fonts(response.content)
    assert any("CJK" in name for name in fonts)
    drawn = [ch for glyphs in fonts.values() for ch, ok in glyphs.items() if is_cjk(ch)]
    assert drawn and all(ok for glyphs in fonts.values() for ch, ok in glyphs.items() if is_cjk(ch))


# --- 发放清单 -------------------------------------------------------------------------------


def _batch(people, amounts, names=None):
    cases = []
    for i, amount in enumerate(amounts):
        name = names[i] if names else f"梁{i}明"
        worker = _worker(people, 200 + i, name=name)
        cases.append(_walk(people, file_case(people.alice, worker, amount=amount), "approved"))
    return services.batch_create(
        user=people.erin,
        title="西樵镇第一批",
        applications=cases,
        fund_source="district",
    ), cases


def test_the_payment_list_lists_each_payee_and_the_total(client, people, well_funded):
    batch, cases = _batch(people, ["3000.00", "4500.50", "2000.00"], ["梁志明", "何丽娟", "黄国华"])
    url = reverse("reports:payment_list", args=[batch.pk])
    client.force_login(people.erin)
    text = _flat(_pdf(client.get(url)))
    assert batch.reference in text and "区拨款" in text
    assert "合计（3人）9,500.50" in text
    for case, name, amount in zip(
        cases, ("梁*明", "何*娟", "黄*华"), ("3,000.00", "4,500.50", "2,000.00"), strict=True
    ):
        worker = case.worker
        assert case.reference + name in text
        assert worker.masked_id_number in text and worker.id_number not in text
        assert "****" + worker.bank_card[-4:] + amount in text
        assert worker.bank_card not in text
    for line in ("制表人", "审核人", "负责人", "（单位盖章）"):
        assert line in text
    assert "银行经办人" not in text
    assert _logged(AccessKind.DOCUMENT, batch, people.erin).count() == 1

    # The bank's copy: full names and card numbers (ID numbers still masked), logged as such.
    text = _flat(_pdf(client.post(url)))
    for case in cases:
        worker = case.worker
        assert worker.name in text and worker.bank_card in text
        assert worker.id_number not in text
    assert "银行联" in text and "银行经办人" in text and "合计（3人）9,500.50" in text
    entry = _logged(AccessKind.BANK_FILE, batch, people.erin).get()
    assert all(c.reference in entry.detail for c in cases)


def test_the_payment_list_roles_and_the_bank_copy(client, people, well_funded):
    batch, _cases = _batch(people, ["1000.00"])
    url = reverse("reports:payment_list", args=[batch.pk])
    for user, get, post in (
        (people.alice, 403, 403),
        (people.carol, 403, 403),  # batches are the district's
        (people.root, 200, 403),  # an administrator reads the batch, never full card numbers
    ):
        client.force_login(user)
        assert client.get(url).status_code == get, user
        assert client.post(url).status_code == post, user
    assert not AccessLog.objects.filter(kind=AccessKind.BANK_FILE).exists()
    client.force_login(people.erin)
    assert client.get(reverse("reports:payment_list", args=[batch.pk + 999])).status_code == 404
    services.batch_cancel(batch=batch, user=people.erin, reason="重复")
    batch.refresh_from_db()
    assert batch.state == BatchState.CANCELLED
    response = client.post(url)
    assert response.status_code == 303
    assert response["Location"] == reverse("admin:relief_paymentbatch_change", args=[batch.pk])
    assert not AccessLog.objects.filter(kind=AccessKind.BANK_FILE).exists()
    assert client.get(url).status_code == 200  # the archive copy of what it was


def test_a_batch_of_60_payees_repeats_its_header_on_every_page(client, people, well_funded):
    batch, cases = _batch(people, ["1000.00"] * 60)
    client.force_login(people.erin)
    pages = _pdf(client.get(reverse("reports:payment_list", args=[batch.pk])))
    assert len(pages) >= 3
    for page in pages:
        flat = re.sub(r"\s+", "", page)
        assert "银行账号" in flat and "金额（元）" in flat  # the table header on each page
        assert batch.reference in flat  # the running header names the batch
    text = _flat(pages)
    assert all(c.reference in text for c in cases)
    assert "合计（60人）60,000.00" in text


# --- the links, where the work is ---------------------------------------------------------


def test_the_case_pages_link_the_approval_form_and_the_statement(client, people, well_funded):
    own = _walk(people, file_case(people.alice, _worker(people, 8)), "approved")
    form_url = reverse("reports:approval_form", args=[own.pk])
    statement_url = reverse("reports:worker_statement", args=[own.worker_id])
    for user, page in (
        (people.alice, reverse("relief:case_detail", args=[own.pk])),
        (people.carol, reverse("admin:relief_application_change", args=[own.pk])),
        (people.erin, reverse("admin:relief_application_change", args=[own.pk])),
    ):
        client.force_login(user)
        html = client.get(page).content.decode()
        assert form_url in html and statement_url in html, (user, page)
    # A case filed for a worker held by another union: the form, not that worker's statement.
    elsewhere = WorkerFactory(
        union=people.carol.union.children.exclude(pk=people.alice.union_id).get()
    )
    case = file_case(people.alice, elsewhere)
    client.force_login(people.alice)
    html = client.get(reverse("relief:case_detail", args=[case.pk])).content.decode()
    assert reverse("reports:approval_form", args=[case.pk]) in html
    assert reverse("reports:worker_statement", args=[elsewhere.pk]) not in html
    # The admin's worker page links to the statement.
    client.force_login(people.carol)
    html = client.get(reverse("admin:relief_worker_change", args=[own.worker_id])).content.decode()
    assert statement_url in html


def test_meetings_and_batches_link_their_documents(client, people, well_funded):
    case = _walk(people, file_case(people.alice, _worker(people, 9)), "verified")
    meeting = _meeting(people, [case], decisions=[DecisionInput(case, "return", None, "补充")])
    minutes = reverse("reports:meeting_minutes", args=[meeting.pk])
    client.force_login(people.carol)
    for page in (
        reverse("admin:relief_reviewmeeting_change", args=[meeting.pk]),
        reverse("admin:relief_reviewmeeting_changelist"),
        reverse("admin:relief_application_change", args=[case.pk]),
    ):
        assert minutes in client.get(page).content.decode(), page
    batch, _cases = _batch(people, ["1000.00"])
    listing = reverse("reports:payment_list", args=[batch.pk])
    change = reverse("admin:relief_paymentbatch_change", args=[batch.pk])
    client.force_login(people.erin)
    html = client.get(change).content.decode()
    assert f'href="{listing}"' in html and f'action="{listing}"' in html  # and the bank copy
    client.force_login(people.root)
    html = client.get(change).content.decode()
    assert f'href="{listing}"' in html and f'action="{listing}"' not in html


def test_the_minutes_and_the_payment_list_asked_for_in_english_are_the_chinese_ones(
    client, people, well_funded
):
    """Chinese paperwork whatever the interface language (tests/reports/
    test_documents_language.py): the decisions, the batch's state and its fund source."""
    case = _walk(people, file_case(people.alice, _worker(people, 7, name="梁志明")), "verified")
    meeting = _meeting(
        people,
        [case],
        decisions=[DecisionInput(case, "recommend", Decimal("4500.00"), "建议救助")],
    )
    batch, _cases = _batch(people, ["1000.00"])
    texts = {}
    for user, url in (
        (people.carol, reverse("reports:meeting_minutes", args=[meeting.pk])),
        (people.erin, reverse("reports:payment_list", args=[batch.pk])),
    ):
        client.force_login(user)
        for language in ("zh-hans", "en"):
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            texts[url, language] = _flat(_pdf(client.get(url)))
        assert texts[url, "en"] == texts[url, "zh-hans"], url
    assert "区拨款" in texts[reverse("reports:payment_list", args=[batch.pk]), "en"]

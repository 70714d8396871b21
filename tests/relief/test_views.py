"""The caseworker pages through Django's test client: scope, writes, errors, query counts."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from relief import services
from relief.conflicts import conflict_text
from relief.models import Application, AuditEntry, HardshipCategory, Worker
from tests.factories import (
    WorkerFactory,
    case_in_state,
    category,
    file_case,
    make_id_number,
    tiny_pdf,
    tiny_png,
)
from tests.searching import search

# Real files: attachments are decoded or parsed on upload (relief.uploads).
PNG = tiny_png()
PDF = tiny_pdf()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def html_of(response) -> str:
    return response.content.decode()


def detail(app) -> str:
    return reverse("relief:case_detail", args=[app.pk])


def in_state(people, state, **kw):
    return case_in_state(
        state, caseworker=people.alice, reviewer=people.carol, officer=people.erin, **kw
    )


def management(prefix="household", total=0, initial=0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def member(index, relation, name, **extra) -> dict:
    row = {"relation": relation, "name": name, "age": "", "occupation": "", "health": ""}
    row.update(extra)
    return {f"household-{index}-{k}": v for k, v in row.items()}


def intake_post(id_number, **overrides) -> dict:
    data = {
        "step": "file",
        "id_number": id_number,
        "action": "submit",
        "name": "陈建华",
        "phone": "13912345678",
        "employer": "樵山食品有限公司",
        "address": "西樵镇樵园路 8 号",
        "hukou": "广西玉林",
        "health": "",
        "bank_name": "农商银行",
        "bank_branch": "西樵支行",
        "new_bank_card": "6228480000000000009",
        "notes": "",
        "categories": [str(category("重大疾病").pk)],
        "narrative": "本人确诊白血病，需长期化疗。",
        "household_monthly_income": "1500",
        "monthly_medical_expenses": "4000",
        "requested_amount": "6000",
        "attach-kind": "diagnosis",
        **management(total=3),
        **member(0, "妻子", "黄丽萍", age="41", monthly_income="2200"),
        **member(1, "儿子", "陈子轩", age="12", occupation="小学"),
    }
    data.update(overrides)
    return data


# --- home ------------------------------------------------------------------------------


def test_home_lists_returned_cases_first_with_the_reviewers_comment(client, people):
    draft = in_state(people, "draft")
    returned = in_state(people, "returned")
    client.force_login(people.alice)
    html = html_of(client.get("/"))
    assert "待办" in html and "退回补充材料" in html
    assert html.index(returned.worker.name) < html.index(draft.worker.name)
    assert "缺诊断书" in html  # the reviewer's comment from the factory
    assert 'href="/cases/?state=returned"' in html


def test_home_for_reviewers_links_to_the_admin_and_not_to_case_filing(client, people):
    client.force_login(people.carol)
    html = html_of(client.get("/"))
    assert reverse("admin:index") in html
    assert reverse("relief:case_new") not in html


# --- list ------------------------------------------------------------------------------


def test_the_list_shows_only_the_unions_cases_with_masked_id_numbers(client, people):
    mine = in_state(people, "submitted")
    theirs = file_case(people.bob)
    client.force_login(people.alice)
    html = html_of(client.get(reverse("relief:case_list")))
    assert mine.reference in html
    assert theirs.reference not in html
    number = mine.worker.id_number
    assert number not in html
    assert f"{number[:6]}********{number[-4:]}" in html


def test_the_list_filters_by_state_year_category_and_searches(client, people):
    submitted = in_state(people, "submitted")
    draft = file_case(people.alice, categories=("意外伤害",))
    client.force_login(people.alice)
    url = reverse("relief:case_list")

    def refs(q="", **query):
        # As the page does it: the box POSTs, the list is reached with ?s=<token>.
        response = search(client, url, q, **query) if q else client.get(url, query)
        return set(re.findall(r"XQ-\d{4}-\d{4}", html_of(response)))

    assert refs(state="draft") == {draft.reference}
    assert refs(category=category("意外伤害").pk) == {draft.reference}
    assert refs(year=dt.date.today().year) == {draft.reference, submitted.reference}
    assert refs(q=submitted.worker.name) == {submitted.reference}
    assert refs(q=draft.worker.id_number[-6:]) == {draft.reference}
    assert refs(q=draft.worker.id_number) == {draft.reference}
    assert refs(q=draft.worker.id_number, state="submitted") == set()
    assert refs(q="不存在的人") == set()


def test_the_list_is_paginated(client, people):
    # Keyset pages (relief.paging): "next" carries the last row's date and number.
    for _ in range(23):
        file_case(people.alice)
    client.force_login(people.alice)
    first = html_of(client.get(reverse("relief:case_list")))
    assert "共 23 件" in first
    last = Application.objects.filter(union=people.alice.union).order_by(
        "-application_date", "-pk"
    )[19]
    assert f'href="?after={last.application_date.isoformat()}.{last.pk}" rel="next"' in first
    second = html_of(
        client.get(reverse("relief:case_list"), {"after": f"{last.application_date}.{last.pk}"})
    )
    assert len(re.findall(r'<td class="ref">', second)) == 3
    assert 'rel="prev"' in second and 'rel="next"' not in second


def _make_cases(people, n):
    for i in range(n):
        app = file_case(people.alice, categories=("重大疾病", "子女就学"))
        if i % 2:
            services.application_submit(application=app, user=people.alice)


@pytest.mark.parametrize("which", ["home", "list", "deep page", "filtered list", "searched list"])
def test_home_and_list_run_the_same_queries_for_few_or_many_cases(
    client, people, django_assert_num_queries, which
):
    filters = {"state": "submitted", "year": dt.date.today().year}
    url = {
        "home": "/",
        "list": reverse("relief:case_list"),
        # A keyset page (relief.paging): every case lies after this key.
        "deep page": reverse("relief:case_list")
        + f"?after={dt.date.today() + dt.timedelta(days=1)}.999999999",
        "filtered list": reverse("relief:case_list")
        + f"?q=梁&state=submitted&year={dt.date.today().year}&category="
        + str(category("子女就学").pk),
        "searched list": "",
    }[which]
    client.force_login(people.alice)
    if which == "searched list":  # the term read back from the session by its token
        url = client.post(reverse("relief:case_list"), {"q": "梁", **filters})["Location"]
    _make_cases(people, 2)
    client.get(url)  # warm-up: content types, translations
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _make_cases(people, 15)
    with django_assert_num_queries(len(few)):
        assert client.get(url).status_code == 200


def test_the_case_page_runs_the_same_queries_for_a_short_or_long_history(
    client, people, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(people.alice)
    short = file_case(people.alice)
    busy = file_case(people.alice)
    services.household_replace(
        worker=busy.worker,
        user=people.alice,
        members=[{"relation": "子女", "name": f"孩子{i}"} for i in range(6)],
    )
    for i in range(4):
        busy = services.application_update(
            application=busy, user=people.alice, data={"narrative": f"第{i}次补充"}
        )
        services.attachment_add(
            application=busy,
            user=people.alice,
            upload=SimpleUploadedFile(f"p{i}.png", PNG),
            kind="photo",
        )
        busy.refresh_from_db()
    closed = in_state(people, "closed")  # payouts, home visit, follow-up
    client.get(detail(short))
    with CaptureQueriesContext(connection) as few:
        assert client.get(detail(short)).status_code == 200
    for app in (busy, closed):
        assert AuditEntry.objects.filter(application=app).count() > 5
        with django_assert_num_queries(len(few)):
            assert client.get(detail(app)).status_code == 200


# --- scope -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "case_detail"),
        ("get", "case_edit"),
        ("post", "case_edit"),
        ("post", "case_submit"),
        ("post", "case_resubmit"),
        ("get", "case_withdraw"),
        ("post", "case_withdraw"),
        ("post", "attachment_add"),
    ],
)
def test_another_unions_case_does_not_exist_for_a_caseworker(client, people, method, name):
    theirs = file_case(people.bob)
    client.force_login(people.alice)
    response = getattr(client, method)(reverse(f"relief:{name}", args=[theirs.pk]))
    assert response.status_code == 404
    assert "不在您所在工会的范围内" in html_of(response)


def test_a_town_reviewer_sees_cases_of_the_town_only(client, people):
    mine = in_state(people, "submitted")
    client.force_login(people.dave)  # 大沥 reviewer
    assert client.get(detail(mine)).status_code == 404
    client.force_login(people.carol)  # 西樵 reviewer
    html = html_of(client.get(detail(mine)))
    assert mine.reference in html
    assert reverse("admin:relief_application_change", args=[mine.pk]) in html


def test_only_caseworkers_file_cases(client, people):
    client.force_login(people.carol)
    assert client.get(reverse("relief:case_new")).status_code == 403


# The stored name is random hex: about once in 300 runs it holds 18 digits in a row, which the
# suite-wide guard would take for an ID number in the /media/ address below.
@pytest.mark.id_in_url
def test_attachments_download_within_scope_only(client, people):
    app = file_case(people.alice)
    attachment = services.attachment_add(
        application=app,
        user=people.alice,
        upload=SimpleUploadedFile("诊断书.pdf", PDF, content_type="application/pdf"),
        kind="diagnosis",
    )
    url = reverse("relief:attachment_download", args=[attachment.pk])
    client.force_login(people.alice)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    assert "no-store" in response["Cache-Control"]
    client.force_login(people.carol)
    assert client.get(url).status_code == 200
    for outsider in (people.bob, people.dave):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    # The stored file has a random name and no URL serves the media folder.
    assert "诊断书" not in attachment.file.name
    assert client.get("/media/" + attachment.file.name).status_code == 404


# --- intake ----------------------------------------------------------------------------


def test_the_intake_starts_with_the_id_number_and_checks_it(client, people):
    client.force_login(people.alice)
    url = reverse("relief:case_new")
    assert "身份证号" in html_of(client.get(url))
    response = client.post(url, {"step": "lookup", "id_number": "440605198001011234"})
    assert response.status_code == 200
    assert "校验位" in html_of(response)  # "the check digit ... is wrong", in Chinese
    assert 'name="narrative"' not in html_of(response)


def test_a_new_worker_gets_an_empty_worker_form(client, people):
    client.force_login(people.alice)
    number = make_id_number(301)
    html = html_of(client.post(reverse("relief:case_new"), {"step": "lookup", "id_number": number}))
    assert "系统中没有该身份证号的职工" in html
    assert 'name="name"' in html
    assert 'name="household-TOTAL_FORMS" value="2"' in html
    assert f'name="id_number" value="{number}"' in html


def test_filing_a_new_case_with_household_and_attachment(client, people):
    client.force_login(people.alice)
    number = make_id_number(302)
    data = intake_post(number)
    data["attach-files"] = [SimpleUploadedFile("bill.png", PNG, content_type="image/png")]
    response = client.post(reverse("relief:case_new"), data)
    app = Application.objects.get(worker__id_number=number)
    assert response.status_code == 302
    assert response.url == detail(app)
    assert app.state == "submitted"
    assert app.union == people.alice.union
    assert app.requested_amount == Decimal("6000")
    assert list(app.categories.values_list("name", flat=True)) == ["重大疾病"]
    worker = app.worker
    assert worker.union == people.alice.union
    assert [(m.relation, m.name) for m in worker.household.all()] == [
        ("妻子", "黄丽萍"),
        ("儿子", "陈子轩"),
    ]
    [attachment] = app.attachments.all()
    assert attachment.content_type == "image/png"
    assert attachment.kind == "diagnosis"
    actions = list(AuditEntry.objects.filter(application=app).values_list("action", flat=True))
    assert actions == ["create", "attach", "submit"]
    html = html_of(client.get(response.url))
    assert "已提交镇总工会审核" in html
    assert "bill.png" in html


def test_save_as_draft(client, people):
    client.force_login(people.alice)
    number = make_id_number(303)
    response = client.post(reverse("relief:case_new"), intake_post(number, action="draft"))
    assert response.status_code == 302
    assert Application.objects.get(worker__id_number=number).state == "draft"


def test_validation_errors_keep_everything_typed(client, people):
    client.force_login(people.alice)
    number = make_id_number(304)
    data = intake_post(
        number,
        narrative="",
        requested_amount="12000",
        categories=[str(category("重大疾病").pk), str(category("子女就学").pk)],
        **member(1, "儿子", "陈子轩", id_number="440605201001011234"),
        **management(total=4),
        **member(2, "母亲", "李秀兰", age="70", health="高血压"),
    )
    data["attach-files"] = [SimpleUploadedFile("bill.png", PNG, content_type="image/png")]
    response = client.post(reverse("relief:case_new"), data)
    assert response.status_code == 400
    html = html_of(response)
    assert not Worker.objects.filter(id_number=number).exists()
    # Errors in Chinese next to their fields.
    assert "这个字段是必填项。" in html
    assert "超过了" in html and "¥10,000.00" in html
    assert "校验位" in html
    assert "请更正下面标出的" in html
    assert "请重新选择" in html  # files cannot be kept by a browser
    # Everything typed is still there.
    for text in [
        "陈建华",
        "13912345678",
        "黄丽萍",
        "陈子轩",
        "440605201001011234",
        "李秀兰",
        "高血压",
    ]:
        assert f'value="{text}"' in html, text
    assert 'value="12000"' in html
    for name in ("重大疾病", "子女就学"):
        pk = category(name).pk
        assert re.search(rf'value="{pk}"[^>]*checked', html), name
    assert 'name="household-TOTAL_FORMS" value="4"' in html


def test_removed_household_rows_stay_removed_after_an_error(client, people):
    client.force_login(people.alice)
    number = make_id_number(305)
    data = intake_post(number, narrative="", **{"household-1-DELETE": "on"})
    html = html_of(client.post(reverse("relief:case_new"), data))
    assert re.search(r'name="household-1-DELETE"[^>]*checked', html)
    data["narrative"] = "本人确诊白血病。"
    assert client.post(reverse("relief:case_new"), data).status_code == 302
    worker = Worker.objects.get(id_number=number)
    assert [m.name for m in worker.household.all()] == ["黄丽萍"]


def test_an_existing_worker_is_prefilled_with_prior_relief(client, people):
    old = in_state(people, "closed", amount="4000.00")
    worker = old.worker
    services.household_replace(
        worker=worker, user=people.alice, members=[{"relation": "母亲", "name": "梁陈氏"}]
    )
    client.force_login(people.alice)
    html = html_of(
        client.post(reverse("relief:case_new"), {"step": "lookup", "id_number": worker.id_number})
    )
    assert "以往救助" in html
    assert "¥4,000.00" in html
    assert "西樵镇总工会" in html
    assert f'value="{worker.name}"' in html
    assert f'value="{worker.phone}"' in html
    assert 'value="梁陈氏"' in html
    assert 'name="household-INITIAL_FORMS" value="1"' in html

    data = intake_post(
        worker.id_number,
        name=worker.name,
        **management(total=1, initial=1),
        **member(0, "母亲", "梁陈氏", age="80"),
    )
    for key in [k for k in data if k.startswith("household-1-")]:
        del data[key]
    response = client.post(reverse("relief:case_new"), data)
    assert response.status_code == 302
    assert worker.applications.count() == 2
    worker.refresh_from_db()
    assert worker.phone == "13912345678"
    assert [(m.name, m.age) for m in worker.household.all()] == [("梁陈氏", 80)]


def test_a_case_in_progress_is_named_and_blocks_a_second(client, people):
    current = file_case(people.bob)
    client.force_login(people.alice)
    html = html_of(
        client.post(
            reverse("relief:case_new"), {"step": "lookup", "id_number": current.worker.id_number}
        )
    )
    assert current.reference in html
    assert "凤池村工会" in html
    assert 'name="narrative"' not in html
    assert detail(current) not in html  # out of scope: named, not linked


def test_a_worker_of_another_union_is_not_shown_but_can_be_helped(client, people):
    worker = WorkerFactory(union=people.bob.union, phone="13700000000")
    client.force_login(people.alice)
    html = html_of(
        client.post(reverse("relief:case_new"), {"step": "lookup", "id_number": worker.id_number})
    )
    assert "13700000000" not in html
    assert 'name="name"' not in html
    assert "凤池村工会" in html
    data = {
        k: v
        for k, v in intake_post(worker.id_number).items()
        if not k.startswith("household-") and k not in Worker._meta.fields
    }
    response = client.post(reverse("relief:case_new"), data)
    assert response.status_code == 302
    app = worker.applications.get()
    assert app.union == people.alice.union
    worker.refresh_from_db()
    assert worker.phone == "13700000000"


# --- correcting, submitting, withdrawing -----------------------------------------------


def _edit_data(app, **overrides) -> dict:
    worker = app.worker
    members = list(worker.household.all())
    data = {
        "version": str(app.version),
        "name": worker.name,
        "phone": worker.phone,
        "employer": worker.employer,
        "bank_name": worker.bank_name,
        "bank_branch": worker.bank_branch,
        "new_bank_card": "",  # the stored card is never in the form; empty keeps it
        "categories": [str(c.pk) for c in app.categories.all()],
        "narrative": app.narrative,
        "household_monthly_income": str(app.household_monthly_income),
        "monthly_medical_expenses": str(app.monthly_medical_expenses),
        "requested_amount": str(app.requested_amount),
        "attach-kind": "bill",
        **management(total=len(members), initial=len(members)),
    }
    for i, m in enumerate(members):
        born = m.birth_date.isoformat() if m.birth_date else ""
        data.update(member(i, m.relation, m.name, birth_date=born, member_pk=str(m.pk)))
    data.update(overrides)
    return data


def test_a_returned_case_shows_the_comment_and_is_corrected_and_resubmitted(client, people):
    app = in_state(people, "returned")
    client.force_login(people.alice)
    page = html_of(client.get(detail(app)))
    assert "镇总工会的退回意见" in page
    assert "缺诊断书" in page
    edit = reverse("relief:case_edit", args=[app.pk])
    html = html_of(client.get(edit))
    assert html.index("缺诊断书") < html.index('name="narrative"')
    data = _edit_data(app, narrative="补充：已附住院诊断证明。", action="resubmit")
    data["attach-files"] = [SimpleUploadedFile("诊断.pdf", PDF, content_type="application/pdf")]
    response = client.post(edit, data)
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == "submitted"
    assert app.narrative == "补充：已附住院诊断证明。"
    assert app.attachments.get().original_name == "诊断.pdf"
    assert list(app.audit_entries.values_list("action", flat=True))[-3:] == [
        "update",
        "attach",
        "resubmit",
    ]


def test_the_correction_page_keeps_household_birth_dates(client, people):
    app = in_state(people, "draft")
    services.household_replace(
        worker=app.worker,
        user=people.alice,
        members=[{"relation": "女儿", "name": "黄嘉怡", "birth_date": dt.date(2012, 9, 1)}],
    )
    client.force_login(people.alice)
    edit = reverse("relief:case_edit", args=[app.pk])
    html = html_of(client.get(edit))
    assert 'value="2012-09-01"' in html
    assert client.post(edit, _edit_data(app, action="save")).status_code == 302
    [kept] = app.worker.household.all()
    assert (kept.name, kept.birth_date) == ("黄嘉怡", dt.date(2012, 9, 1))


def test_a_stale_form_is_refused_without_losing_the_input(client, people):
    app = in_state(people, "draft")
    client.force_login(people.alice)
    data = _edit_data(app, narrative="我的修改", action="save")
    services.application_update(
        application=app, user=people.alice, data={"requested_amount": Decimal("4500")}
    )
    response = client.post(reverse("relief:case_edit", args=[app.pk]), data)
    assert response.status_code == 400
    html = html_of(response)
    # Who changed the case and when, from the audit trail (relief.conflicts, issue 12).
    with translation.override("zh-hans"):
        expected = conflict_text(Application.objects.get(pk=app.pk))
    assert escape(expected) in html
    assert "我的修改" in html
    app.refresh_from_db()
    assert app.narrative != "我的修改"


def test_submit_and_withdraw_from_the_case_page(client, people):
    app = in_state(people, "draft")
    client.force_login(people.alice)
    html = html_of(client.get(detail(app)))
    assert reverse("relief:case_submit", args=[app.pk]) in html
    response = client.post(reverse("relief:case_submit", args=[app.pk]), {"version": app.version})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == "submitted"
    withdraw = reverse("relief:case_withdraw", args=[app.pk])
    assert "确认撤回" in html_of(client.get(withdraw))
    client.post(withdraw, {"version": app.version, "comment": "职工已获其他救助"})
    app.refresh_from_db()
    assert app.state == "withdrawn"
    page = html_of(client.get(detail(app)))
    assert "职工已获其他救助" in page
    assert withdraw not in page


def test_a_case_page_without_actions_for_a_verified_case(client, people):
    app = in_state(people, "verified")
    client.force_login(people.alice)
    html = html_of(client.get(detail(app)))
    for name in ("case_edit", "case_submit", "case_withdraw", "attachment_add"):
        assert reverse(f"relief:{name}", args=[app.pk]) not in html
    response = client.post(reverse("relief:case_edit", args=[app.pk]), _edit_data(app))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == "verified"


def test_the_timeline_shows_who_did_what_when_in_chinese(client, people):
    app = in_state(people, "approved", amount="5000.00")
    client.force_login(people.alice)
    html = html_of(client.get(detail(app)))
    timeline = html[html.index('data-testid="timeline"') :]
    for text in ["创建", "提交", "核实", "建议", "批准", "待镇审核", "已核实", "研讨同意"]:
        assert text in timeline, text
    assert people.carol.full_name in timeline
    assert "¥5,000.00" in timeline
    first = app.audit_entries.order_by("at").first()
    local = first.at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M") in timeline


def test_attachments_are_checked_on_the_case_page(client, people):
    app = in_state(people, "submitted")
    client.force_login(people.alice)
    url = reverse("relief:attachment_add", args=[app.pk])
    response = client.post(
        url,
        {
            "version": app.version,
            "attach-kind": "photo",
            "attach-files": [SimpleUploadedFile("a.exe", b"MZ\x90\x00" * 8)],
        },
    )
    assert response.status_code == 400
    assert "a.exe 不是 PDF、JPEG、PNG、HEIC 或 WebP 文件。" in html_of(response)
    assert not app.attachments.exists()
    response = client.post(
        url,
        {
            "version": app.version,
            "attach-kind": "photo",
            "attach-files": [
                SimpleUploadedFile("p1.png", PNG),
                SimpleUploadedFile("p2.png", PNG),
            ],
        },
    )
    assert response.status_code == 302
    assert app.attachments.count() == 2


def test_categories_offered_are_the_active_ones(client, people):
    HardshipCategory.objects.filter(name="其他").update(is_active=False)
    client.force_login(people.alice)
    html = html_of(
        client.post(
            reverse("relief:case_new"), {"step": "lookup", "id_number": make_id_number(306)}
        )
    )
    assert "重大疾病" in html
    assert "<span>其他</span>" not in html
    assert "<span>重大疾病</span>" in html

"""Public notice (公示) with objections (异议), issue 15: end to end on the calendar, approval
refused with the right words, scope, the printed list, the approval form, the queues' selector.

The clock is frozen with `at(day)`: the services take today from django.utils.timezone, so the
whole flow runs around China's National Day 2026 (1-7 October off, Saturday 10 October a
make-up working day).
"""

import datetime as dt
import io
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from relief import services
from relief.errors import NotAllowed, OutOfScope
from relief.models import AuditEntry, NoticeItem, Objection, Policy, PublicNotice
from relief.selectors import notices as selectors
from relief.services.notices import (
    notice_end,
    notice_open,
    notice_status,
    objection_record,
    objection_resolve,
)
from reports import documents, pdf
from tests.factories import case_in_state, file_case, walk
from tests.relief.helpers import english, footprint, message_of
from tests.reports.pdfcheck import pages_text

D = dt.date


@contextmanager
def at(day: dt.date, hour: int = 10):
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def required(db):
    Policy.objects.update(notice_required=True, notice_workdays=5, notice_phone="0757-86881234")


def recommended(people, worker=None):
    return case_in_state(
        "recommended",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        worker=worker,
    )


def approve(app, people, amount="5000.00"):
    app.refresh_from_db()
    return services.application_approve(application=app, user=people.erin, amount=Decimal(amount))


def open_notice(people, cases, starts_on, **kw):
    for case in cases:
        case.refresh_from_db()
    return notice_open(
        user=kw.pop("user", people.carol),
        applications=cases,
        posted_at=kw.pop("posted_at", "樵园社区工会公示栏、西樵镇总工会微信公众号"),
        starts_on=starts_on,
        **kw,
    )


def objection(people, app, received_on, **kw):
    app.refresh_from_db()
    return objection_record(
        user=kw.pop("user", people.carol),
        application=app,
        received_on=received_on,
        channel=kw.pop("channel", "phone"),
        content=kw.pop("content", "来电反映其家中有出租屋收入。"),
        objector_name=kw.pop("objector_name", "李建国"),
        objector_contact="13900001111",
        **kw,
    )


# --- the period on the calendar -----------------------------------------------------------


@pytest.mark.parametrize(
    "starts, days, ends",
    [
        (D(2026, 9, 28), 5, D(2026, 10, 9)),  # Mon: 28, 29, 30, (1-7 off), 8, 9
        (D(2026, 10, 1), 5, D(2026, 10, 13)),  # posted on National Day: 8, 9, 10, 12, 13
        (D(2026, 9, 29), 5, D(2026, 10, 10)),  # ... 8, 9, Saturday 10 (调休)
        (D(2026, 11, 30), 5, D(2026, 12, 4)),  # an ordinary week
        (D(2026, 11, 28), 5, D(2026, 12, 4)),  # posted on a Saturday: Monday is day 1
        (D(2026, 11, 30), 1, D(2026, 11, 30)),
    ],
)
def test_the_notice_ends_after_its_working_days(db, starts, days, ends):
    assert notice_end(starts, days) == ends


# --- end to end -------------------------------------------------------------------------


def test_dismissed_objection_then_the_notice_ends_across_national_day_then_approval(
    people, required
):
    with at(D(2026, 9, 28)):
        app = recommended(people)
        other = recommended(people, worker=None)
        notice = open_notice(people, [app, other], D(2026, 9, 29))
    assert notice.number == "XQ-GS-2026-001"
    assert (notice.starts_on, notice.ends_on, notice.workdays) == (
        D(2026, 9, 29),
        D(2026, 10, 10),
        5,
    )
    assert notice.phone == "0757-86881234"

    with at(D(2026, 9, 30)):
        raised = objection(people, app, D(2026, 9, 30))
        with pytest.raises(ValidationError) as refused:
            approve(app, people)
    text = message_of(refused)
    assert "XQ-GS-2026-001" in text and "2026年10月10日" in text and "2026年10月11日" in text
    assert "1 条异议尚未处理" in text  # Chinese by default

    with at(D(2026, 10, 8)):
        objection_resolve(
            user=people.carol,
            objection=raised,
            outcome="dismissed",
            finding="出租屋已出售，核实无租金收入。",
        )
        with pytest.raises(ValidationError) as still:
            approve(app, people)
    assert "尚未期满" in message_of(still)
    assert "异议尚未处理" not in message_of(still)

    # The last day of the notice, a make-up Saturday: not yet.
    with at(D(2026, 10, 10)), pytest.raises(ValidationError):
        approve(app, people)
    with at(D(2026, 10, 12)):
        approved = approve(app, people)
    assert approved.state == "approved"

    actions = list(
        AuditEntry.objects.filter(application=app).order_by("pk").values_list("action", flat=True)
    )
    assert actions[-4:] == ["notice", "objection", "objection_resolve", "approve"]
    assert other.notice_items.get().notice == notice


def test_upheld_objection_returns_the_case_and_it_needs_a_new_notice(people, required):
    with at(D(2026, 11, 23)):
        app = recommended(people)
        first = open_notice(people, [app], D(2026, 11, 23))
    with at(D(2026, 11, 24)):
        raised = objection(people, app, D(2026, 11, 24))
        second_objection = objection(people, app, D(2026, 11, 24), objector_name="")
    with at(D(2026, 11, 25)):
        objection_resolve(
            user=people.carol,
            objection=raised,
            outcome="returned",
            finding="核实发现其配偶有稳定收入，须补充收入证明。",
        )
    app.refresh_from_db()
    assert app.state == "returned"
    entry = AuditEntry.objects.filter(application=app).latest("pk")
    assert (entry.action, entry.from_state, entry.to_state) == (
        "objection_return",
        "recommended",
        "returned",
    )
    assert "须补充收入证明" in entry.comment
    second_objection.refresh_from_db()
    assert second_objection.outcome == "returned" and second_objection.resolved_on

    with at(D(2026, 12, 7)):  # the first notice ended long ago
        app = services.application_resubmit(application=app, user=people.alice, comment="已补充")
        app = services.application_verify(application=app, user=people.carol)
        app = services.application_recommend(
            application=app, user=people.carol, amount=Decimal("3000.00"), comment="重新研讨"
        )
        with pytest.raises(ValidationError) as refused:
            approve(app, people, "3000.00")
        assert "尚未公示" in message_of(refused) or "须经公示" in message_of(refused)
        assert notice_status(app).item is None
        second = open_notice(people, [app], D(2026, 12, 7))
    assert second.number == "XQ-GS-2026-002" and second.pk != first.pk
    assert second.items.get().amount == Decimal("3000.00")
    with at(D(2026, 12, 14)):
        assert approve(app, people, "3000.00").state == "approved"


def test_upheld_objection_can_reject_the_case(people):
    with at(D(2026, 11, 23)):
        app = recommended(people)
        open_notice(people, [app], D(2026, 11, 23))
        raised = objection(people, app, D(2026, 11, 23))
        objection_resolve(
            user=people.carol,
            objection=raised,
            outcome="rejected",
            finding="已获商业保险全额理赔。",
        )
    app.refresh_from_db()
    assert app.state == "rejected"
    assert AuditEntry.objects.filter(application=app).latest("pk").action == "objection_reject"


def test_without_a_required_notice_approval_needs_none_but_a_running_one_still_counts(people):
    with at(D(2026, 11, 23)):
        plain = recommended(people)
        assert approve(plain, people).state == "approved"  # policy: no notice required
        noticed = recommended(people)
        open_notice(people, [noticed], D(2026, 11, 23))
        with pytest.raises(ValidationError):
            approve(noticed, people)  # put on notice anyway: approval waits for its end


# --- refusals -------------------------------------------------------------------------------


def test_approval_refused_in_english_says_which_and_until_when(people, required):
    with at(D(2026, 11, 30)):
        app = recommended(people)
        with english(), pytest.raises(ValidationError) as none:
            approve(app, people)
        assert "requires a public notice" in message_of(none)
        open_notice(people, [app], D(2026, 11, 30))
        objection(people, app, D(2026, 11, 30))
        before = footprint(app)
        with english(), pytest.raises(ValidationError) as both:
            approve(app, people)
    text = message_of(both)
    assert "has not ended: it runs until 2026年12月4日" in text
    assert "from 2026年12月5日" in text
    assert "1 objection(s)" in text
    assert footprint(app) == before


def test_a_case_on_a_notice_cannot_go_on_another(people):
    with at(D(2026, 11, 30)):
        app = recommended(people)
        open_notice(people, [app], D(2026, 11, 30))
        with pytest.raises(ValidationError) as twice:
            open_notice(people, [app], D(2026, 12, 1))
    assert "XQ-GS-2026-001" in message_of(twice)
    assert PublicNotice.objects.count() == 1 and NoticeItem.objects.count() == 1


def test_open_notice_refuses_bad_input_and_writes_nothing(people):
    with at(D(2026, 11, 30)):
        app = recommended(people)
        submitted = case_in_state(
            "submitted", caseworker=people.alice, reviewer=people.carol, officer=people.erin
        )
        for kwargs in (
            {"posted_at": "  "},
            {"starts_on": D(2027, 3, 1)},  # too far ahead
            {"starts_on": D(2026, 11, 1)},  # before the recommendation
        ):
            args = {"starts_on": D(2026, 11, 30), **kwargs}
            with pytest.raises(ValidationError):
                open_notice(people, [app], **args)
        with pytest.raises(ValidationError):  # not recommended
            open_notice(people, [submitted], D(2026, 11, 30))
        with pytest.raises(ValidationError):
            open_notice(people, [], D(2026, 11, 30))
    assert not PublicNotice.objects.exists()
    assert not AuditEntry.objects.filter(action="notice").exists()


def test_roles_and_scope(people):
    with at(D(2026, 11, 30)):
        app = recommended(people)
        with pytest.raises(OutOfScope):
            open_notice(people, [app], D(2026, 11, 30), user=people.dave)
        with pytest.raises(NotAllowed):
            open_notice(people, [app], D(2026, 11, 30), user=people.erin)
        open_notice(people, [app], D(2026, 11, 30))
        with pytest.raises(OutOfScope):
            objection(people, app, D(2026, 11, 30), user=people.dave)
        with pytest.raises(OutOfScope):
            objection(people, app, D(2026, 11, 30), user=people.bob)
        with pytest.raises(NotAllowed):
            objection(people, app, D(2026, 11, 30), user=people.alice)
        raised = objection(people, app, D(2026, 11, 30))
        for user, error in ((people.dave, OutOfScope), (people.erin, NotAllowed)):
            with pytest.raises(error):
                objection_resolve(user=user, objection=raised, outcome="dismissed", finding="x")
        with pytest.raises(ValidationError) as empty:
            objection_resolve(user=people.carol, objection=raised, outcome="dismissed", finding="")
        assert "finding" in empty.value.message_dict
    raised.refresh_from_db()
    assert not raised.outcome


def test_objection_dates_are_checked(people):
    with at(D(2026, 11, 30)):
        app = recommended(people)
        open_notice(people, [app], D(2026, 11, 30))
        for day in (D(2026, 11, 27), D(2026, 12, 1)):
            with pytest.raises(ValidationError) as bad:
                objection(people, app, day)
            assert "received_on" in bad.value.message_dict
    assert not Objection.objects.exists()


# --- who sees objections -----------------------------------------------------------------


def test_caseworkers_never_see_objections_on_the_case_page(client, people):
    with at(D(2026, 11, 30)):
        app = recommended(people)
        open_notice(people, [app], D(2026, 11, 30))
        objection(people, app, D(2026, 11, 30), content="反映内容机密")
    client.force_login(people.alice)
    page = client.get(reverse("relief:case_detail", args=[app.pk])).content.decode()
    assert "李建国" not in page and "反映内容机密" not in page and "收到异议" not in page
    assert "列入公示" in page  # the notice itself is public
    client.force_login(people.carol)
    page = client.get(reverse("relief:case_detail", args=[app.pk])).content.decode()
    assert "收到异议" in page and "反映内容机密" not in page  # the trail never holds the words
    form = client.get(reverse("reports:approval_form", args=[app.pk]))
    assert "未处理" in "".join(pages_text(form.content))
    client.force_login(people.alice)
    form = client.get(reverse("reports:approval_form", args=[app.pk]))
    text = "".join(pages_text(form.content))
    assert "XQ-GS-2026-001" in text and "异议" not in text


def test_admin_objection_pages_mask_in_lists_and_are_404_for_another_town(client, people):
    with at(D(2026, 11, 30)):
        app = recommended(people)
        notice = open_notice(people, [app], D(2026, 11, 30))
        raised = objection(people, app, D(2026, 11, 30))
    client.force_login(people.carol)
    listing = client.get(reverse("admin:relief_objection_changelist")).content.decode()
    assert "李*国" in listing and "李建国" not in listing
    page = client.get(reverse("admin:relief_objection_change", args=[raised.pk])).content.decode()
    assert "李建国" in page and "13900001111" in page
    client.force_login(people.dave)
    for url in (
        reverse("admin:relief_objection_change", args=[raised.pk]),
        reverse("admin:relief_objection_resolve", args=[raised.pk]),
        reverse("admin:relief_publicnotice_change", args=[notice.pk]),
        reverse("reports:notice_print", args=[notice.pk]),
    ):
        assert client.get(url).status_code == 404, url
    client.force_login(people.alice)
    assert client.get(reverse("reports:notice_print", args=[notice.pk])).status_code == 404


# --- the admin flow -------------------------------------------------------------------------


def test_admin_open_record_resolve_and_the_approve_page_refusal(client, people, required):
    app = recommended(people)
    today = timezone.localdate()
    client.force_login(people.carol)
    add = reverse("admin:relief_publicnotice_add")
    page = client.get(add).content.decode()
    assert app.reference in page and "发布公示" in page
    response = client.post(
        add,
        {
            "posted_at": "樵园社区工会公示栏",
            "starts_on": today,
            "cases": [f"{app.pk}:{app.version}"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    notice = PublicNotice.objects.get()
    # A second POST of the same page: the case is no longer offered, nothing is written.
    again = client.post(
        add, {"posted_at": "x", "starts_on": today, "cases": [f"{app.pk}:{app.version}"]}
    )
    assert again.status_code == 200 and PublicNotice.objects.count() == 1
    app.refresh_from_db()
    response = client.post(
        reverse("admin:relief_objection_add"),
        {
            "application": f"{app.pk}:{app.version}",
            "received_on": today,
            "channel": "visit",
            "content": "来访反映",
            "objector_name": "",
            "objector_contact": "",
            "handler": "梁慧敏",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    raised = Objection.objects.get()
    assert raised.objector_name == "" and raised.handler == "梁慧敏"

    client.force_login(people.erin)
    app.refresh_from_db()
    case_page = client.get(reverse("admin:relief_application_change", args=[app.pk]))
    assert notice.number in case_page.content.decode()
    refused = client.post(
        reverse("admin:relief_application_act", args=[app.pk, "approve"]),
        {"version": app.version, "amount": "5000.00", "comment": ""},
    )
    body = refused.content.decode()
    assert refused.status_code == 200 and "尚未期满" in body and "异议尚未处理" in body
    app.refresh_from_db()
    assert app.state == "recommended"

    client.force_login(people.carol)
    resolve = reverse("admin:relief_objection_resolve", args=[raised.pk])
    bad = client.post(resolve, {"outcome": "dismissed", "finding": "", "resolved_on": today})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    done = client.post(
        resolve, {"outcome": "dismissed", "finding": "经核实不属实", "resolved_on": today}
    )
    assert done.status_code == 302
    raised.refresh_from_db()
    assert raised.outcome == "dismissed" and raised.resolved_by == people.carol


# --- the printed list --------------------------------------------------------------------


def test_the_printed_list_has_number_period_phone_and_masked_names_only(client, people, required):
    with at(D(2026, 9, 28)):
        app = recommended(people)
        notice = open_notice(people, [app], D(2026, 9, 29))
    client.force_login(people.carol)
    response = client.get(reverse("reports:notice_print", args=[notice.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(pages_text(response.content))
    flat = text.replace("\n", "").replace(" ", "")
    assert "XQ-GS-2026-001" in flat
    assert "2026年9月29日至2026年10月10日（5个工作日）" in flat
    assert "0757-86881234" in flat
    assert "樵园社区工会公示栏" in flat
    worker = app.worker
    assert worker.name not in flat and worker.name[0] + "*" in flat
    assert worker.id_number not in flat and worker.masked_id_number not in flat
    assert "身份证号" not in flat
    assert "5,000.00" in flat


def test_the_policy_decides_the_columns(people):
    Policy.objects.update(notice_shows_amount=False, notice_shows_categories=False)
    with at(D(2026, 11, 30)):
        app = recommended(people)
        notice = open_notice(people, [app], D(2026, 11, 30))
    context = documents.notice_list(notice)
    buf = io.BytesIO()
    pdf.render_simple("reports/pdf/public_notice.html", context, buf)
    flat = "".join(pages_text(buf.getvalue())).replace(" ", "")
    assert "救助金额" not in flat and "困难类别" not in flat and "基层工会" in flat


def test_the_approval_form_lists_the_notice_and_the_objections_outcome(people):
    with at(D(2026, 11, 30)):
        app = recommended(people)
        open_notice(people, [app], D(2026, 11, 30))
        raised = objection(people, app, D(2026, 11, 30))
        objection_resolve(
            user=people.carol, objection=raised, outcome="dismissed", finding="经核实不属实"
        )
    with translation.override("zh-hans"):
        context = documents.approval_form(app)
        buf = io.BytesIO()
        pdf.render_simple("reports/pdf/approval_form.html", context, buf)
    flat = "".join(pages_text(buf.getvalue())).replace("\n", "").replace(" ", "")
    assert "公示编号XQ-GS-2026-001" in flat
    assert "2026年11月30日至2026年12月4日" in flat
    assert "异议不成立" in flat and "经核实不属实" in flat
    assert "李建国" not in flat and "出租屋" not in flat


# --- the selectors for the work queues ---------------------------------------------------


def test_selectors_for_the_queues(people, required):
    with at(D(2026, 11, 30)):
        waiting = recommended(people)
        noticed = recommended(people)
        notice = open_notice(people, [noticed], D(2026, 11, 30))
        raised = objection(people, noticed, D(2026, 11, 30))
        out = case_in_state(
            "recommended", caseworker=people.bob, reviewer=people.dave, officer=people.erin
        )
        assert set(selectors.cases_awaiting_notice(people.carol)) == {waiting}
        assert set(selectors.cases_awaiting_notice(people.erin)) == {waiting, out}
        assert list(selectors.unresolved_objections(people.carol)) == [raised]
        assert list(selectors.unresolved_objections(people.dave)) == []
        assert list(selectors.unresolved_objections(people.alice)) == []
    ending = list(selectors.notices_ending(people.erin, today=D(2026, 12, 3), within_workdays=1))
    assert ending == [notice] and ending[0].waiting == 1
    assert list(selectors.notices_ending(people.erin, today=D(2026, 12, 1))) == []
    assert list(selectors.notices_ending(people.dave, today=D(2026, 12, 3))) == []
    assert list(selectors.cases_cleared_by_notice(people.erin, today=D(2026, 12, 7))) == []
    with at(D(2026, 12, 1)):
        objection_resolve(
            user=people.carol, objection=raised, outcome="dismissed", finding="不属实"
        )
    assert list(selectors.cases_cleared_by_notice(people.erin, today=D(2026, 12, 7))) == [noticed]
    assert list(selectors.cases_cleared_by_notice(people.erin, today=D(2026, 12, 4))) == []


def test_a_returned_case_leaves_the_queues_and_old_items_do_not_count(people):
    with at(D(2026, 11, 30)):
        app = recommended(people)
        open_notice(people, [app], D(2026, 11, 30))
        raised = objection(people, app, D(2026, 11, 30))
        objection_resolve(user=people.carol, objection=raised, outcome="returned", finding="复核")
    assert list(selectors.unresolved_objections(people.erin)) == []
    assert list(selectors.notices_ending(people.erin, today=D(2026, 12, 4))) == []
    assert not selectors.current_items().exists()


def test_file_case_walk_helpers_still_work_with_a_notice_policy(people, required):
    # The factories' approvals bypass no guard: with notices required they refuse.
    app = file_case(people.alice)
    with pytest.raises(ValidationError):
        walk(app, "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin)


def test_the_towns_queue_lists_notices_to_open_and_objections_to_resolve(people, required):
    from relief.queues import queue_for

    with at(D(2026, 11, 30)):
        waiting = recommended(people)
        noticed = recommended(people)
        open_notice(people, [noticed], D(2026, 11, 30))
        raised = objection(people, noticed, D(2026, 11, 30))
        case_in_state(
            "recommended", caseworker=people.bob, reviewer=people.dave, officer=people.erin
        )

    def group(user, key):
        return next(g for g in queue_for(user, today=D(2026, 12, 1)).groups if g.key == key)

    to_open = group(people.carol, "notice")
    assert [i.reference for i in to_open.items] == [waiting.reference]
    assert to_open.items[0].url == "/admin/relief/publicnotice/add/"
    to_resolve = group(people.carol, "objections")
    assert [i.reference for i in to_resolve.items] == [noticed.reference]
    assert to_resolve.items[0].url == f"/admin/relief/objection/{raised.pk}/resolve/"
    assert "2026-11-30" in to_resolve.items[0].note
    assert group(people.dave, "notice").items[0].reference != waiting.reference
    assert group(people.dave, "objections").items == []
    with at(D(2026, 12, 1)):
        objection_resolve(
            user=people.carol, objection=raised, outcome="dismissed", finding="不属实"
        )
    assert group(people.carol, "objections").items == []


def test_a_notice_and_an_objection_recorded_in_english_are_written_in_chinese(people, required):
    """The trail's words are the site's whatever the reviewer's interface language: the case
    page, the approval form and the trail read the same for everyone."""
    with at(D(2026, 11, 30)), translation.override("en"):
        app = recommended(people)
        open_notice(people, [app], D(2026, 11, 30))
        objection(people, app, D(2026, 11, 30))
    noticed = AuditEntry.objects.get(application=app, action="notice")
    assert noticed.comment.startswith("公示 XQ-GS-2026-")
    assert "2026年11月30日至2026年12月4日" in noticed.comment
    raised = AuditEntry.objects.get(application=app, action="objection")
    assert raised.comment.startswith("2026年11月30日收到异议（电话")

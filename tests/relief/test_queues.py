"""待办 (relief.queues): each role's queue against a data set with items in every group.

"Today" is Monday 12 October 2026. The calendar around it (chinese-calendar): 25-27 September
off (中秋), 28-30 September working, 1-7 October off (国庆), 8-9 October working, Saturday 10
October a make-up working day (调休), Sunday 11 off. Time limits in the test policy: review 5,
approval 3, payment 3, resubmission 5, follow-up 5 working days.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from relief import queues, services
from relief.models import Application, PaymentBatch, Policy, QueueSeen
from relief.queues import (
    mark_decisions_seen,
    overdue_by_town,
    overdue_cases,
    overdue_for,
    queue_for,
)
from tests.factories import WorkerFactory, caseworker, file_case, fund, walk

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 10, 12)
NOW = dt.datetime(2026, 10, 12, 9, 30, tzinfo=TZ)


def at(month, day, hour=10):
    return dt.datetime(2026, month, day, hour, tzinfo=TZ)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    monkeypatch.setattr(
        timezone,
        "localdate",
        lambda value=None, timezone=None: TODAY if value is None else value.astimezone(TZ).date(),
    )


STAMPS = (
    "created_at",
    "submitted_at",
    "returned_at",
    "verified_at",
    "recommended_at",
    "approved_at",
    "disbursed_at",
    "closed_at",
    "rejected_at",
)


def _set(case, **fields):
    """Put the case's history in September 2026: every step it took at 8:00 on the 21st,
    except those given."""
    early = {f: at(9, 21, 8) for f in STAMPS if getattr(case, f) is not None}
    Application.objects.filter(pk=case.pk).update(
        application_date=dt.date(2026, 9, 20), **{**early, **fields}
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def world(people, tree):
    Policy.objects.update(
        review_workdays=5,
        approval_workdays=3,
        payment_workdays=3,
        resubmit_workdays=5,
        follow_up_workdays=5,
    )
    p = people
    steps = {"caseworker": p.alice, "reviewer": p.carol, "officer": p.erin}
    cw_e01 = caseworker(tree.xq_e01, username="eve")
    w = SimpleNamespace()

    def case(state, user=p.alice, **times):
        s = {**steps, "caseworker": user}
        if user == p.bob:
            s["reviewer"] = p.dave
        app = walk(file_case(user, WorkerFactory(union=user.union)), state, **s)
        return _set(app, **times)

    # --- the caseworker's (alice, XQ-S01) ----------------------------------------------
    w.documents = case("returned", returned_at=at(9, 24))
    w.review_return = walk(file_case(p.alice), "verified", **steps)
    w.review_return = services.application_return_verified(
        application=w.review_return, user=p.carol, comment="研讨会认为需补充住院费用清单"
    )
    w.review_return = _set(w.review_return, returned_at=at(10, 9))
    w.draft = file_case(p.alice)
    w.draft = _set(w.draft, created_at=at(9, 30))
    w.approved_news = case("approved", approved_at=at(10, 10))
    w.rejected_news = case("rejected", rejected_at=at(10, 8))
    w.paid_news = case("disbursed", disbursed_at=at(10, 12, 9), approved_at=at(10, 1))
    w.old_news = case("approved", approved_at=at(10, 1, 9))
    QueueSeen.objects.create(user=p.alice, decisions_seen_at=at(10, 1, 12))

    # --- the town's (carol, XQ) ----------------------------------------------------------
    w.no_visit = case("submitted", submitted_at=at(9, 25))  # a holiday: day 0 all the same
    w.visited = case("submitted", submitted_at=at(10, 8))
    services.home_visit_record(
        application=w.visited,
        user=p.carol,
        visit_date=dt.date(2026, 10, 9),
        visitors="梁慧敏",
        findings="情况属实",
        verified_household_income=Decimal("1800.00"),
        verified_monthly_expenses=Decimal("3200.00"),
    )
    w.verified = case("verified", submitted_at=at(9, 29))
    w.late_elsewhere = case("returned", user=cw_e01, returned_at=at(9, 21))
    w.follow_up = case("disbursed", disbursed_at=at(9, 30))
    w.closed = case("closed", disbursed_at=at(9, 1))

    # --- the district's (erin); filed by another union of the town -------------------------
    w.recommended_new = case("recommended", cw_e01, recommended_at=at(10, 8))
    w.recommended_late = case("recommended", cw_e01, recommended_at=at(9, 30))
    w.to_pay = case("approved", cw_e01, approved_at=at(9, 28))
    w.in_exported = case("approved", cw_e01, approved_at=at(9, 30))
    w.in_draft = case("approved", cw_e01, approved_at=at(10, 9))
    fund(p.erin, tree.xq, "5000.00", year=2026)
    w.exported = services.batch_create(
        user=p.erin,
        title="十月第一批",
        applications=[w.in_exported],
        fund_source="district",
        fund_year=2026,
    )
    services.batch_export(batch=w.exported, user=p.erin)
    PaymentBatch.objects.filter(pk=w.exported.pk).update(exported_at=at(10, 8))
    # A second batch on the same account: 10,000 yuan waiting on an account of 5,000.
    w.draft_batch = services.batch_create(
        user=p.erin,
        title="十月第二批",
        applications=[w.in_draft],
        fund_source="district",
        fund_year=2026,
    )

    # --- out of everyone's narrow scope: the other town ------------------------------------
    w.dl_returned = case("returned", user=p.bob, returned_at=at(9, 21))
    w.dl_submitted = case("submitted", user=p.bob, submitted_at=at(9, 21))
    w.dl_recommended = case("recommended", user=p.bob, recommended_at=at(9, 21))
    return w


def groups(queue):
    return {g.key: g for g in queue.groups}


def lines(group):
    return [(i.reference, i.age, i.due, i.overdue, i.overdue_by) for i in group.items]


D = dt.date


def test_caseworker_queue(world, people, frozen):
    w = world
    q = queue_for(people.alice)
    g = groups(q)
    assert [x.key for x in q.groups] == ["documents", "returned", "drafts", "decided"]
    # Returned 24 Sept: 28, 29, 30 Sept, 8, 9, 10 (调休 Saturday), 12 Oct: 7 working days;
    # the fifth after it is Friday 9 Oct, so overdue by 2 (10 and 12 Oct).
    assert lines(g["documents"]) == [(w.documents.reference, 7, D(2026, 10, 9), True, 2)]
    assert g["documents"].items[0].note == "缺诊断书"
    assert g["documents"].items[0].url == reverse("relief:case_edit", args=[w.documents.pk])
    assert lines(g["returned"]) == [(w.review_return.reference, 2, D(2026, 10, 15), False, 0)]
    assert g["returned"].items[0].note == "研讨会认为需补充住院费用清单"
    assert lines(g["drafts"]) == [(w.draft.reference, 4, None, False, 0)]
    # Decided after the marker (1 Oct noon), newest first; the approval of 1 Oct 9:00 is old.
    assert [i.reference for i in g["decided"].items] == [
        w.paid_news.reference,
        w.approved_news.reference,
        w.rejected_news.reference,
    ]
    assert [i.note for i in g["decided"].items] == ["已发放", "已批准", "不予救助"]
    assert (q.total, q.overdue_count) == (6, 1)
    # Nothing of another union, even in the same town.
    refs = {i.reference for x in q.groups for i in x.items}
    assert w.late_elsewhere.reference not in refs and w.dl_returned.reference not in refs
    assert [i.reference for i in overdue_for(people.alice)] == [w.documents.reference]


def test_mark_as_seen_keeps_what_came_after_the_page(world, people, frozen, client):
    client.force_login(people.alice)
    page = client.get("/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "上次查看后有了结果" in body and world.paid_news.reference in body
    shown = queue_for(people.alice).made_at
    # Decided while the caseworker read the page: still news after "mark as seen".
    Application.objects.filter(pk=world.old_news.pk).update(approved_at=at(10, 12, 10))
    response = client.post(reverse("relief:queue_seen"), {"shown_at": shown.isoformat()})
    assert response.status_code == 302
    assert QueueSeen.objects.get(user=people.alice).decisions_seen_at == NOW
    assert [i.reference for i in groups(queue_for(people.alice))["decided"].items] == [
        world.old_news.reference
    ]
    # A hand-made marker in the future is capped at now; one in the past never moves it back.
    client.post(reverse("relief:queue_seen"), {"shown_at": "2030-01-01T00:00:00+08:00"})
    client.post(reverse("relief:queue_seen"), {"shown_at": "2020-01-01T00:00:00+08:00"})
    client.post(reverse("relief:queue_seen"), {"shown_at": "not a date"})
    assert QueueSeen.objects.get(user=people.alice).decisions_seen_at == NOW
    client.force_login(people.carol)
    assert client.post(reverse("relief:queue_seen")).status_code == 403


def test_town_reviewer_queue(world, people, frozen):
    w = world
    g = groups(queue_for(people.carol))
    assert list(g) == [
        "advances",
        "visit",
        "verify",
        "recommend",
        "notice",
        "objections",
        "chase",
        "follow_up",
    ]
    # Submitted on the holiday Friday 25 Sept (day 0): the fifth working day is 9 Oct.
    assert lines(g["visit"]) == [(w.no_visit.reference, 7, D(2026, 10, 9), True, 2)]
    assert g["visit"].items[0].url == (
        reverse("relief:visit_new", args=[w.no_visit.pk]) + "?back=admin"
    )
    assert lines(g["verify"]) == [(w.visited.reference, 3, D(2026, 10, 14), False, 0)]
    # Submitted 29 Sept: due on the fifth working day, today: not yet overdue.
    assert lines(g["recommend"]) == [(w.verified.reference, 5, D(2026, 10, 12), False, 0)]
    assert g["recommend"].items[0].url == reverse(
        "admin:relief_application_change", args=[w.verified.pk]
    )
    # Returned cases only once late, oldest first; the one returned on 9 Oct is not yet.
    assert lines(g["chase"]) == [
        (w.late_elsewhere.reference, 10, D(2026, 9, 29), True, 5),
        (w.documents.reference, 7, D(2026, 10, 9), True, 2),
    ]
    assert lines(g["follow_up"]) == [
        (w.follow_up.reference, 4, D(2026, 10, 13), False, 0),
        (w.paid_news.reference, 0, D(2026, 10, 19), False, 0),
    ]
    refs = {i.reference for x in g.values() for i in x.items}
    assert not refs & {w.dl_returned.reference, w.dl_submitted.reference, w.closed.reference}


def test_district_officer_queue(world, people, frozen):
    w = world
    q = queue_for(people.erin)
    g = groups(q)
    assert list(g) == ["approve", "advances", "pay", "batches", "funds"]
    # Recommended 30 Sept: 8, 9, 10 (调休) Oct are the three working days: overdue by 1.
    # Recommended 21 Sept (the other town): due 24 Sept, late by 28-30 Sept, 8-10, 12 Oct.
    assert lines(g["approve"]) == [
        (w.dl_recommended.reference, 10, D(2026, 9, 24), True, 7),
        (w.recommended_late.reference, 4, D(2026, 10, 10), True, 1),
        (w.recommended_new.reference, 3, D(2026, 10, 12), False, 0),
    ]
    pay = {i.reference: i for i in g["pay"].items}
    assert (pay[w.to_pay.reference].age, pay[w.to_pay.reference].due) == (6, D(2026, 10, 8))
    assert pay[w.to_pay.reference].overdue_by == 3
    assert w.draft_batch.reference in pay[w.in_draft.reference].note
    # In an exported batch: not in "pay", but its batch is.
    assert w.in_exported.reference not in pay
    assert set(pay) == {
        w.to_pay.reference,
        w.in_draft.reference,
        w.approved_news.reference,
        w.old_news.reference,
    }
    (batch,) = g["batches"].items
    assert (batch.reference, batch.age, batch.due, batch.overdue, batch.overdue_by) == (
        w.exported.reference,
        3,
        D(2026, 10, 10),
        True,
        1,
    )
    assert batch.url == reverse("admin:relief_paymentbatch_change", args=[w.exported.pk])
    # The district account of 西樵 for 2026 holds 5,000 and two open batches need 10,000.
    account = [i for i in g["funds"].items if "2026" in i.reference]
    assert len(account) == 1 and account[0].town == "西樵镇总工会"
    assert account[0].due == D(2026, 10, 10)
    assert q.overdue_count == sum(x.overdue_count for x in q.groups)


def test_overdue_across_a_scope(world, people, frozen):
    w = world
    district = overdue_cases(people.erin)
    town = overdue_cases(people.carol)
    assert {i.reference for i in town} == {
        w.documents.reference,
        w.late_elsewhere.reference,
        w.no_visit.reference,
        w.recommended_late.reference,
        w.to_pay.reference,
        w.in_exported.reference,
        w.old_news.reference,  # approved 1 Oct 9:00, unpaid: due 10 Oct
    }
    assert {i.reference for i in district} - {i.reference for i in town} == {
        w.dl_returned.reference,
        w.dl_submitted.reference,
        w.dl_recommended.reference,
    }
    counts = overdue_by_town(people.erin)
    assert counts == {people.carol.union_id: 7, people.dave.union_id: 3}
    assert overdue_by_town(people.carol) == {people.carol.union_id: 7}


def test_the_dashboard_count_per_town_equals_the_overdue_list_on_every_day(
    world, people, frozen, django_assert_num_queries
):
    """overdue_by_town counts in SQL what overdue_cases lists item by item: the same per town
    on each day from well before the deadlines to long after (holidays and weekends between)."""
    from collections import Counter

    day = TODAY - dt.timedelta(days=20)
    while day <= TODAY + dt.timedelta(days=40):
        for user in (people.erin, people.carol, people.dave):
            listed = Counter(item.town_id for item in overdue_cases(user, today=day))
            assert overdue_by_town(user, today=day) == dict(listed), (user, day)
        day += dt.timedelta(days=1)
    # Policies, the calendar's corrections and two COUNTs.
    with django_assert_num_queries(4):
        overdue_by_town(people.erin, unit=people.carol.union)


def test_a_bounded_number_of_queries_whatever_the_size(
    people, tree, frozen, django_assert_max_num_queries
):
    """The same number of queries for 5 and for 50 cases in each group."""
    steps = {"caseworker": people.alice, "reviewer": people.carol, "officer": people.erin}
    # carol: +2 for the notices to open and the objections; carol and erin: +1 for the advances
    bounds = {"alice": 5, "carol": 6, "erin": 9}
    counts = {}
    for size in (5, 50):
        for state in ("returned", "submitted", "verified", "recommended", "approved", "disbursed"):
            for _ in range(size - (5 if size == 50 else 0)):
                _set(walk(file_case(people.alice), state, **steps), submitted_at=at(9, 25))
        for name, most in bounds.items():
            with django_assert_max_num_queries(most) as captured:
                queue = queue_for(getattr(people, name))
            counts[size, name] = len(captured.captured_queries)
            assert queue.total >= size
        with django_assert_max_num_queries(4):
            assert len(overdue_cases(people.erin)) >= size
    for name in bounds:
        assert counts[5, name] == counts[50, name], counts
    print("queries per queue (5 and 50 items per group):", counts)


def test_pages_show_the_queue_in_chinese(world, people, frozen, client):
    client.force_login(people.carol)
    body = client.get("/admin/").content.decode()
    # The queue comes first, the model list after it.
    assert body.index('data-testid="todo"') < body.index('id="content-main"')
    assert "已提交，待入户核实" in body
    assert world.no_visit.reference in body and world.dl_submitted.reference not in body
    assert "超期 2 个工作日" in body
    client.force_login(people.alice)
    body = client.get("/").content.decode()
    assert "缺诊断书" in body and world.documents.reference in body
    client.force_login(people.erin)
    body = client.get("/admin/").content.decode()
    assert world.exported.reference in body
    assert world.dl_recommended.reference in body


def test_dashboard_counts_overdue_per_town_and_prints_the_report(world, people, frozen, client):
    client.force_login(people.erin)
    body = client.get("/reports/dashboard/").content.decode()
    assert "西樵镇总工会" in body and "大沥镇总工会" in body
    response = client.get("/reports/overdue/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "南海区总工会超期待办清单" in text
    assert "共 10 件超期" in text
    assert w_ref(world.dl_returned) in text and w_ref(world.no_visit) in text
    # The town's own report: none of the other town's cases.
    client.force_login(people.carol)
    text = _pdf_text(client.get("/reports/overdue/").content)
    assert "西樵镇总工会超期待办清单" in text and "共 7 件超期" in text
    assert w_ref(world.dl_returned) not in text
    assert client.get("/reports/overdue/?unit=DL").status_code == 404
    client.force_login(people.alice)
    assert client.get("/reports/overdue/").status_code == 404


def test_the_overdue_report_asked_for_in_english_is_the_chinese_one(world, people, frozen, client):
    """Each row's step and note are Chinese on paper whatever the interface language."""
    client.force_login(people.erin)
    texts = []
    for language in ("zh-hans", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        texts.append(_pdf_text(client.get("/reports/overdue/").content))
    assert texts[1] == texts[0]
    assert "（已审批，待发放）" in texts[1]


def w_ref(case):
    return case.reference


def _pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_items_of_a_policy_without_a_limit_have_no_due_date(world, people, frozen):
    Policy.objects.update(review_workdays=None)
    g = groups(queue_for(people.carol))
    assert [(i.due, i.overdue) for i in g["visit"].items] == [(None, False)]
    assert g["visit"].items[0].age == 7


def test_no_queue_without_a_role(people):
    assert queue_for(people.root).groups == []
    assert queues.Queue("", TODAY, NOW, []).overdue == []
    assert (
        mark_decisions_seen(people.alice)
        == QueueSeen.objects.get(user=people.alice).decisions_seen_at
    )


def test_a_recorded_follow_up_takes_the_paid_case_out_of_the_overdue_counts(world, people, frozen):
    """The dashboard counts paid cases by the flag that follow_up_record sets in the same
    transaction as the follow-up: once one is on file, the case is out of every count."""
    w = world
    later = TODAY + dt.timedelta(days=30)  # long after the paid case's follow-up was due
    due = {i.reference for i in overdue_cases(people.carol, today=later)}
    assert w.follow_up.reference in due
    before = overdue_by_town(people.carol, today=later)[people.carol.union_id]
    assert not Application.objects.get(pk=w.follow_up.pk).followed_up
    assert w.follow_up.reference in {
        i.reference for g in queue_for(people.carol).groups for i in g.items
    }

    services.follow_up_record(
        application=w.follow_up,
        user=people.carol,
        follow_up_date=TODAY,
        method="phone",
        findings="已康复出院，生活基本恢复",
    )

    assert Application.objects.get(pk=w.follow_up.pk).followed_up
    assert w.follow_up.followed_up  # the caller's copy knows what it just recorded
    due = {i.reference for i in overdue_cases(people.carol, today=later)}
    assert w.follow_up.reference not in due
    assert overdue_by_town(people.carol, today=later)[people.carol.union_id] == before - 1
    assert w.follow_up.reference not in {
        i.reference for g in queue_for(people.carol).groups for i in g.items
    }

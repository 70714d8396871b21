"""A step over many cases (a payout batch marked paid, a review meeting) is told in one pass
after the commit: the queries and the messages do not grow with the number of cases (issue 16,
carried over: "a batch of N cases runs N notification passes in the request")."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Channel, Delivery, DeliveryStatus, Kind, Notification
from relief import services
from relief.services.meetings import DecisionInput
from tests.factories import file_case, fund, town_reviewer, walk
from tests.notifications.conftest import robot

TODAY = dt.date.today()


def steps(people):
    return {"caseworker": people.alice, "reviewer": people.carol, "officer": people.erin}


def _cases(people, n, state):
    return [
        walk(file_case(people.alice, amount="1000.00"), state, **steps(people)) for _ in range(n)
    ]


def _paid_batch(people, n, capture):
    """Mark a batch of n approved cases paid; the commit's callbacks, run under a query count."""
    apps = _cases(people, n, "approved")
    batch = services.batch_create(
        user=people.erin, title="批次", applications=apps, fund_source="district"
    )
    fund(people.erin, apps[0].union.parent, "100000.00")
    services.batch_export(batch=batch, user=people.erin)
    with capture(execute=False) as callbacks:
        services.batch_mark_paid(batch=batch, user=people.erin, bank_paid_on=TODAY)
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    return apps, len(queries)


@pytest.fixture
def robots(tree, receiver):
    return [robot(u, receiver) for u in (tree.nh, tree.xq, tree.xq_s01)]


@pytest.fixture
def second_reviewer(tree):
    return town_reviewer(tree.xq, username="carol2")


def test_a_paid_batch_is_told_in_queries_and_messages_that_do_not_grow_with_its_cases(
    people,
    second_reviewer,
    robots,
    receiver,
    immediate_tasks,
    site_url,
    django_capture_on_commit_callbacks,
):
    _small, small_queries = _paid_batch(people, 3, django_capture_on_commit_callbacks)
    small_requests = len(receiver.requests)
    # The town's robot and the union's robot: one message each for the whole batch.
    assert small_requests == 2
    receiver.requests.clear()
    Notification.objects.all().delete()
    Delivery.objects.all().delete()
    large, large_queries = _paid_batch(people, 12, django_capture_on_commit_callbacks)
    assert large_queries == small_queries
    assert len(receiver.requests) == small_requests
    # Each case is still one line in each recipient's list (alice's own step is not hers:
    # the officer paid; the caseworker and both reviewers are told).
    assert Notification.objects.filter(kind=Kind.PAID).count() == 12 * 3
    assert set(
        Notification.objects.filter(recipient=people.alice).values_list("application", flat=True)
    ) == {a.pk for a in large}
    # The message lists every case by reference, with its own link, and no amount.
    by_token = {r["query"]["key"][0]: r["json"]["markdown"]["content"] for r in receiver.requests}
    for app in large:
        assert f"[{app.reference}]({site_url}/cases/{app.pk}/)" in by_token["XQ-S01"]
        assert f"({site_url}/admin/relief/application/{app.pk}/change/)" in by_token["XQ"]
    assert "12" in by_token["XQ"] and "1000" not in by_token["XQ"]
    assert set(Delivery.objects.values_list("channel", "status", "application")) == {
        (Channel.ROBOT, DeliveryStatus.SENT, None)
    }


def test_a_long_batch_lists_the_first_cases_and_counts_the_rest(
    people,
    robots,
    receiver,
    immediate_tasks,
    site_url,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from notifications import hooks

    monkeypatch.setattr(hooks, "LISTED_CASES", 2)
    _paid_batch(people, 3, django_capture_on_commit_callbacks)
    text = next(r for r in receiver.requests if r["query"]["key"][0] == "XQ")["json"]["markdown"]
    assert text["content"].count("- [") == 2
    assert "另有 1 项" in text["content"]
    assert f"({site_url}/admin/relief/application/)" in text["content"]


def test_a_meeting_over_many_cases_is_told_once_per_robot(
    people, tree, robots, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    apps = _cases(people, 4, "verified")
    with django_capture_on_commit_callbacks(execute=True):
        services.review_meeting_record(
            user=people.carol,
            meeting_date=TODAY,
            attendees="梁慧敏",
            minutes="研讨",
            decisions=[
                DecisionInput(
                    application=a, decision="recommend", amount=Decimal("1000"), comment="同意"
                )
                for a in apps
            ],
        )
    # The district's robot once, listing the four cases; the officer once per case in the app.
    assert receiver.tokens() == ["NH"]
    text = receiver.requests[0]["json"]["markdown"]["content"]
    assert all(a.reference in text for a in apps)
    assert Notification.objects.filter(recipient=people.erin, kind=Kind.RECOMMENDED).count() == 4


def test_a_batch_with_one_case_reads_as_a_single_transition(
    people, robots, receiver, immediate_tasks, site_url, django_capture_on_commit_callbacks
):
    (app,), _queries = _paid_batch(people, 1, django_capture_on_commit_callbacks)
    assert Delivery.objects.filter(application=app).count() == 2
    text = next(r for r in receiver.requests if r["query"]["key"][0] == "XQ-S01")["json"]
    assert f"{site_url}/cases/{app.pk}/" in text["markdown"]["content"]


def test_emails_are_one_per_recipient_for_a_batch(
    settings, people, immediate_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    settings.NOTIFY_EMAIL = True
    people.alice.email = "alice@example.org"
    people.alice.save(update_fields=["email"])
    apps, _queries = _paid_batch(people, 3, django_capture_on_commit_callbacks)
    mails = [m for m in mailoutbox if m.to == ["alice@example.org"]]
    assert len(mails) == 1
    assert all(a.reference in mails[0].body for a in apps)

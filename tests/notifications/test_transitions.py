"""Every transition tells the right people (in the app and through the robot of the union where
they sit) and nobody else; what is sent names the case and the step, never personal data or
money (issue 14, notifications)."""

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import transaction

from notifications.models import Delivery, DeliveryStatus, Kind, Notification
from relief import services
from relief.services.meetings import DecisionInput, MeetingErrors
from tests.factories import caseworker, district_officer, file_case, fund, town_reviewer, walk
from tests.notifications.conftest import robot

TODAY = dt.date.today()


@pytest.fixture
def crowd(people, tree):
    """Besides the named people: a second caseworker of alice's union, a caseworker of another
    union of the same town, a second reviewer (and an inactive one) in 西樵, a second officer."""
    inactive = town_reviewer(tree.xq, username="carol_off")
    inactive.is_active = False
    inactive.save()
    return SimpleNamespace(
        **vars(people),
        alice2=caseworker(tree.xq_s01, username="alice2"),
        eve=caseworker(tree.xq_e01, username="eve"),
        carol2=town_reviewer(tree.xq, username="carol2"),
        carol_off=inactive,
        erin2=district_officer(tree.nh, username="erin2"),
    )


@pytest.fixture
def robots(tree, receiver):
    """A WeCom robot on every union, its token the union's code."""
    return {
        u.code: robot(u, receiver)
        for u in (tree.nh, tree.xq, tree.dl, tree.xq_s01, tree.xq_e01, tree.dl_v01)
    }


def steps(c):
    return {"caseworker": c.alice, "reviewer": c.carol, "officer": c.erin}


def at(c, state, **kw):
    return walk(file_case(c.alice, **kw), state, **steps(c))


def visited(c, app):
    services.home_visit_record(
        application=app,
        user=c.carol,
        visit_date=TODAY,
        visitors="梁慧敏",
        findings="情况属实",
        verified_household_income=Decimal("1800.00"),
        verified_monthly_expenses=Decimal("3200.00"),
    )
    return app


def _pay(c, app, amount=None):
    fund(c.erin, app.union.parent, "100000.00")
    services.disbursement_record(
        application=app,
        user=c.erin,
        amount=Decimal(amount) if amount else app.approved_amount,
        paid_on=TODAY,
        method="bank",
        fund_source="district",
        voucher_no="PZ-9",
    )


def _close(c, app):
    services.follow_up_record(
        application=app, user=c.carol, follow_up_date=TODAY, method="phone", findings="已收到"
    )
    return lambda: services.application_close(application=app, user=c.carol)


def _meeting(c, app):
    visited(c, app)
    return lambda: services.review_meeting_record(
        user=c.carol,
        meeting_date=TODAY,
        attendees="梁慧敏",
        minutes="研讨",
        decisions=[
            DecisionInput(
                application=app, decision="recommend", amount=Decimal("4000"), comment="同意"
            )
        ],
    )


def _batch(c, app):
    batch = services.batch_create(
        user=c.erin, title="批次", applications=[app], fund_source="district"
    )
    fund(c.erin, app.union.parent, "100000.00")
    services.batch_export(batch=batch, user=c.erin)
    return lambda: services.batch_mark_paid(batch=batch, user=c.erin, bank_paid_on=TODAY)


def _reverse(c, app):
    payout = app.disbursements.get()
    return lambda: services.disbursement_reverse(payout=payout, user=c.erin, reason="账户冻结")


CW, TOWN, OFFICERS = {"alice", "alice2"}, {"carol", "carol2"}, {"erin", "erin2"}

# name: (start state, prepare(c, app) -> the step, the kind, who is told, robots reached)
SCENARIOS = {
    "submit": (
        "draft",
        lambda c, a: lambda: services.application_submit(application=a, user=c.alice),
        Kind.SUBMITTED,
        TOWN,
        ["XQ"],
    ),
    "resubmit": (
        "returned",
        lambda c, a: lambda: services.application_resubmit(application=a, user=c.alice),
        Kind.RESUBMITTED,
        TOWN,
        ["XQ"],
    ),
    "return_for_info": (
        "submitted",
        lambda c, a: lambda: services.application_return(application=a, user=c.carol, comment="缺"),
        Kind.RETURNED,
        CW,
        ["XQ-S01"],
    ),
    "return_verified": (
        "verified",
        lambda c, a: (
            lambda: services.application_return_verified(application=a, user=c.carol, comment="缺")
        ),
        Kind.RETURNED,
        CW,
        ["XQ-S01"],
    ),
    "verify": (
        "submitted",
        lambda c, a: (
            visited(c, a),
            lambda: services.application_verify(application=a, user=c.carol),
        )[1],
        Kind.VERIFIED,
        {"carol2"},
        ["XQ"],
    ),
    "recommend": (
        "verified",
        lambda c, a: (
            lambda: services.application_recommend(
                application=a, user=c.carol, amount=Decimal("4000"), comment="同意"
            )
        ),
        Kind.RECOMMENDED,
        OFFICERS,
        ["NH"],
    ),
    "reject_by_town": (
        "submitted",
        lambda c, a: lambda: services.application_reject(application=a, user=c.carol, reason="否"),
        Kind.REJECTED,
        CW,
        ["XQ-S01"],
    ),
    "reject_by_district": (
        "recommended",
        lambda c, a: lambda: services.application_reject(application=a, user=c.erin, reason="否"),
        Kind.REJECTED,
        CW | TOWN,
        ["XQ", "XQ-S01"],
    ),
    "approve": (
        "recommended",
        lambda c, a: (
            lambda: services.application_approve(application=a, user=c.erin, amount=Decimal("4000"))
        ),
        Kind.APPROVED,
        CW | TOWN | {"erin2"},
        ["NH", "XQ", "XQ-S01"],
    ),
    "send_back": (
        "recommended",
        lambda c, a: (
            lambda: services.application_send_back(application=a, user=c.erin, comment="再看")
        ),
        Kind.SENT_BACK,
        TOWN,
        ["XQ"],
    ),
    "pay": ("approved", lambda c, a: lambda: _pay(c, a), Kind.PAID, CW | TOWN, ["XQ", "XQ-S01"]),
    "pay_by_batch": ("approved", _batch, Kind.PAID, CW | TOWN, ["XQ", "XQ-S01"]),
    "pay_part": ("approved", lambda c, a: lambda: _pay(c, a, "100.00"), None, set(), []),
    "reverse": ("disbursed", _reverse, Kind.PAYMENT_REVERSED, {"erin2"}, ["NH"]),
    "close": ("disbursed", _close, Kind.CLOSED, CW, ["XQ-S01"]),
    "withdraw_submitted": (
        "submitted",
        lambda c, a: lambda: services.application_withdraw(application=a, user=c.alice),
        Kind.WITHDRAWN,
        TOWN,
        ["XQ"],
    ),
    "withdraw_draft": (
        "draft",
        lambda c, a: lambda: services.application_withdraw(application=a, user=c.alice),
        None,
        set(),
        [],
    ),
    # A meeting verifies and recommends a submitted case in one save: only where the case
    # stands after the commit is told (the district), not the verification in between.
    "meeting_recommends": ("submitted", _meeting, Kind.RECOMMENDED, OFFICERS, ["NH"]),
}


def told(kind=None):
    qs = Notification.objects.select_related("recipient")
    return {(n.recipient.username, n.kind) for n in qs}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_transition_tells_the_next_actors_and_nobody_else(
    name, crowd, robots, receiver, immediate_tasks, site_url, django_capture_on_commit_callbacks
):
    state, prepare, kind, who, robot_codes = SCENARIOS[name]
    app = at(crowd, state, amount="5000.00")
    step = prepare(crowd, app)
    assert not Notification.objects.exists() and not receiver.requests
    with django_capture_on_commit_callbacks(execute=True):
        step()
    assert told() == {(u, kind) for u in who}
    # The robot of each union where those people sit, and no other.
    assert receiver.tokens() == sorted(robot_codes)
    assert set(Delivery.objects.values_list("status", flat=True)) <= {DeliveryStatus.SENT}
    app.refresh_from_db()
    for note in Notification.objects.select_related("recipient"):
        assert app.reference in note.title
        if note.recipient.role == "caseworker":
            assert note.link == f"/cases/{app.pk}/"
        else:
            assert note.link == f"/admin/relief/application/{app.pk}/change/"
    for body in receiver.bodies():
        assert body["msgtype"] == "markdown"
        text = body["markdown"]["content"]
        assert app.reference in text
        assert f"{site_url}/" in text  # an absolute link
        _no_personal_data_or_money(text, app)
    for note in Notification.objects.all():
        _no_personal_data_or_money(note.title, app)


def _no_personal_data_or_money(text, app):
    worker = app.worker
    for secret in (worker.id_number, worker.id_number[-4:] + " ", worker.name, worker.bank_card):
        if secret:
            assert secret not in text
    assert "透析" not in text and "患病" not in text  # the case's narrative (health)
    # No amount at all: the case's amounts are whole hundreds of yuan; no number of 3 or more
    # digits besides the reference's and the link's may appear.
    stripped = text.replace(app.reference, "")
    stripped = re.sub(r"https?://\S+", "", stripped)
    assert not re.search(r"\d{3,}|\d,\d{3}|元|¥", stripped), stripped


def test_the_town_robot_gets_the_admin_link_and_the_union_robot_the_site_link(
    crowd, robots, receiver, immediate_tasks, site_url, django_capture_on_commit_callbacks
):
    app = at(crowd, "recommended")
    with django_capture_on_commit_callbacks(execute=True):
        services.application_reject(application=app, user=crowd.erin, reason="否")
    by_token = {r["query"]["key"][0]: r["json"]["markdown"]["content"] for r in receiver.requests}
    assert f"({site_url}/cases/{app.pk}/)" in by_token["XQ-S01"]
    assert f"({site_url}/admin/relief/application/{app.pk}/change/)" in by_token["XQ"]
    assert "未获批准" in by_token["XQ"] or "不予救助" in by_token["XQ"]


def test_a_rolled_back_transition_tells_nobody(
    crowd, robots, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    app = at(crowd, "draft")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.application_submit(application=app, user=crowd.alice)
        raise RuntimeError("something later in the same request failed")
    assert callbacks == []
    app.refresh_from_db()
    assert app.state == "draft"
    assert not Notification.objects.exists() and not Delivery.objects.exists()
    assert receiver.requests == []


def test_a_meeting_rolled_back_by_one_bad_decision_tells_nobody(
    crowd, robots, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    good, bad = at(crowd, "verified"), at(crowd, "submitted")  # bad: no home visit
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(MeetingErrors):
        services.review_meeting_record(
            user=crowd.carol,
            meeting_date=TODAY,
            attendees="梁慧敏",
            minutes="研讨",
            decisions=[
                DecisionInput(
                    application=good, decision="recommend", amount=Decimal("4000"), comment="同意"
                ),
                DecisionInput(
                    application=bad, decision="recommend", amount=Decimal("4000"), comment="同意"
                ),
            ],
        )
    assert not Notification.objects.exists() and receiver.requests == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_transition_whose_notification_fails_still_commits(monkeypatch, client, caplog):
    """A real commit (no test transaction around it): the notification raises after the
    commit, the caseworker's submit still answers with the case page and the case moved."""
    from notifications import hooks
    from tests.factories import build_people, build_tree

    tree = build_tree()
    people = build_people(tree)
    app = file_case(people.alice)

    def broken(events):
        raise RuntimeError("the notification store is down")

    monkeypatch.setattr(hooks, "notify_all", broken)
    client.force_login(people.alice)
    response = client.post(f"/cases/{app.pk}/submit/", {"version": app.version})
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == "submitted"
    assert "notifying" in caplog.text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_transition_whose_hook_fails_before_the_commit_still_commits(monkeypatch, caplog):
    from notifications import hooks
    from tests.factories import build_people, build_tree

    people = build_people(build_tree())
    app = file_case(people.alice)

    def broken(*args):
        raise RuntimeError("bad rule table")

    monkeypatch.setattr(hooks, "rule_for", broken)
    services.application_submit(application=app, user=people.alice)
    app.refresh_from_db()
    assert app.state == "submitted"
    assert "could not register" in caplog.text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_robot_that_is_down_does_not_hold_up_the_transition(settings, caplog):
    """The database task backend (as in production): the transition only queues the
    delivery; nothing is sent in the request, whatever the robot does."""
    from django_tasks_db.models import DBTaskResult

    from notifications.models import GroupRobot
    from tests.factories import build_people, build_tree

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    tree = build_tree()
    people = build_people(tree)
    GroupRobot.objects.create(
        union=tree.xq,
        kind="wecom",
        # A host nobody answers on: were it called in the request, this would fail or hang.
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
    )
    app = file_case(people.alice)
    services.application_submit(application=app, user=people.alice)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
    assert DBTaskResult.objects.filter(task_path="notifications.tasks.send_delivery").count() == 1
    assert Notification.objects.filter(recipient=people.carol).count() == 1

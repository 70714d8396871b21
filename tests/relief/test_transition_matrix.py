"""Who may do what from which state: role x action x source state x in/out of scope.

The expectation below is written out from the issue, independently of relief.workflow:

- caseworker: draft -> submitted (submit); returned -> submitted (resubmit);
  draft, submitted or returned -> withdrawn.
- town reviewer: submitted -> returned (comment); verified -> returned (comment: the review
  meeting found something missing, issue 13); submitted -> verified (home visit);
  verified -> recommended (amount within caps, comment); submitted or verified -> rejected
  (reason); disbursed -> closed (after a follow-up). Home visits are recorded while the town
  checks the facts (submitted, verified); follow-ups after payment (disbursed, closed).
- district officer: recommended -> approved (amount within caps, may differ from the
  recommendation); recommended -> verified (send back, comment); recommended -> rejected
  (reason); approved -> disbursed when payouts reach the approved amount.
- Scope: caseworkers see their own grassroots union, town reviewers their town, district
  officers everything; the superuser sees everything but has no role.
- public notice (issue 15): town reviewer puts a recommended case on notice, records an
  objection against it, and resolves it: dismissed (the state stays), upheld with the case
  returned for re-verification (recommended -> returned) or rejected (recommended -> rejected).
- Outcome: out of scope -> 404; in scope, role never takes this action -> 403; role takes it,
  but not from this state -> ValidationError; otherwise it happens.

Every case is filed by alice at XQ-S01 (town XQ) and driven there by alice, carol and erin.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from relief import services
from relief.errors import NotAllowed, OutOfScope
from relief.models import Application, AuditEntry, NoticeItem, Objection, PublicNotice
from relief.services.notices import notice_open, objection_record, objection_resolve
from tests.factories import build_people, build_tree, case_in_state, caseworker, fund
from tests.relief.helpers import FAST_HASHER, english, footprint, message_of
from unions.models import User

STATES = [
    "draft",
    "submitted",
    "returned",
    "verified",
    "recommended",
    "approved",
    "disbursed",
    "closed",
    "rejected",
    "withdrawn",
]

CASEWORKER, REVIEWER, OFFICER, NO_ROLE = "caseworker", "town_reviewer", "district_officer", ""

# actor -> (role, whether a case at XQ-S01 is in the actor's scope)
ACTORS = {
    "alice": (CASEWORKER, True),  # XQ-S01, the filing union
    "eve": (CASEWORKER, False),  # XQ-E01: same town, sibling grassroots union
    "bob": (CASEWORKER, False),  # DL-V01, another town
    "carol": (REVIEWER, True),  # town XQ
    "dave": (REVIEWER, False),  # town DL
    "erin": (OFFICER, True),  # district NH
    "root": (NO_ROLE, True),  # superuser: sees everything, has no role
}

# action -> role -> source states from which that role may take it (from the issue text).
MAY = {
    "submit": {CASEWORKER: {"draft"}},
    "resubmit": {CASEWORKER: {"returned"}},
    "withdraw": {CASEWORKER: {"draft", "submitted", "returned"}},
    "return": {REVIEWER: {"submitted"}},
    "return_verified": {REVIEWER: {"verified"}},
    "verify": {REVIEWER: {"submitted"}},
    "recommend": {REVIEWER: {"verified"}},
    "reject": {REVIEWER: {"submitted", "verified"}, OFFICER: {"recommended"}},
    "approve": {OFFICER: {"recommended"}},
    "send_back": {OFFICER: {"recommended"}},
    "disburse": {OFFICER: {"approved"}},
    "close": {REVIEWER: {"disbursed"}},
    "home_visit": {REVIEWER: {"submitted", "verified"}},
    "follow_up": {REVIEWER: {"disbursed", "closed"}},
    "notice": {REVIEWER: {"recommended"}},
    "objection": {REVIEWER: {"recommended"}},
    "objection_dismiss": {REVIEWER: {"recommended"}},
    "objection_return": {REVIEWER: {"recommended"}},
    "objection_reject": {REVIEWER: {"recommended"}},
}

# action -> (state after success, or None when the state stays, audit action name)
RESULT = {
    "submit": ("submitted", "submit"),
    "resubmit": ("submitted", "resubmit"),
    "withdraw": ("withdrawn", "withdraw"),
    "return": ("returned", "return_for_info"),
    "return_verified": ("returned", "return_verified"),
    "verify": ("verified", "verify"),
    "recommend": ("recommended", "recommend"),
    "reject": ("rejected", "reject"),
    "approve": ("approved", "approve"),
    "send_back": ("verified", "send_back"),
    "disburse": ("disbursed", "disburse"),
    "close": ("closed", "close"),
    "home_visit": (None, "home_visit"),
    "follow_up": (None, "follow_up"),
    "notice": (None, "notice"),
    "objection": (None, "objection"),
    "objection_dismiss": (None, "objection_resolve"),
    "objection_return": ("returned", "objection_return"),
    "objection_reject": ("rejected", "objection_reject"),
}

OK, NOT_FOUND, FORBIDDEN, BAD_STATE = "ok", "404", "403", "bad-state"


def expected(actor: str, action: str, state: str) -> str:
    role, in_scope = ACTORS[actor]
    if not in_scope:
        return NOT_FOUND
    sources = MAY[action].get(role)
    if sources is None:
        return FORBIDDEN
    return OK if state in sources else BAD_STATE


TODAY = dt.date.today()


def act(action: str, app, user):
    """Take `action` with every input a successful call needs."""
    if action == "submit":
        return services.application_submit(application=app, user=user)
    if action == "resubmit":
        return services.application_resubmit(application=app, user=user, comment="已补充诊断书")
    if action == "withdraw":
        return services.application_withdraw(application=app, user=user, comment="职工已康复")
    if action == "return":
        return services.application_return(application=app, user=user, comment="请补充诊断书")
    if action == "return_verified":
        return services.application_return_verified(
            application=app, user=user, comment="研讨会认为需补充收入证明"
        )
    if action == "verify":
        return services.application_verify(application=app, user=user, comment="入户核实属实")
    if action == "recommend":
        return services.application_recommend(
            application=app, user=user, amount=Decimal("4000.00"), comment="研讨同意"
        )
    if action == "reject":
        return services.application_reject(application=app, user=user, reason="不符合条件")
    if action == "approve":
        # Differs from the town's recommendation (5000.00): the district may change it.
        return services.application_approve(
            application=app, user=user, amount=Decimal("4500.00"), comment="批准"
        )
    if action == "send_back":
        return services.application_send_back(application=app, user=user, comment="请再核实收入")
    if action == "disburse":
        return services.disbursement_record(
            application=app,
            user=user,
            amount=app.approved_amount or Decimal("5000.00"),
            paid_on=TODAY,
            method="bank",
            fund_source="district",
            voucher_no="PZ-100",
        )
    if action == "close":
        return services.application_close(application=app, user=user, comment="结案")
    if action == "home_visit":
        return services.home_visit_record(
            application=app,
            user=user,
            visit_date=TODAY,
            visitors="何建华",
            findings="再次核实",
            verified_household_income=Decimal("1500.00"),
            verified_monthly_expenses=Decimal("3500.00"),
        )
    if action == "follow_up":
        return services.follow_up_record(
            application=app, user=user, follow_up_date=TODAY, method="visit", findings="生活好转"
        )
    if action == "notice":
        return notice_open(
            user=user, applications=[app], posted_at="樵园社区工会公示栏", starts_on=LOCAL_TODAY
        )
    if action == "objection":
        return objection_record(
            user=user,
            application=app,
            received_on=LOCAL_TODAY,
            channel="phone",
            content="来电反映其有出租屋收入",
        )
    if action.startswith("objection_"):
        return objection_resolve(
            user=user,
            objection=app.objection_under_test,
            outcome={"dismiss": "dismissed", "return": "returned", "reject": "rejected"}[
                action.removeprefix("objection_")
            ],
            finding="核实结论",
        )
    raise AssertionError(action)


LOCAL_TODAY = timezone.localdate()


def _objection_on(app, people):
    """An objection against the case: through the services when it is on notice (recommended),
    else as the rows a notice of an earlier recommendation left (the case has moved on)."""
    carol = people.carol
    if app.state == "recommended":
        notice_open(user=carol, applications=[app], posted_at="公示栏", starts_on=LOCAL_TODAY)
        app.refresh_from_db()
        return objection_record(
            user=carol, application=app, received_on=LOCAL_TODAY, channel="letter", content="来信"
        )
    recommendation = AuditEntry.objects.create(
        actor=carol, action="recommend", application=app, worker=app.worker
    )
    notice = PublicNotice.objects.create(
        town=carol.union,
        year=LOCAL_TODAY.year,
        seq=900 + app.pk,
        posted_at="公示栏",
        starts_on=LOCAL_TODAY,
        workdays=5,
        ends_on=LOCAL_TODAY,
        opened_by=carol,
    )
    item = NoticeItem.objects.create(
        notice=notice, application=app, recommendation=recommendation, amount=Decimal("5000.00")
    )
    return Objection.objects.create(
        item=item,
        received_on=LOCAL_TODAY,
        channel="phone",
        content="来电",
        handler="梁慧敏",
        recorded_by=carol,
    )


def prepare(action: str, app, people):
    """Give the case the facts the action needs, so only scope, role or state can refuse it."""
    if action == "verify" and app.state == "submitted":
        services.home_visit_record(
            application=app,
            user=people.carol,
            visit_date=TODAY,
            visitors="梁慧敏",
            findings="情况属实",
            verified_household_income=Decimal("1800.00"),
            verified_monthly_expenses=Decimal("3200.00"),
        )
    if action == "close" and app.state == "disbursed":
        services.follow_up_record(
            application=app, user=people.carol, follow_up_date=TODAY, method="phone", findings="好"
        )
    if action == "objection" and app.state == "recommended":
        notice_open(
            user=people.carol, applications=[app], posted_at="公示栏", starts_on=LOCAL_TODAY
        )
    if action in ("objection_dismiss", "objection_return", "objection_reject"):
        objection = _objection_on(app, people)
        app.refresh_from_db()
        app.objection_under_test = objection
        return app
    app.refresh_from_db()
    return app


MATRIX = [
    pytest.param(
        state,
        action,
        actor,
        expected(actor, action, state),
        id=f"{state}-{action}-by-{actor}_{ACTORS[actor][0] or 'superuser'}-"
        f"{expected(actor, action, state)}",
    )
    for state in STATES
    for action in MAY
    for actor in ACTORS
]


def test_the_matrix_covers_every_outcome():
    outcomes = {p.values[3] for p in MATRIX}
    assert outcomes == {OK, NOT_FOUND, FORBIDDEN, BAD_STATE}
    # Every role-and-state combination that the issue allows appears as an "ok" row.
    allowed = {(a, r, s) for a, roles in MAY.items() for r, states in roles.items() for s in states}
    ok_rows = {
        (p.values[1], ACTORS[p.values[2]][0], p.values[0]) for p in MATRIX if p.values[3] == OK
    }
    assert ok_rows == allowed


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The tree, the users and one case per state, built once for the module.

    Like TestCase.setUpTestData: built inside a transaction that stays open for the module
    and is rolled back at its end; each test runs in a savepoint inside it (the `db`
    fixture), so whatever a test does to a case is undone before the next one.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
                tree = build_tree()
                people = build_people(tree)
            fund(people.erin, tree.xq, "1000000.00")
            users = {
                "alice": people.alice,
                "eve": caseworker(tree.xq_e01, username="eve"),
                "bob": people.bob,
                "carol": people.carol,
                "dave": people.dave,
                "erin": people.erin,
                "root": people.root,
            }
            cases = {
                state: case_in_state(
                    state, caseworker=people.alice, reviewer=people.carol, officer=people.erin
                ).pk
                for state in STATES
            }
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield SimpleNamespace(people=people, users=users, cases=cases)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.mark.parametrize(("state", "action", "actor", "outcome"), MATRIX)
def test_transition(world, db, state, action, actor, outcome):
    app = Application.objects.get(pk=world.cases[state])
    assert app.state == state
    app = prepare(action, app, world.people)
    user = world.users[actor]
    before = footprint(app)  # (refreshes app)

    if outcome == OK:
        act(action, app, user)
        after = footprint(app)
        target, audit_action = RESULT[action]
        assert after["state"] == (target or state)
        entry = AuditEntry.objects.filter(application=app).latest("at", "pk")
        assert entry.actor == user
        assert entry.action == audit_action
        assert after["audit"] == before["audit"] + 1
        if target is not None:
            assert after["version"] == before["version"] + 1
            assert (entry.from_state, entry.to_state) == (state, target)
        if action == "home_visit":
            assert after["visits"] == before["visits"] + 1
        if action == "follow_up":
            assert after["follow_ups"] == before["follow_ups"] + 1
        if action == "disburse":
            assert after["payouts"] == before["payouts"] + 1
            assert after["paid"] == after["approved"]
        if action == "approve":
            assert after["approved"] == Decimal("4500.00")
            assert after["recommended"] == Decimal("5000.00")
        if action == "notice":
            assert app.notice_items.get().amount == after["recommended"]
        if action == "objection":
            assert Objection.objects.filter(item__application=app, outcome="").count() == 1
        if action.startswith("objection_"):
            app.objection_under_test.refresh_from_db()
            assert app.objection_under_test.outcome and app.objection_under_test.resolved_by == user
        return

    error = {NOT_FOUND: OutOfScope, FORBIDDEN: NotAllowed, BAD_STATE: ValidationError}[outcome]
    with english(), pytest.raises(error) as info:
        act(action, app, user)
    assert type(info.value) is error
    if outcome == BAD_STATE:
        # The refusal is about the state, not a missing fact or input.
        assert "is not possible now" in message_of(info)
    assert footprint(app) == before
    if hasattr(app, "objection_under_test"):
        app.objection_under_test.refresh_from_db()
        assert not app.objection_under_test.outcome
    if action == "notice":
        assert not PublicNotice.objects.filter(items__application=app).exists()


@pytest.mark.parametrize(
    ("state", "action", "actor"),
    [
        pytest.param(*p.values[:3], id=f"{p.values[0]}-{p.values[1]}-by-deactivated-{p.values[2]}")
        for p in MATRIX
        if p.values[3] == OK
    ],
)
def test_a_deactivated_account_is_refused_what_its_role_could_do(world, db, state, action, actor):
    app = Application.objects.get(pk=world.cases[state])
    app = prepare(action, app, world.people)
    user = User.objects.get(pk=world.users[actor].pk)
    user.is_active = False
    user.save(update_fields=["is_active"])
    before = footprint(app)
    with pytest.raises(NotAllowed):
        act(action, app, user)
    assert footprint(app) == before

"""Who may grant, pay and cancel an emergency advance, from which state of the case, in and out
of scope: the expectation written out from issue 15, independently of relief.workflow.

- town reviewer: grants on a case awaiting the town or the district (submitted, verified,
  recommended); records its payment and cancels an unpaid one while the district has not
  decided (also on a case returned to the caseworker meanwhile).
- district officer: records the payment in the same states; neither grants nor cancels.
- caseworkers and the superuser (no role) take none of these steps.
- Outcome: out of scope -> 404; in scope, role never takes this step -> 403; role takes it,
  but not from this state -> ValidationError; otherwise it happens (and is audited).
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import override_settings

from relief import services
from relief.errors import NotAllowed, OutOfScope
from relief.models import Advance, Application, AuditEntry
from tests.factories import build_people, build_tree, case_in_state, caseworker, fund
from tests.relief.helpers import FAST_HASHER
from tests.relief.test_advances import allow_advances
from tests.relief.test_transition_matrix import (
    ACTORS,
    BAD_STATE,
    CASEWORKER,
    FORBIDDEN,
    NOT_FOUND,
    OFFICER,
    OK,
    REVIEWER,
    STATES,
)

PENDING = {"submitted", "returned", "verified", "recommended"}
MAY = {
    "advance_grant": {REVIEWER: {"submitted", "verified", "recommended"}},
    "advance_pay": {REVIEWER: PENDING, OFFICER: PENDING},
    "advance_cancel": {REVIEWER: PENDING},
}
assert CASEWORKER not in {r for roles in MAY.values() for r in roles}
TODAY = dt.date.today()


def expected(actor, action, state):
    role, in_scope = ACTORS[actor]
    if not in_scope:
        return NOT_FOUND
    sources = MAY[action].get(role)
    if sources is None:
        return FORBIDDEN
    return OK if state in sources else BAD_STATE


def act(action, app, user):
    if action == "advance_grant":
        return services.advance_grant(
            application=app, user=user, amount=Decimal("2000.00"), reason="手术费急需"
        )
    if action == "advance_pay":
        return services.advance_pay(application=app, user=user, paid_on=TODAY, method="cash")
    return services.advance_cancel(application=app, user=user, reason="家属已筹款")


MATRIX = [
    pytest.param(
        state,
        action,
        actor,
        expected(actor, action, state),
        id=f"{state}-{action}-by-{actor}-{expected(actor, action, state)}",
    )
    for state in STATES
    for action in MAY
    for actor in ACTORS
]


def test_the_matrix_covers_every_outcome():
    assert {p.values[3] for p in MATRIX} == {OK, NOT_FOUND, FORBIDDEN, BAD_STATE}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One case per state without an advance (for granting) and one with an unpaid advance
    where the state allows one (for paying and cancelling); rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
                tree = build_tree()
                people = build_people(tree)
            fund(people.erin, tree.xq, "1000000.00")
            fund(people.carol, tree.xq, "1000000.00", source="town")
            allow_advances()
            users = {
                "alice": people.alice,
                "eve": caseworker(tree.xq_e01, username="eve"),
                "bob": people.bob,
                "carol": people.carol,
                "dave": people.dave,
                "erin": people.erin,
                "root": people.root,
            }
            kw = {"caseworker": people.alice, "reviewer": people.carol, "officer": people.erin}
            plain = {state: case_in_state(state, **kw).pk for state in STATES}
            # Granting needs a home visit on file: only state, role or scope may refuse.
            services.home_visit_record(
                application=Application.objects.get(pk=plain["submitted"]),
                user=people.carol,
                visit_date=TODAY,
                visitors="梁慧敏",
                findings="属实",
                verified_household_income=Decimal("0"),
                verified_monthly_expenses=Decimal("0"),
            )
            with_advance = {}
            for state in STATES:
                start = "verified" if state in ("verified", "recommended") else "submitted"
                app = case_in_state(start if state in PENDING else state, **kw)
                if state in PENDING:
                    if not app.home_visits.exists():
                        services.home_visit_record(
                            application=app,
                            user=people.carol,
                            visit_date=TODAY,
                            visitors="梁慧敏",
                            findings="属实",
                            verified_household_income=Decimal("0"),
                            verified_monthly_expenses=Decimal("0"),
                        )
                        app.refresh_from_db()
                    act("advance_grant", app, people.carol)
                    app.refresh_from_db()
                    if state == "returned":
                        services.application_return(
                            application=app, user=people.carol, comment="缺"
                        )
                    if state == "recommended":
                        services.application_recommend(
                            application=app,
                            user=people.carol,
                            amount=Decimal("5000"),
                            comment="同意",
                        )
                with_advance[state] = app.pk
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield SimpleNamespace(users=users, plain=plain, with_advance=with_advance)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.mark.parametrize("state, action, actor, outcome", MATRIX)
def test_advance_matrix(world, db, state, action, actor, outcome):
    cases = world.plain if action == "advance_grant" else world.with_advance
    app = Application.objects.get(pk=cases[state])
    assert app.state == state
    user = world.users[actor]
    before = (app.version, AuditEntry.objects.count(), Advance.objects.count())
    error = {NOT_FOUND: OutOfScope, FORBIDDEN: NotAllowed, BAD_STATE: ValidationError}
    if outcome == OK:
        act(action, app, user)
        assert AuditEntry.objects.filter(application=app, action=action).exists()
        app.refresh_from_db()
        assert app.version == before[0] + 1
        return
    with pytest.raises(error[outcome]):
        act(action, app, user)
    app.refresh_from_db()
    assert (app.version, AuditEntry.objects.count(), Advance.objects.count()) == before

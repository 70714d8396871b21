"""Scoped reads: each role sees exactly its part of the tree; prior relief across unions."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from relief.errors import OutOfScope
from relief.models import Application
from relief.selectors import (
    PriorRelief,
    application_for_user,
    applications_for_user,
    prior_relief,
    workers_for_user,
)
from tests.factories import UserFactory, WorkerFactory, case_in_state, caseworker
from tests.relief.helpers import dated_case

D = Decimal

# Payouts here are about cases, not balances: the towns have money.
pytestmark = pytest.mark.usefixtures("module_well_funded")


@pytest.fixture
def eve(tree):
    return caseworker(tree.xq_e01, username="eve")


@pytest.fixture
def cases(people, eve):
    """Cases at each grassroots union: XQ-S01 (two), XQ-E01 (one), DL-V01 (one)."""
    xq = {"caseworker": people.alice, "reviewer": people.carol, "officer": people.erin}
    return {
        "xq_s01_submitted": case_in_state("submitted", **xq),
        "xq_s01_withdrawn": case_in_state("withdrawn", **xq),
        "xq_e01_draft": case_in_state(
            "draft", caseworker=eve, reviewer=people.carol, officer=people.erin
        ),
        "dl_v01_verified": case_in_state(
            "verified", caseworker=people.bob, reviewer=people.dave, officer=people.erin
        ),
    }


VISIBLE = {
    "alice": {"xq_s01_submitted", "xq_s01_withdrawn"},
    "eve": {"xq_e01_draft"},
    "bob": {"dl_v01_verified"},
    "carol": {"xq_s01_submitted", "xq_s01_withdrawn", "xq_e01_draft"},
    "dave": {"dl_v01_verified"},
    "erin": {"xq_s01_submitted", "xq_s01_withdrawn", "xq_e01_draft", "dl_v01_verified"},
    "root": {"xq_s01_submitted", "xq_s01_withdrawn", "xq_e01_draft", "dl_v01_verified"},
    "nobody": set(),  # signed in, no role, no union, not a superuser
}


def user_named(name, people, eve):
    if name == "eve":
        return eve
    if name == "nobody":
        return UserFactory(username="nobody")
    return getattr(people, name)


@pytest.mark.parametrize("name", list(VISIBLE))
def test_applications_for_user_returns_exactly_the_cases_in_scope(people, eve, cases, name):
    user = user_named(name, people, eve)
    seen = set(applications_for_user(user).values_list("pk", flat=True))
    assert seen == {cases[key].pk for key in VISIBLE[name]}


@pytest.mark.parametrize("name", list(VISIBLE))
def test_application_for_user_finds_in_scope_and_404s_the_rest(people, eve, cases, name):
    user = user_named(name, people, eve)
    for key, app in cases.items():
        if key in VISIBLE[name]:
            assert application_for_user(user, app.pk) == app
        else:
            with pytest.raises(OutOfScope) as info:
                application_for_user(user, app.pk)
            assert isinstance(info.value, Http404)


def test_anonymous_users_see_nothing(cases):
    assert not applications_for_user(AnonymousUser()).exists()
    with pytest.raises(OutOfScope):
        application_for_user(AnonymousUser(), cases["xq_s01_submitted"].pk)


@pytest.mark.parametrize("pk", [0, 999_999, "abc", None])
def test_a_missing_case_looks_the_same_as_one_out_of_scope(people, cases, pk):
    with pytest.raises(OutOfScope):
        application_for_user(people.erin, pk)


def test_workers_for_user_follow_the_same_tree(people, eve, cases):
    def names(user):
        return set(workers_for_user(user).values_list("pk", flat=True))

    xq_s01 = {cases["xq_s01_submitted"].worker_id, cases["xq_s01_withdrawn"].worker_id}
    xq_e01 = {cases["xq_e01_draft"].worker_id}
    dl_v01 = {cases["dl_v01_verified"].worker_id}
    assert names(people.alice) == xq_s01
    assert names(eve) == xq_e01
    assert names(people.carol) == xq_s01 | xq_e01
    assert names(people.dave) == names(people.bob) == dl_v01
    assert names(people.erin) == xq_s01 | xq_e01 | dl_v01


# --- prior relief -----------------------------------------------------------------------


def test_prior_relief_across_unions_and_towns(people):
    worker = WorkerFactory(union=people.alice.union)
    dated_case(people, "closed", dt.date(2022, 3, 1), worker=worker, amount="3000.00")
    dated_case(
        people,
        "disbursed",
        dt.date(2023, 6, 1),
        worker=worker,
        amount="4000.00",
        by=people.bob,
        reviewer=people.dave,
    )
    current = dated_case(
        people,
        "submitted",
        dt.date(2024, 2, 1),
        worker=worker,
        amount="6666.00",
        narrative="秘密细节：不应出现在其他工会的查询结果中",
    )

    # Typed at an intake anywhere, with spaces.
    spaced = " ".join([worker.id_number[:6], worker.id_number[6:14], worker.id_number[14:]])
    found = prior_relief(spaced)
    assert found.worker == worker
    assert found.payout_count == 2
    assert found.total_paid == D("7000.00")
    assert found.last_paid_on == dt.date(2023, 6, 1)
    assert found.last_amount == D("4000.00")
    assert found.last_town == "大沥镇总工会"
    assert found.in_progress_reference == current.reference
    assert found.in_progress_union == "樵园社区工会"


def test_prior_relief_names_a_case_in_progress_only_by_reference_and_union(people):
    app = case_in_state(
        "recommended",
        caseworker=people.alice,
        reviewer=people.carol,
        officer=people.erin,
        amount="6666.00",
    )
    found = prior_relief(app.worker.id_number)
    assert {f.name for f in dataclasses.fields(PriorRelief)} == {
        "worker",
        "payout_count",
        "total_paid",
        "last_paid_on",
        "last_amount",
        "last_town",
        "in_progress_reference",
        "in_progress_union",
    }
    values = [getattr(found, f.name) for f in dataclasses.fields(found)]
    assert not any(isinstance(v, Application) for v in values)
    assert (found.in_progress_reference, found.in_progress_union) == (
        app.reference,
        "樵园社区工会",
    )
    text = repr(found)
    for detail in ("6666", app.narrative, "recommended", "研讨同意"):
        assert detail not in text


def test_mr_liang_helped_every_year_2019_to_2024(people):
    worker = WorkerFactory(union=people.alice.union, name="梁志明")
    amounts = {2019: "5000.00", 2020: "5000.00", 2021: "10000.00", 2022: "5000.00"}
    amounts |= {2023: "5000.00", 2024: "5000.00"}
    for year, amount in amounts.items():
        dated_case(people, "closed", dt.date(year, 4, 1), worker=worker, amount=amount)
    found = prior_relief(worker.id_number)
    assert found.payout_count == 6
    assert found.total_paid == D("35000.00")
    assert (found.last_paid_on, found.last_amount) == (dt.date(2024, 4, 1), D("5000.00"))
    assert found.last_town == "西樵镇总工会"
    assert found.in_progress_reference == found.in_progress_union == ""


def test_prior_relief_of_a_worker_never_helped(people):
    worker = WorkerFactory(union=people.alice.union)
    found = prior_relief(worker.id_number)
    assert (found.payout_count, found.total_paid) == (0, D("0"))
    assert (found.last_paid_on, found.last_amount, found.last_town) == (None, None, "")
    assert (found.in_progress_reference, found.in_progress_union) == ("", "")


def test_prior_relief_of_an_unknown_number_is_none(db):
    assert prior_relief("11010519491231002X") is None
    assert prior_relief("") is None


def test_prior_relief_ignores_cases_that_paid_nothing(people):
    worker = WorkerFactory(union=people.alice.union)
    xq = {"caseworker": people.alice, "reviewer": people.carol, "officer": people.erin}
    case_in_state("rejected", worker=worker, **xq)
    case_in_state("withdrawn", worker=worker, **xq)
    found = prior_relief(worker.id_number.lower())
    assert (found.payout_count, found.total_paid, found.last_town) == (0, D("0"), "")

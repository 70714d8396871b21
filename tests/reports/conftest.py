"""Payouts with hand-computed figures, all made through the real services.

    NH district
      XQ town: XQ-S01 (alice)  W1 梁志明  2022-05-05 3,000 district   [case Z: 其他]
                                         2023-03-10 4,000 district   [case A: 重大疾病]
                                         2023-06-01 2,000 town       [case A, second payout]
                                         2024-02-01 5,000 donation   [case B: 子女就学]
               XQ-E01 (frank) W2 何丽娟  2023-09-09 8,000 district   [case C: 意外伤害]
      DL town: DL-V01 (bob)    W3 陈大文  2023-12-31 10,000 district [case D: 2 categories]
                               W4 林小红  approved 2023, not paid    [case E]

Year 2023, NH: 4 payouts (人次), 3 people (人数), 24,000 in all, largest 10,000.
"""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from relief import services
from tests.conftest import _shared, _tree_people_and_funds, built_once_for_the_module
from tests.factories import WorkerFactory, caseworker, category


def paid_case(
    people,
    cw,
    worker,
    *,
    applied: dt.date,
    approved: str,
    payouts=(),
    categories=("重大疾病",),
    reviewer=None,
):
    app = services.application_create(
        user=cw,
        worker=worker,
        categories=[category(c) for c in categories],
        narrative="肾病透析，母亲长期患病，两名子女在读。",
        requested_amount=Decimal(approved),
        household_monthly_income=Decimal("1500.00"),
        monthly_medical_expenses=Decimal("4000.00"),
        application_date=applied,
    )
    reviewer = reviewer or people.carol
    app = services.application_submit(application=app, user=cw)
    services.home_visit_record(
        application=app,
        user=reviewer,
        visit_date=applied,
        visitors="梁慧敏、何建华",
        findings="入户核实情况属实。",
        verified_household_income=Decimal("1500.00"),
        verified_monthly_expenses=Decimal("5500.00"),
    )
    app = services.application_verify(application=app, user=reviewer)
    app = services.application_recommend(
        application=app, user=reviewer, amount=Decimal(approved), comment="镇研讨会议同意救助"
    )
    app = services.application_approve(application=app, user=people.erin, amount=Decimal(approved))
    for paid_on, amount, fund in payouts:
        services.disbursement_record(
            application=app,
            user=people.erin,
            amount=Decimal(amount),
            paid_on=paid_on,
            method="bank",
            fund_source=fund,
            voucher_no=f"PZ-{paid_on:%Y%m%d}",
        )
        app.refresh_from_db()
    return app


@pytest.fixture
def payouts(request, tree, people, well_funded):
    shared = _shared(request)
    if shared and hasattr(shared, "payouts"):
        return shared.payouts
    return make_payouts(tree, people)


@pytest.fixture(scope="module")
def module_payouts(django_db_setup, django_db_blocker):
    """`tree`, `people`, `well_funded` and `payouts` built once for the module (opt in with
    `pytestmark = pytest.mark.usefixtures("module_payouts")`); each test gets its own copy."""

    def build():
        built = _tree_people_and_funds()
        built.payouts = make_payouts(built.tree, built.people)
        return built

    yield from built_once_for_the_module(django_db_blocker, build)


def make_payouts(tree, people):
    frank = caseworker(tree.xq_e01, username="frank")
    w1 = WorkerFactory(union=tree.xq_s01, name="梁志明", id_number="440605197208161996")
    w2 = WorkerFactory(union=tree.xq_e01, name="何丽娟")
    w3 = WorkerFactory(union=tree.dl_v01, name="陈大文")
    w4 = WorkerFactory(union=tree.dl_v01, name="林小红")
    alice, bob = people.alice, people.bob
    z = paid_case(
        people,
        alice,
        w1,
        applied=dt.date(2022, 4, 1),
        approved="3000.00",
        payouts=[(dt.date(2022, 5, 5), "3000.00", "district")],
        categories=("其他",),
    )
    a = paid_case(
        people,
        alice,
        w1,
        applied=dt.date(2023, 3, 1),
        approved="6000.00",
        payouts=[
            (dt.date(2023, 3, 10), "4000.00", "district"),
            (dt.date(2023, 6, 1), "2000.00", "town"),
        ],
    )
    b = paid_case(
        people,
        alice,
        w1,
        applied=dt.date(2024, 1, 10),
        approved="5000.00",
        payouts=[(dt.date(2024, 2, 1), "5000.00", "donation")],
        categories=("子女就学",),
    )
    c = paid_case(
        people,
        frank,
        w2,
        applied=dt.date(2023, 9, 1),
        approved="8000.00",
        payouts=[(dt.date(2023, 9, 9), "8000.00", "district")],
        categories=("意外伤害",),
    )
    d = paid_case(
        people,
        bob,
        w3,
        applied=dt.date(2023, 12, 1),
        approved="10000.00",
        payouts=[(dt.date(2023, 12, 31), "10000.00", "district")],
        categories=("家庭成员患病", "重大疾病"),
        reviewer=people.dave,
    )
    e = paid_case(
        people,
        bob,
        w4,
        applied=dt.date(2023, 12, 5),
        approved="2000.00",
        reviewer=people.dave,
    )
    return SimpleNamespace(frank=frank, w1=w1, w2=w2, w3=w3, w4=w4, z=z, a=a, b=b, c=c, d=d, e=e)

"""Figures pages read from a streaming replica when one is configured (config/replica.py).

The "replica" alias of the test settings is the test database itself, mirrored: what matters
here is which connection each query goes through, not replication.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from config.replica import ReplicaRouter, reports_from_replica
from relief.models import Application, Disbursement, HardshipCategory, Policy
from tests.factories import case_in_state, fund

# Committed data (transaction=True), so that the replica's own connection sees it. A flush
# before this module (another transactional test) leaves no migration-seeded rows: the policy
# and the category the case needs are made here if missing (not serialized_rollback, whose
# reload collides with the role groups that the flush's post_migrate has already re-created).
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def paid_case(people, tree):
    Policy.objects.get_or_create(
        effective_from=dt.date(2018, 1, 1),
        defaults={"name": "临时救助办法", "max_per_payout": Decimal("10000.00")},
    )
    HardshipCategory.objects.get_or_create(name="重大疾病")
    fund(people.erin, tree.xq, "50000.00")
    return case_in_state(
        "disbursed", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )


def _tables(queries) -> str:
    return " ".join(q["sql"] for q in queries)


@pytest.mark.parametrize("url", ["/reports/dashboard/", "/funds/"])
def test_a_figures_page_reads_its_payouts_from_the_replica(
    client, settings, people, paid_case, url
):
    settings.REPORTS_READ_FROM_REPLICA = True
    client.force_login(people.erin)
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(url)
    assert response.status_code == 200
    # The figures: the monthly totals (dashboard), the fund accounts and payouts (/funds/).
    figures = ("relief_monthlytotal", "relief_fundaccount", "relief_disbursement")
    assert any(table in _tables(replica) for table in figures)
    # The session and the user are read before the view, from the primary; the figures not.
    assert not any(table in _tables(primary) for table in figures)


def test_without_a_replica_everything_stays_on_the_primary(client, settings, people, paid_case):
    settings.REPORTS_READ_FROM_REPLICA = False
    client.force_login(people.erin)
    with CaptureQueriesContext(connections["replica"]) as replica:
        assert client.get("/reports/dashboard/").status_code == 200
    assert replica.captured_queries == []


def test_writes_and_other_pages_never_go_to_the_replica(settings, people, paid_case):
    settings.REPORTS_READ_FROM_REPLICA = True
    router = ReplicaRouter()
    with reports_from_replica():
        assert router.db_for_read(Disbursement) == "replica"
        assert router.db_for_write(Application) == "default"
        with CaptureQueriesContext(connections["default"]) as primary:
            Application.objects.filter(pk=paid_case.pk).update(narrative="改")
        assert primary.captured_queries
    assert router.db_for_read(Disbursement) is None
    assert not router.allow_migrate("replica", "relief")

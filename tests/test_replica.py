"""Figures pages read from a streaming replica when one is configured (config/replica.py).

The "replica" alias of the test settings is the test database itself, mirrored: what matters
here is which connection each query goes through, not replication.
"""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from config.replica import ReplicaRouter, reports_from_replica
from relief.models import Application, Disbursement
from tests.factories import case_in_state, fund

pytestmark = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=["default", "replica"]
)


@pytest.fixture
def paid_case(people, tree):
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
    assert "relief_disbursement" in _tables(replica) or "relief_fund" in _tables(replica)
    # The session and the user are read before the view, from the primary; the figures not.
    assert "relief_disbursement" not in _tables(primary)


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

"""The access log in the admin: district officers (and superusers) read and filter it; town
reviewers and caseworkers do not; nobody adds, changes or deletes a row."""

import pytest
from django.urls import reverse
from django.utils import timezone

from privacy import access
from privacy.models import AccessKind, AccessLog
from tests.factories import WorkerFactory, file_case
from tests.searching import admin_search

LIST = reverse("admin:privacy_accesslog_changelist")
ADD = reverse("admin:privacy_accesslog_add")


@pytest.fixture
def entries(people, tree):
    app = file_case(people.alice, WorkerFactory(union=tree.xq_s01, name="梁志明"))
    return {
        "id": access.record(None, AccessKind.FULL_ID, user=people.erin, obj=app.worker),
        "case": access.record(None, AccessKind.ATTACHMENT, user=people.carol, obj=app),
        "bank": access.record(
            None, AccessKind.BANK_FILE, user=people.erin, detail=f"{app.reference} XQ-2020-0001"
        ),
        "app": app,
    }


@pytest.mark.parametrize(
    ("who", "status"), [("erin", 200), ("root", 200), ("carol", 403), ("dave", 403)]
)
def test_only_the_district_reads_the_log(client, people, entries, who, status):
    client.force_login(getattr(people, who))
    assert client.get(LIST).status_code == status
    detail = reverse("admin:privacy_accesslog_change", args=[entries["id"].pk])
    assert client.get(detail).status_code == status


def test_caseworkers_have_no_admin_at_all(client, people, entries):
    client.force_login(people.alice)
    response = client.get(LIST)
    assert response.status_code == 302 and "login" in response.url


def test_the_admin_index_lists_the_log_for_the_district_only(client, people):
    client.force_login(people.erin)
    assert LIST in client.get(reverse("admin:index")).content.decode()
    client.force_login(people.carol)
    assert LIST not in client.get(reverse("admin:index")).content.decode()


def test_nobody_adds_changes_or_deletes(client, people, entries):
    pk = entries["id"].pk
    client.force_login(people.root)
    assert client.get(ADD).status_code == 403
    assert client.get(reverse("admin:privacy_accesslog_delete", args=[pk])).status_code == 403
    response = client.post(reverse("admin:privacy_accesslog_change", args=[pk]), {"detail": "x"})
    assert response.status_code == 403
    response = client.post(LIST, {"action": "delete_selected", "_selected_action": [pk]})
    assert AccessLog.objects.count() == 3
    page = client.get(LIST).content.decode()
    assert 'name="action"' not in page  # no actions at all


def _listed(client, **params) -> set[int]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_filters_and_search(client, people, entries):
    client.force_login(people.erin)
    ids = {k: v.pk for k, v in entries.items() if k != "app"}
    reference = entries["app"].reference
    assert _listed(client, kind="bank_file") == {ids["bank"]}
    assert _listed(client, user__id__exact=people.carol.pk) == {ids["case"]}
    today = timezone.localdate()
    assert _listed(client, at__year=today.year, at__month=today.month, at__day=today.day) == set(
        ids.values()
    )
    assert _listed(client, at__year=today.year - 1) == set()
    assert _listed(client, q="carol") == {ids["case"]}
    # A case reference finds the case's rows and the bank file that paid it.
    assert _listed(client, q=reference) == {ids["case"], ids["bank"]}


def test_the_log_shows_masked_labels_and_is_not_searchable_by_id_number(client, people, entries):
    worker = entries["app"].worker
    client.force_login(people.erin)
    page = client.get(LIST).content.decode()
    assert worker.id_number not in page and worker.masked_id_number in page
    # Searches are posted (never an ID number in an address) and find nothing by ID number.
    assert list(admin_search(client, LIST, worker.id_number).context["cl"].result_list) == []
    assert _listed(client, q=worker.id_number[-4:]) == set()

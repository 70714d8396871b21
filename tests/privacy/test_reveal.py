"""Full numbers on the admin worker page: masked for everyone, revealed by POST and logged.

The matrix: caseworker, town reviewer, district officer, superuser, and a town reviewer given
the permission (in and out of scope). Without the permission the reveal answers 403 and logs
nothing; out of scope it is not found (404) and logs nothing; no GET shows a full number.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from privacy.models import AccessLog
from relief.models import HouseholdMember
from tests.factories import WorkerFactory, make_id_number

XQ_ID = make_id_number(41, born=dt.date(1972, 8, 16))
MEMBER_ID = make_id_number(42, born=dt.date(2008, 1, 2))
DL_ID = make_id_number(43, born=dt.date(1985, 3, 3))
XQ_CARD = "6217000011112222333"


@pytest.fixture
def workers(tree):
    xq = WorkerFactory(union=tree.xq_s01, name="梁志明", id_number=XQ_ID, bank_card=XQ_CARD)
    HouseholdMember.objects.create(worker=xq, relation="儿子", name="梁嘉豪", id_number=MEMBER_ID)
    dl = WorkerFactory(union=tree.dl_v01, name="陈大文", id_number=DL_ID)
    return {"xq": xq, "dl": dl}


def change(worker):
    return reverse("admin:relief_worker_change", args=[worker.pk])


def reveal(worker):
    return reverse("admin:relief_worker_reveal", args=[worker.pk])


def grant(user):
    user.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    return user


# (who, worker, status): 403 without the permission (even out of scope: nothing is learned),
# 404 out of scope with it, 200 and two log rows (ID, card) in scope.
MATRIX = [
    ("alice", "xq", 403),
    ("bob", "xq", 403),
    ("carol", "xq", 403),
    ("carol", "dl", 403),
    ("dave", "xq", 403),
    ("erin", "xq", 200),
    ("erin", "dl", 200),
    ("root", "xq", 200),
    ("carol+perm", "xq", 200),
    ("carol+perm", "dl", 404),
]


@pytest.mark.parametrize(("who", "which", "status"), MATRIX)
def test_the_reveal_matrix(client, people, workers, who, which, status):
    user = getattr(people, who.removesuffix("+perm"))
    if who.endswith("+perm"):
        grant(user)
    worker = workers[which]
    client.force_login(user)
    response = client.post(reveal(worker), REMOTE_ADDR="198.51.100.4")
    assert response.status_code == status
    html = response.content.decode()
    if status != 200:
        assert worker.id_number not in html
        assert not AccessLog.objects.exists()
        return
    assert worker.id_number in html
    rows = list(AccessLog.objects.order_by("pk"))
    kinds = ["full_id", "full_card"] if worker.bank_card else ["full_id"]
    assert [r.kind for r in rows] == kinds
    for row in rows:
        assert (row.user, row.object_id, row.ip) == (user, worker.pk, "198.51.100.4")
        assert row.content_type.model == "worker"
        assert row.object_label == f"{worker.name[0]}*{worker.name[-1]} {worker.masked_id_number}"
        assert row.path == reveal(worker)
    if which == "xq":
        assert XQ_CARD in html and MEMBER_ID in html  # the card and the household too
        assert rows[0].detail == "household members: 1"


@pytest.mark.parametrize("who", ["carol", "erin", "root"])
def test_the_worker_page_is_masked_for_everyone_until_revealed(client, people, workers, who):
    client.force_login(getattr(people, who))
    response = client.get(change(workers["xq"]))
    assert response.status_code == 200
    html = response.content.decode()
    for number in (XQ_ID, XQ_CARD, MEMBER_ID):
        assert number not in html
    assert workers["xq"].masked_id_number in html and "**** 2333" in html
    assert (reveal(workers["xq"]) in html) is (who != "carol")  # the button, for holders
    assert not AccessLog.objects.exists()


def test_the_revealed_page_says_it_was_logged_and_is_not_cached(client, people, workers):
    client.force_login(people.erin)
    response = client.post(reveal(workers["xq"]))
    assert 'data-testid="revealed"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert 'data-testid="reveal"' not in response.content.decode()  # no second button


def test_a_get_reveals_nothing(client, people, workers):
    client.force_login(people.erin)
    response = client.get(reveal(workers["xq"]))
    assert response.status_code == 405
    assert XQ_ID not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_the_reveal_needs_the_csrf_token(people, workers):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.erin)
    assert client.post(reveal(workers["xq"])).status_code == 403
    assert not AccessLog.objects.exists()
    # The button's form carries the token and works.
    page = client.get(change(workers["xq"]))
    token = page.cookies["csrftoken"].value
    assert client.post(reveal(workers["xq"]), {"csrfmiddlewaretoken": token}).status_code == 200
    assert AccessLog.objects.count() == 2


def test_signed_out_the_reveal_goes_to_the_login(client, workers):
    response = client.post(reveal(workers["xq"]))
    assert response.status_code == 302 and "login" in response.url
    assert not AccessLog.objects.exists()


def test_an_unknown_worker_is_not_found_and_not_logged(client, people, workers):
    client.force_login(people.erin)
    assert client.post(reverse("admin:relief_worker_reveal", args=[999999])).status_code == 404
    assert not AccessLog.objects.exists()

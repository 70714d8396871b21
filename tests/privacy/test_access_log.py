"""The access log itself: the one full-number rule, the client address, the row written, and
that nothing changes or deletes a row (the model on both databases, a trigger on PostgreSQL)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory

from privacy import access
from privacy.models import AccessKind, AccessLog, AppendOnlyError
from relief.models import Worker
from tests.factories import WorkerFactory

ROLES = ["alice", "bob", "carol", "dave", "erin", "root"]
# Who gets full numbers by default: ID and card on screen with the permission (the district
# officers' group; superusers hold every permission), the bank file for district officers.
EXPECTED = {
    access.ID_NUMBER: {"erin", "root"},
    access.CARD: {"erin", "root"},
    access.BANK_FILE: {"erin"},
}


@pytest.mark.parametrize("what", list(EXPECTED))
@pytest.mark.parametrize("who", ROLES)
def test_the_one_rule_for_full_numbers(people, who, what):
    assert access.may_see_full(getattr(people, who), what) is (who in EXPECTED[what])


def test_an_inactive_or_anonymous_user_sees_no_full_number(people):
    from django.contrib.auth.models import AnonymousUser

    people.erin.is_active = False
    assert not access.may_see_full(people.erin)
    assert not access.may_see_full(AnonymousUser())
    assert not access.may_see_full(None)
    with pytest.raises(ValueError):
        access.may_see_full(people.root, "phone")


def test_a_granted_permission_opens_full_ids_but_not_the_bank_file(people):
    from django.contrib.auth.models import Permission

    people.carol.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    carol = type(people.carol).objects.get(pk=people.carol.pk)  # fresh permission cache
    assert access.may_see_full(carol, access.ID_NUMBER)
    assert not access.may_see_full(carol, access.BANK_FILE)


def _request(**meta):
    return RequestFactory().get("/somewhere/", **meta)


def test_the_address_ignores_x_forwarded_for_without_a_proxy(settings):
    settings.BEHIND_HTTPS_PROXY = False
    request = _request(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert access.client_ip(request) == "10.0.0.5"


def test_behind_the_proxy_the_last_forwarded_address_counts(settings):
    settings.BEHIND_HTTPS_PROXY = True
    # The client may send its own X-Forwarded-For; the proxy appends what it saw.
    request = _request(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert access.client_ip(request) == "203.0.113.9"
    assert access.client_ip(_request(REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"
    junk = _request(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert access.client_ip(junk) == "127.0.0.1"


# The request is built with an ID number in its query string on purpose: the log must drop it.
@pytest.mark.id_in_url
def test_record_writes_who_what_which_and_where(people, tree, settings):
    settings.BEHIND_HTTPS_PROXY = False
    worker = WorkerFactory(union=tree.xq_s01, name="梁志明", id_number="440605197208161996")
    request = RequestFactory().get(
        "/somewhere/?id_number=440605197208161996",
        REMOTE_ADDR="192.0.2.7",
        HTTP_USER_AGENT="x" * 500,
    )
    request.user = people.erin
    entry = access.record(request, AccessKind.FULL_ID, obj=worker, detail="d")
    entry = AccessLog.objects.get(pk=entry.pk)
    assert entry.user == people.erin
    assert entry.kind == "full_id"
    assert entry.content_type == ContentType.objects.get_for_model(Worker)
    assert entry.object_id == worker.pk
    assert entry.object_label == "梁*明 440605********1996"
    assert entry.ip == "192.0.2.7"
    assert entry.path == "/somewhere/"  # no query string: it may hold an ID number
    assert entry.user_agent == "x" * 200
    assert entry.at.tzinfo is not None
    assert "440605197208161996" not in str(vars(entry))


def test_record_without_a_request_needs_the_user(people):
    entry = access.record(None, AccessKind.FULL_EXPORT, user=people.erin, detail="command")
    assert (entry.user, entry.ip, entry.path) == (people.erin, None, "")
    with pytest.raises(ValueError):
        access.record(None, "peeked", user=people.erin)


def test_the_model_refuses_to_change_or_delete_a_row(people):
    entry = access.record(None, AccessKind.ATTACHMENT, user=people.erin)
    entry.detail = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).update(detail="rewritten")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.get(pk=entry.pk).detail == ""


@pytest.mark.postgres
def test_the_database_refuses_update_and_delete_whatever_code_runs(people):
    entry = access.record(None, AccessKind.BANK_FILE, user=people.erin, detail="PB-1")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE privacy_accesslog SET detail = 'x' WHERE id = %s", [entry.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM privacy_accesslog WHERE id = %s", [entry.pk])
    assert AccessLog.objects.get(pk=entry.pk).detail == "PB-1"


def test_a_user_who_looked_at_personal_data_cannot_be_deleted(people):
    from django.db.models import ProtectedError

    access.record(None, AccessKind.FULL_ID, user=people.erin)
    with pytest.raises(ProtectedError):
        people.erin.delete()

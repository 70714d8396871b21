"""unions.backends.UnionModelBackend: Django's answers about who someone is and what they may
do, in fewer queries (the user with their union; the user's and their groups' permissions in
one query)."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from unions.backends import UnionModelBackend
from unions.models import User

pytestmark = pytest.mark.django_db


def fresh(user) -> User:
    """The user as a new request reads them: no permission cached on the object."""
    return User.objects.get(pk=user.pk)


def django_answer(user) -> set[str]:
    return ModelBackend().get_all_permissions(fresh(user))


@pytest.fixture
def extra_permissions(people):
    """A permission of the user's own and a group beside the role's, so both halves count."""
    own = Permission.objects.get(codename="view_group")
    people.carol.user_permissions.add(own)
    extra = Group.objects.create(name="auditors")
    extra.permissions.add(Permission.objects.get(codename="view_permission"))
    people.carol.groups.add(extra)
    return people


@pytest.mark.parametrize("who", ["alice", "carol", "erin", "root"])
def test_the_permissions_are_djangos(extra_permissions, who):
    user = getattr(extra_permissions, who)
    found = UnionModelBackend().get_all_permissions(fresh(user))
    assert found == django_answer(user)
    # Caseworkers work outside the admin and hold none; the others some, the superuser all.
    assert bool(found) == (who != "alice")


def test_the_users_own_and_their_groups_permissions_both_count(extra_permissions):
    found = UnionModelBackend().get_all_permissions(fresh(extra_permissions.carol))
    assert {"auth.view_group", "auth.view_permission", "relief.view_application"} <= found


def test_one_query_for_the_permissions_then_none(people):
    user = fresh(people.carol)
    backend = UnionModelBackend()
    with CaptureQueriesContext(connection) as queries:
        backend.get_all_permissions(user)
        assert backend.has_perm(user, "relief.view_application")
        assert not backend.has_perm(user, "auth.delete_user")
    assert len(queries) == 1


def test_an_inactive_user_has_no_permissions(people):
    people.carol.is_active = False
    people.carol.save()
    user = fresh(people.carol)
    assert UnionModelBackend().get_all_permissions(user) == set()
    assert not user.has_perm("relief.view_application")


def test_the_signed_in_user_comes_with_their_union(client, people):
    client.force_login(people.carol, backend="unions.backends.UnionModelBackend")
    user_id = client.session[SESSION_KEY]
    with CaptureQueriesContext(connection) as queries:
        user = UnionModelBackend().get_user(user_id)
        assert user.union.name == people.carol.union.name
    assert len(queries) == 1


def test_an_inactive_or_unknown_user_is_not_signed_in(people):
    people.bob.is_active = False
    people.bob.save()
    assert UnionModelBackend().get_user(people.bob.pk) is None
    assert UnionModelBackend().get_user(10**9) is None


def test_signing_in_records_this_backend(client, people):
    response = client.post("/login/", {"username": "carol", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "unions.backends.UnionModelBackend"
    assert client.get("/").wsgi_request.user == people.carol

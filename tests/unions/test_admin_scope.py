"""What each role sees in the admin, and the superuser's user form keeping role and union paired."""

import pytest
from django.urls import reverse

from unions.models import Role, Union, User
from unions.roles import role_group_name

UNION_LIST = reverse("admin:unions_union_changelist")
USER_LIST = reverse("admin:unions_user_changelist")
USER_ADD = reverse("admin:unions_user_add")


def union_change(union: Union) -> str:
    return reverse("admin:unions_union_change", args=[union.pk])


def listed_codes(response) -> set[str]:
    return {union.code for union in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("carol", {"XQ", "XQ-S01", "XQ-E01"}),
        ("dave", {"DL", "DL-V01"}),
        ("erin", {"NH", "XQ", "DL", "XQ-S01", "XQ-E01", "DL-V01"}),
        ("root", {"NH", "XQ", "DL", "XQ-S01", "XQ-E01", "DL-V01"}),
    ],
)
def test_the_union_list_shows_only_the_users_subtree(client, people, name, codes):
    client.force_login(getattr(people, name))
    response = client.get(UNION_LIST)
    assert response.status_code == 200
    assert listed_codes(response) == codes


def test_a_town_reviewer_does_not_see_the_other_towns_unions(client, people):
    client.force_login(people.carol)
    html = client.get(UNION_LIST).content.decode()
    assert "樵园社区工会" in html
    assert "樵山食品工会" in html
    assert "大沥镇总工会" not in html
    assert "凤池村工会" not in html


@pytest.mark.parametrize("union_name", ["dl", "dl_v01", "nh"])
def test_a_union_outside_the_subtree_cannot_be_opened(client, people, tree, union_name):
    union = getattr(tree, union_name)
    client.force_login(people.carol)
    response = client.get(union_change(union))
    # Outside get_queryset the object does not exist: 404, as on every other page.
    assert response.status_code == 404
    assert union.name not in response.content.decode()


def test_a_union_inside_the_subtree_can_be_viewed_not_changed(client, people, tree):
    client.force_login(people.carol)
    response = client.get(union_change(tree.xq_s01))
    assert response.status_code == 200
    assert "樵园社区工会" in response.content.decode()
    assert not response.context["has_change_permission"]
    response = client.post(union_change(tree.xq_s01), {"name": "改名"})
    assert response.status_code == 403
    assert Union.objects.get(pk=tree.xq_s01.pk).name == "樵园社区工会"


def test_a_town_reviewer_cannot_add_a_union(client, people):
    client.force_login(people.carol)
    assert client.get(reverse("admin:unions_union_add")).status_code == 403


@pytest.mark.parametrize("name", ["carol", "erin"])
def test_reviewers_cannot_see_the_user_admin(client, people, name):
    client.force_login(getattr(people, name))
    assert client.get(USER_LIST).status_code == 403
    assert client.get(reverse("admin:unions_user_change", args=[people.alice.pk])).status_code in (
        302,
        403,
    )
    index = client.get(reverse("admin:index"))
    models = {
        (app["app_label"], m["object_name"])
        for app in index.context["app_list"]
        for m in app["models"]
    }
    assert ("unions", "Union") in models
    assert ("unions", "User") not in models


def test_a_caseworker_is_sent_to_the_admin_login(client, people):
    client.force_login(people.alice)
    response = client.get(UNION_LIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


# --- the superuser's user forms -------------------------------------------------------------


def add_user(client, **data):
    form = {
        "username": "newcomer",
        "full_name": "新同事",
        "usable_password": "true",
        "password1": "a-long-Passw0rd-for-tests",
        "password2": "a-long-Passw0rd-for-tests",
        **data,
    }
    return client.post(USER_ADD, form)


@pytest.mark.parametrize(
    ("role", "union_name", "staff"),
    [
        (Role.CASEWORKER, "xq_s01", False),
        (Role.TOWN_REVIEWER, "dl", True),
        (Role.DISTRICT_OFFICER, "nh", True),
    ],
)
def test_the_superuser_adds_a_user_with_role_and_union(
    client, people, tree, role, union_name, staff
):
    client.force_login(people.root)
    union = getattr(tree, union_name)
    response = add_user(client, role=role, union=union.pk)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(username="newcomer")
    assert (user.role, user.union, user.full_name) == (role, union, "新同事")
    assert set(user.groups.values_list("name", flat=True)) == {role_group_name(role)}
    assert user.is_staff is staff
    assert user.check_password("a-long-Passw0rd-for-tests")


@pytest.mark.parametrize(
    ("role", "union_name", "field"),
    [
        (Role.CASEWORKER, "xq", "union"),  # a caseworker at a town
        (Role.TOWN_REVIEWER, "xq_s01", "union"),
        (Role.DISTRICT_OFFICER, "dl", "union"),
        (Role.CASEWORKER, None, "union"),  # a role without a union
        ("", "xq_s01", "role"),  # a union without a role
    ],
)
def test_an_inconsistent_role_and_union_is_a_form_error(
    client, people, tree, role, union_name, field
):
    client.force_login(people.root)
    before = User.objects.count()
    union = getattr(tree, union_name).pk if union_name else ""
    response = add_user(client, role=role, union=union)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors
    assert len(errors[field]) == 1  # said once, not once per check
    assert User.objects.count() == before
    assert not User.objects.filter(username="newcomer").exists()


def change_form_data(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "full_name": user.full_name,
        "phone": user.phone,
        "email": user.email,
        "role": user.role,
        "union": user.union_id or "",
        "is_active": "on",
        "groups": [],
        "user_permissions": [],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        **changes,
    }
    return {k: v for k, v in data.items() if v is not None}


def test_changing_a_users_role_in_the_admin_swaps_the_group(client, people, tree):
    client.force_login(people.root)
    url = reverse("admin:unions_user_change", args=[people.alice.pk])
    response = client.post(
        url, change_form_data(people.alice, role=Role.TOWN_REVIEWER, union=tree.xq.pk)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    alice = User.objects.get(pk=people.alice.pk)
    assert (alice.role, alice.union) == (Role.TOWN_REVIEWER, tree.xq)
    assert set(alice.groups.values_list("name", flat=True)) == {"town-reviewers"}
    assert alice.is_staff


def test_the_change_form_refuses_an_inconsistent_role(client, people, tree):
    client.force_login(people.root)
    url = reverse("admin:unions_user_change", args=[people.alice.pk])
    response = client.post(url, change_form_data(people.alice, union=tree.dl.pk))
    assert response.status_code == 200
    assert "union" in response.context["adminform"].form.errors
    assert User.objects.get(pk=people.alice.pk).union == tree.xq_s01

"""A user's role and union go together, and the role's group and staff flag follow the role."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from tests.factories import UserFactory
from unions.models import Role, User
from unions.roles import role_group_name, sync_role_groups
from unions.services import user_set_role

ROLE_GROUPS = {"caseworkers", "town-reviewers", "district-officers"}


def group_names(user: User) -> set[str]:
    return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("role", "union_name"),
    [
        (Role.CASEWORKER, "xq_s01"),
        (Role.CASEWORKER, "dl_v01"),
        (Role.TOWN_REVIEWER, "xq"),
        (Role.DISTRICT_OFFICER, "nh"),
    ],
)
def test_it_accepts_a_role_at_its_level(tree, role, union_name):
    union = getattr(tree, union_name)
    user = user_set_role(user=UserFactory(), role=role, union=union)
    saved = User.objects.get(pk=user.pk)
    assert (saved.role, saved.union) == (role, union)


@pytest.mark.parametrize(
    ("role", "union_name"),
    [
        (Role.CASEWORKER, "xq"),
        (Role.CASEWORKER, "nh"),
        (Role.TOWN_REVIEWER, "xq_s01"),
        (Role.TOWN_REVIEWER, "nh"),
        (Role.DISTRICT_OFFICER, "xq"),
        (Role.DISTRICT_OFFICER, "dl_v01"),
    ],
)
def test_it_rejects_a_role_at_the_wrong_level(tree, role, union_name):
    user = UserFactory()
    with pytest.raises(ValidationError) as excinfo:
        user_set_role(user=user, role=role, union=getattr(tree, union_name))
    assert "union" in excinfo.value.message_dict
    saved = User.objects.get(pk=user.pk)
    assert (saved.role, saved.union_id) == ("", None)
    assert group_names(user) == set()


def test_it_rejects_a_role_without_a_union(db):
    user = UserFactory()
    with pytest.raises(ValidationError) as excinfo:
        user_set_role(user=user, role=Role.CASEWORKER, union=None)
    assert "union" in excinfo.value.message_dict
    assert User.objects.get(pk=user.pk).role == ""


def test_it_rejects_a_union_without_a_role(tree):
    user = UserFactory()
    with pytest.raises(ValidationError) as excinfo:
        user_set_role(user=user, role="", union=tree.xq_s01)
    assert "role" in excinfo.value.message_dict
    assert User.objects.get(pk=user.pk).union_id is None


def test_the_error_names_the_role_and_the_level_needed(tree):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as excinfo:
        user_set_role(user=UserFactory(), role=Role.TOWN_REVIEWER, union=tree.nh)
    assert excinfo.value.message_dict["union"] == ["镇审核人必须隶属于镇总工会。"]
    with translation.override("en"), pytest.raises(ValidationError) as excinfo:
        user_set_role(user=UserFactory(), role=Role.TOWN_REVIEWER, union=tree.nh)
    assert excinfo.value.message_dict["union"] == [
        "A Town reviewer must belong to a Town federation."
    ]


def test_the_database_refuses_a_role_without_a_union(db):
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(role=Role.CASEWORKER)


def test_the_database_refuses_a_union_without_a_role(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="orphan", union=tree.xq_s01)


@pytest.mark.parametrize(
    ("role", "union_name", "staff"),
    [
        (Role.CASEWORKER, "xq_s01", False),
        (Role.TOWN_REVIEWER, "xq", True),
        (Role.DISTRICT_OFFICER, "nh", True),
    ],
)
def test_it_puts_the_user_in_exactly_one_role_group(tree, role, union_name, staff):
    user = user_set_role(user=UserFactory(), role=role, union=getattr(tree, union_name))
    assert group_names(user) == {role_group_name(role)}
    assert User.objects.get(pk=user.pk).is_staff is staff


def test_changing_the_role_swaps_the_group_and_the_staff_flag(tree, people):
    alice = people.alice
    assert group_names(alice) == {"caseworkers"}

    user_set_role(user=alice, role=Role.TOWN_REVIEWER, union=tree.xq)
    assert group_names(alice) == {"town-reviewers"}
    assert User.objects.get(pk=alice.pk).is_staff is True

    user_set_role(user=alice, role=Role.CASEWORKER, union=tree.xq_e01)
    assert group_names(alice) == {"caseworkers"}
    assert User.objects.get(pk=alice.pk).is_staff is False


def test_taking_the_role_away_empties_the_role_groups(tree, people):
    user_set_role(user=people.carol, role="", union=None)
    carol = User.objects.get(pk=people.carol.pk)
    assert (carol.role, carol.union_id) == ("", None)
    assert group_names(carol) == set()
    assert carol.is_staff is False  # no role, no admin


def test_it_leaves_other_groups_alone(tree, people):
    auditors = Group.objects.create(name="auditors")
    people.alice.groups.add(auditors)
    user_set_role(user=people.alice, role=Role.TOWN_REVIEWER, union=tree.xq)
    assert group_names(people.alice) == {"auditors", "town-reviewers"}


def test_a_superuser_caseworker_stays_staff(tree):
    root = UserFactory(is_superuser=True, is_staff=True)
    user_set_role(user=root, role=Role.CASEWORKER, union=tree.xq_s01)
    assert User.objects.get(pk=root.pk).is_staff is True


def test_role_group_names_are_stable():
    assert {role_group_name(role) for role in Role} == ROLE_GROUPS
    assert role_group_name("town_reviewer") == "town-reviewers"
    with pytest.raises(ValueError):
        role_group_name("janitor")


def test_role_groups_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= ROLE_GROUPS


@pytest.mark.parametrize("group", ["town-reviewers", "district-officers"])
def test_reviewer_groups_may_view_unions(db, group):
    perms = Group.objects.get(name=group).permissions.values_list(
        "content_type__app_label", "codename"
    )
    assert ("unions", "view_union") in set(perms)


def test_caseworkers_get_no_union_admin_permission(db):
    perms = set(
        Group.objects.get(name="caseworkers").permissions.values_list("codename", flat=True)
    )
    assert not {p for p in perms if p.endswith("_union") or p.endswith("_user")}


def test_sync_role_groups_puts_a_removed_default_back_and_keeps_additions(db):
    group = Group.objects.get(name="town-reviewers")
    view_union = Permission.objects.get(content_type__app_label="unions", codename="view_union")
    view_user = Permission.objects.get(content_type__app_label="unions", codename="view_user")
    group.permissions.remove(view_union)
    group.permissions.add(view_user)  # an administrator's own addition

    sync_role_groups()

    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"view_union", "view_user"} <= codenames


def test_sync_role_groups_recreates_a_deleted_group(db):
    Group.objects.filter(name="district-officers").delete()
    sync_role_groups()
    assert Group.objects.filter(name="district-officers").exists()

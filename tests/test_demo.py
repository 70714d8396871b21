"""`manage.py load_demo`: the demo tree and one account per role per union, safe to rerun."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client

from tabular.tables import read_table
from unions.demo import DEMO_PASSWORD, UNIONS_FILE
from unions.importing import COLUMNS
from unions.models import Kind, Level, Role, Union, User
from unions.roles import role_group_name


def load_demo() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db):
    load_demo()


def counts():
    return (
        Union.objects.count(),
        User.objects.count(),
        {role: User.objects.filter(role=role).count() for role in Role},
    )


def test_it_is_idempotent_and_passwords_still_work(db):
    load_demo()
    first = counts()
    paths = dict(Union.objects.values_list("code", "path"))
    output = load_demo()

    assert counts() == first
    assert dict(Union.objects.values_list("code", "path")) == paths
    assert first[0] == 17
    assert first[1] == 18  # one per union plus the administrator
    for username in ["admin", "nh-officer", "xq-reviewer", "xq-s01", "jj-v01"]:
        assert sign_in(username, DEMO_PASSWORD), username
        assert username in output
    assert not sign_in("xq-s01", "wrong-password")


def sign_in(username: str, password: str) -> bool:
    # Sign-in throttling (django-axes) needs the request the sign-in page would pass.
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    return Client().login(request=request, username=username, password=password)


def test_a_rerun_repairs_a_changed_demo_account(demo):
    user = User.objects.get(username="xq-s01")
    user.set_password("changed-by-someone")
    user.full_name = "改过的名字"
    user.save()
    load_demo()
    assert sign_in("xq-s01", DEMO_PASSWORD)
    assert User.objects.get(username="xq-s01").full_name == "黄丽娟"


def test_every_town_has_a_grassroots_union_of_each_kind(demo):
    towns = Union.objects.filter(level=Level.TOWN)
    assert towns.count() >= 3
    for town in towns:
        kinds = set(town.children.filter(level=Level.GRASSROOTS).values_list("kind", flat=True))
        assert kinds == set(Kind.values), town.name


def test_one_caseworker_per_grassroots_union(demo):
    for union in Union.objects.filter(level=Level.GRASSROOTS):
        assert union.members.filter(role=Role.CASEWORKER).count() == 1, union.name
    assert User.objects.filter(role=Role.CASEWORKER).count() == (
        Union.objects.filter(level=Level.GRASSROOTS).count()
    )


def test_one_reviewer_per_town(demo):
    for union in Union.objects.filter(level=Level.TOWN):
        assert union.members.filter(role=Role.TOWN_REVIEWER).count() == 1, union.name
    assert User.objects.filter(role=Role.TOWN_REVIEWER).count() == (
        Union.objects.filter(level=Level.TOWN).count()
    )


def test_one_district_officer(demo):
    officers = User.objects.filter(role=Role.DISTRICT_OFFICER)
    assert officers.count() == 1
    assert officers.get().union.level == Level.DISTRICT


def test_demo_users_have_their_role_group_and_staff_flag(demo):
    for user in User.objects.exclude(role=""):
        assert set(user.groups.values_list("name", flat=True)) == {role_group_name(user.role)}
        assert user.is_staff is (user.role != Role.CASEWORKER)
        assert user.full_name
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert (admin.role, admin.union) == ("", None)


def test_the_demo_tree_has_consistent_paths(demo):
    for union in Union.objects.select_related("parent"):
        expected = (union.parent.path if union.parent else "") + f"{union.pk:08d}/"
        assert union.path == expected


def test_the_demo_file_has_xiqiao_under_nanhai_and_at_least_three_towns():
    assert UNIONS_FILE == settings.BASE_DIR / "fixtures" / "demo_unions.csv"
    table = read_table(UNIONS_FILE)
    assert table.headers == COLUMNS
    rows = {cells["代码"]: cells for _, cells in table.rows}
    by_name = {cells["名称"]: cells for cells in rows.values()}

    xiqiao = by_name["西樵镇总工会"]
    assert xiqiao["级别"] == "镇"
    parent = rows[xiqiao["上级代码"]]
    assert parent["名称"].endswith("南海区总工会")
    assert parent["级别"] == "区"
    assert sum(1 for cells in rows.values() if cells["级别"] == "镇") >= 3

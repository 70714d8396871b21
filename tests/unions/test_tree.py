import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from unions.models import Kind, Level, Union
from unions.selectors import union_subtree, unions_in_scope
from unions.services import union_create, union_update


def test_paths_nest_under_parents(tree):
    assert tree.xq.path.startswith(tree.nh.path)
    assert tree.xq_s01.path.startswith(tree.xq.path)
    assert not tree.dl_v01.path.startswith(tree.xq.path)


def test_subtree_of_a_town_is_its_grassroots_unions(tree):
    codes = set(union_subtree(tree.xq).values_list("code", flat=True))
    assert codes == {"XQ", "XQ-S01", "XQ-E01"}
    assert set(union_subtree(tree.xq, include_self=False).values_list("code", flat=True)) == {
        "XQ-S01",
        "XQ-E01",
    }


def test_subtree_query_is_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(union_subtree(tree.nh))


@pytest.mark.parametrize(
    ("level", "kind", "parent_name", "field"),
    [
        (Level.TOWN, "", None, "parent"),  # a town needs a parent
        (Level.TOWN, "", "xq", "parent"),  # a town's parent is a district
        (Level.GRASSROOTS, Kind.COMMUNITY, "nh", "parent"),  # grassroots under a town
        (Level.GRASSROOTS, "", "xq", "kind"),  # grassroots needs a kind
        (Level.TOWN, Kind.VILLAGE, "nh", "kind"),  # only grassroots have a kind
        (Level.DISTRICT, "", "nh", "parent"),  # the district is the root
    ],
)
def test_level_rules_are_enforced(tree, level, kind, parent_name, field):
    parent = getattr(tree, parent_name) if parent_name else None
    with pytest.raises(ValidationError) as excinfo:
        union_create(code="BAD", name="坏", level=level, kind=kind, parent=parent)
    assert field in excinfo.value.message_dict
    assert not Union.objects.filter(code="BAD").exists()


def test_database_refuses_a_parentless_town(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Union.objects.create(code="T9", name="孤镇", level=Level.TOWN, path="x/")


def test_moving_a_grassroots_union_moves_its_scope(tree, people):
    union_update(union=tree.xq_e01, parent=tree.dl)
    moved = Union.objects.get(code="XQ-E01")
    assert moved.path.startswith(tree.dl.path)
    assert moved not in unions_in_scope(people.carol)
    assert moved in unions_in_scope(people.dave)


def test_a_town_with_children_cannot_become_grassroots(tree):
    with pytest.raises(ValidationError):
        union_update(union=tree.xq, level=Level.GRASSROOTS, kind=Kind.COMMUNITY)


def test_scope_by_role(tree, people):
    assert set(unions_in_scope(people.alice)) == {tree.xq_s01}
    assert set(unions_in_scope(people.carol)) == {tree.xq, tree.xq_s01, tree.xq_e01}
    assert unions_in_scope(people.erin).count() == 6
    assert unions_in_scope(people.root).count() == 6

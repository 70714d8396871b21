"""The data a module builds once (tests/conftest.py: module_people, module_well_funded) is the
same at the start of every test: what a test writes is rolled back, and what it changes on
its Python objects stays with its own deep copy."""

import pytest

from relief.models import FundIncome, Worker
from tests.factories import WorkerFactory
from unions.models import User

pytestmark = pytest.mark.usefixtures("module_well_funded")


# Two runs, each checks a clean start and then changes things; whichever runs second fails
# if the first one's changes leaked (pytest-randomly may run them in either order).
@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_from_the_same_data(people, tree, well_funded, run):
    assert people.alice.full_name != "改过的名字"
    assert User.objects.get(pk=people.alice.pk).full_name != "改过的名字"
    assert not Worker.objects.filter(name="只在一个测试里").exists()
    assert people.alice.union == tree.xq_s01
    assert FundIncome.objects.filter(account__town=tree.xq).exists()  # funded once, for every test

    people.alice.full_name = "改过的名字"
    people.alice.save(update_fields=["full_name"])
    tree.xq_s01.name = "改过的工会"
    WorkerFactory(union=tree.xq_s01, name="只在一个测试里")
    assert tree.xq_s01.name == "改过的工会"


@pytest.mark.parametrize("run", [1, 2])
def test_the_python_objects_are_each_tests_own(tree, run):
    assert tree.xq_s01.name == "樵园社区工会"
    tree.xq_s01.name = "改过的工会"  # not saved: only the object

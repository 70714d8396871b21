"""What a search term finds (relief.search) and the capped count (relief.paging), issue 16."""

import pytest

from relief import search
from relief.models import Application, Worker
from relief.paging import CappedPaginator
from tests.factories import WorkerFactory, file_case, make_id_number


def test_terms_are_read_as_id_numbers_references_or_names():
    number = make_id_number(7)
    spaced = f" {number[:6]} {number[6:14]} {number[14:].lower()} "
    assert search.parse(spaced) == {"id": number}
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert search.parse(full_width) == {"id": number}
    assert search.parse(number[-6:]) == {"id_tail": number[-6:]}
    assert search.parse("1234") == {}  # four digits: too few to pick anyone out
    # A reference with digits is not a name, so the search is one index range on the
    # reference, not an OR across the case and the worker.
    assert search.parse("xq-2024") == {"reference": "XQ-2024"}
    assert search.parse("GC-2017-0541") == {"reference": "GC-2017-0541"}
    assert search.parse("xq") == {"reference": "XQ", "name": "xq"}
    assert search.parse("梁12明") == {"name": "梁12明"}  # the test factories' names
    assert search.parse("梁志明") == {"name": "梁志明"}


@pytest.fixture
def named(people):
    union = people.alice.union
    return {
        name: WorkerFactory(union=union, name=name, id_number=make_id_number(i + 1))
        for i, name in enumerate(["梁志明", "陈建华", "欧阳志明", "明亮"])
    }


def names(term):
    return set(search.search_workers(Worker.objects.all(), term).values_list("name", flat=True))


def test_names_match_anywhere_from_three_characters_at_the_edges_below(named):
    assert names("梁志明") == {"梁志明"}
    assert names("阳志明") == {"欧阳志明"}  # three characters in the middle of a name
    assert names("志明") == {"梁志明", "欧阳志明"}  # the end
    assert names("梁志") == {"梁志明"}  # the start
    assert names("阳志") == set()  # two characters inside a four-character name: not served
    assert names("明") == {"明亮"}  # one character: the surname
    assert names("陈") == {"陈建华"}


def test_an_id_number_matches_whole_or_by_its_last_digits_only(named):
    liang = named["梁志明"]
    assert names(liang.id_number) == {"梁志明"}
    assert names(liang.id_number.lower()) == {"梁志明"}
    assert names(liang.id_number[-6:]) == {"梁志明"}
    assert names(liang.id_number[6:14]) == set()  # the birth date from the middle: nothing
    wrong = liang.id_number[:-1] + ("0" if liang.id_number[-1] != "0" else "1")
    assert names(wrong) == set()


def test_cases_are_found_by_reference_prefix_and_by_their_worker(people, named):
    case = file_case(people.alice, worker=named["陈建华"])
    other = file_case(people.alice, worker=named["梁志明"])
    found = search.search_cases(Application.objects.all(), case.reference.lower())
    assert list(found) == [case]
    year_prefix = case.reference.rsplit("-", 1)[0]
    found = set(search.search_cases(Application.objects.all(), year_prefix))
    assert found == {case, other}
    found = search.search_cases(Application.objects.all(), named["梁志明"].id_number[-5:])
    assert list(found) == [other]
    assert not search.search_cases(Application.objects.all(), case.reference[1:]).exists()


def test_the_count_stops_at_the_cap_and_pages_stop_with_it(people):
    for _ in range(7):
        file_case(people.alice)
    paginator = CappedPaginator(Application.objects.order_by("-pk"), 2)
    paginator.cap = 5
    assert paginator.count == 5 and paginator.count.capped
    assert paginator.count.label() == "超过 5" or paginator.count.label() == "more than 5"
    assert paginator.num_pages == 3
    newest = list(Application.objects.order_by("-pk"))
    assert list(paginator.page(1).object_list) == newest[:2]
    assert list(paginator.page(3).object_list) == newest[4:5]  # the pages end at the cap
    exact = CappedPaginator(Application.objects.order_by("-pk"), 2)
    assert exact.count == 7 and not exact.count.capped and exact.count.label() == "7"
    assert list(exact.page(4).object_list) == newest[6:]

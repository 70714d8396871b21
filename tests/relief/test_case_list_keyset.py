"""The caseworker's case list pages by the last row's key, not by an OFFSET (issue 16).

`?after=<date>.<pk>` is the next (older) page, `?before=<date>.<pk>` the previous (newer) one
(relief.paging.keyset_page). Walking the links forward reads every case of the list once, in
the list's order, cases filed the same day included; walking back returns the same pages. The
filters and the search token ride along in the links; a cursor that is not one is ignored.
"""

import datetime as dt
import re
from html import unescape

import pytest
from django.urls import reverse

from relief.models import Application
from relief.paging import Cursor, parse_cursor
from tests.factories import category, file_case
from tests.searching import search

URL = reverse("relief:case_list")


def _rows(html: str) -> list[str]:
    return re.findall(r'<td class="ref"><a href="[^"]*">([^<]+)</a>', html)


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a class="button" href="([^"]*)" rel="{rel}">', html)
    return unescape(found.group(1)) if found else None


def _spread(cases, days):
    """File the cases on a few days, several on each (ties on the date)."""
    today = dt.date.today()
    for i, case in enumerate(cases):
        Application.objects.filter(pk=case.pk).update(
            application_date=today - dt.timedelta(days=days[i % len(days)])
        )


def _expected(user_union):
    return list(
        Application.objects.filter(union=user_union)
        .order_by("-application_date", "-pk")
        .values_list("reference", flat=True)
    )


def test_next_and_previous_links_walk_every_case_once_in_order(client, people, monkeypatch):
    monkeypatch.setattr("relief.views.cases.PAGE_SIZE", 4)
    cases = [file_case(people.alice) for _ in range(11)]
    _spread(cases, [0, 3, 3, 3, 9])  # three cases on one day straddle a page boundary
    client.force_login(people.alice)
    expected = _expected(people.alice.union)

    pages, url = [], URL
    while url:
        html = client.get(URL + url if url.startswith("?") else url).content.decode()
        pages.append(_rows(html))
        url = _link(html, "next")
    assert [ref for page in pages for ref in page] == expected
    assert [len(page) for page in pages] == [4, 4, 3]
    assert "?after=" in _link(client.get(URL).content.decode(), "next")

    # Back from the last page: the same pages, and the first has no "previous" link.
    html = client.get(URL + _link(client.get(URL).content.decode(), "next")).content.decode()
    html = client.get(URL + _link(html, "next")).content.decode()
    back = []
    while True:
        back.append(_rows(html))
        previous = _link(html, "prev")
        if not previous:
            break
        html = client.get(URL + previous).content.decode()
    assert back[::-1] == pages
    second = client.get(URL + _link(client.get(URL).content.decode(), "next")).content.decode()
    assert '<a class="first-page" href="?">' in second


def test_the_links_keep_the_filters_and_the_search(client, people, monkeypatch):
    monkeypatch.setattr("relief.views.cases.PAGE_SIZE", 2)
    for _ in range(5):
        file_case(people.alice)
    other = file_case(people.alice)
    client.force_login(people.alice)
    html = client.get(URL, {"state": "draft", "year": dt.date.today().year}).content.decode()
    nxt = _link(html, "next")
    assert "state=draft" in nxt and f"year={dt.date.today().year}" in nxt and "after=" in nxt

    response = search(client, URL, other.worker.name[:1])
    token = re.search(r"s=([\w-]+)", response.request["QUERY_STRING"]).group(1)
    nxt = _link(response.content.decode(), "next")
    if nxt:  # several workers may share the surname: the token stays in the link
        assert f"s={token}" in nxt


@pytest.mark.parametrize(
    "value",
    [
        "x",
        "",
        "2024-02-30.5",
        "2024-13-01.5",
        "0000-01-01.1",
        "2024-01-01.0",
        "2024-01-01.-1",
        "2024-01-01.1 OR 1=1",
        "2024-01-01",
        "１２３４-01-01.1",
        "2024-01-01.1" * 10,
        "2024-01-01.1\x00",
    ],
)
def test_a_cursor_that_is_not_one_is_ignored(client, people, value):
    mine = file_case(people.alice)
    client.force_login(people.alice)
    for name in ("after", "before"):
        response = client.get(URL, {name: value})
        assert response.status_code == 200
        assert _rows(response.content.decode()) == [mine.reference]
    assert parse_cursor(value) is None


def test_a_cursor_from_another_union_shows_only_ones_own_cases(client, people):
    mine = file_case(people.alice)
    theirs = file_case(people.bob)
    Application.objects.filter(pk=mine.pk).update(application_date=dt.date(2020, 1, 1))
    client.force_login(people.alice)
    html = client.get(URL, {"after": f"{dt.date.today().isoformat()}.{theirs.pk + 1}"})
    assert _rows(html.content.decode()) == [mine.reference]


def test_past_the_end_a_page_says_so_and_leads_back(client, people):
    file_case(people.alice)
    client.force_login(people.alice)
    html = client.get(URL, {"after": "2000-01-01.1"}).content.decode()
    assert _rows(html) == []
    assert "没有更多案件" in html or "No more cases" in html
    assert 'href="?"' in html


def test_the_first_page_counts_up_to_a_cap(client, people, monkeypatch):
    for _ in range(4):
        file_case(people.alice)
    client.force_login(people.alice)
    monkeypatch.setattr("relief.views.cases.PAGE_SIZE", 2)

    def count_line(**query):
        html = client.get(URL, query).content.decode()
        return re.search(r'aria-live="polite">([^<]*)', html)[1]

    assert "4" in count_line()
    monkeypatch.setattr("relief.views.cases.LIST_COUNT_CAP", 3)
    # (In Chinese once the merge compiles the catalogue.)
    assert count_line() in ("More than 3 cases", "超过 3 件")
    assert "4" in count_line(category=category("重大疾病").pk)
    monkeypatch.setattr("relief.views.cases.LIST_COUNT_CAP_BY_CATEGORY", 2)
    assert count_line(category=category("重大疾病").pk) in ("More than 2 cases", "超过 2 件")
    # A later page names its dates instead of counting.
    after = _link(client.get(URL).content.decode(), "next").split("after=")[1]
    assert count_line(after=after).startswith(("Filed", "申请日期"))


def test_cursor_round_trip():
    cursor = Cursor(dt.date(2024, 2, 29), 123)
    assert str(cursor) == "2024-02-29.123"
    assert parse_cursor(str(cursor)) == cursor
    assert parse_cursor(None) is None
    assert parse_cursor(["2024-02-29.1"]) is None
    # Numbers past a bigint (not requested above: 15+ digits in an address look like an ID
    # number to the test suite's guard).
    assert parse_cursor("2024-01-01.9223372036854775808") is None
    assert parse_cursor("2024-01-01.99999999999999999999") is None
    assert parse_cursor("2024-01-01.9223372036854775807") is None  # 19 digits: never a pk here

"""No ID numbers in addresses (issue 10): searches are POSTed and reach the list as ?s=<token>.

Every request here is also checked by the suite-wide guard (tests/conftest.py): a test that put
an ID number in a URL would fail even without its own assertions.
"""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib import admin
from django.urls import reverse

from relief import search_tokens
from relief.admin_search import SEARCH_MARKER, TokenSearchMixin
from tests.factories import WorkerFactory, file_case
from tests.searching import admin_search, search

CASES = reverse("relief:case_list")
WORKERS = reverse("admin:relief_worker_changelist")
APPLICATIONS = reverse("admin:relief_application_changelist")
ID_PATTERN = re.compile(r"[0-9]{17}[0-9Xx]")
EXPIRED = "此搜索已过期"
REFUSED = "按身份证号搜索只能通过搜索框"


def body_of(response) -> bytes:
    """The body, whether sent whole or streamed (the admin's exports stream)."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def refs(response) -> set[str]:
    return set(re.findall(r"[A-Z]{2}-\d{4}-\d{4}", body_of(response).decode("utf-8-sig")))


def query_of(url: str) -> dict:
    return parse_qs(urlsplit(url).query)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def two_cases(people):
    mine = file_case(people.alice)
    other = file_case(people.alice)
    return mine, other


# --- the caseworkers' case list -----------------------------------------------------------


def test_a_full_id_number_is_posted_and_the_address_holds_only_a_token(client, people, two_cases):
    mine, _other = two_cases
    client.force_login(people.alice)
    response = client.post(CASES, {"q": mine.worker.id_number, "state": "draft"})
    assert response.status_code == 303
    location = response["Location"]
    assert not ID_PATTERN.search(location)
    query = query_of(location)
    assert set(query) == {"s", "state"} and query["state"] == ["draft"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{8}", query["s"][0])
    listed = client.get(location)
    assert refs(listed) == {mine.reference}
    # The term is shown back in the box (the page body, not the address).
    assert f'value="{mine.worker.id_number}"' in listed.content.decode()


def test_name_and_reference_searches_work_as_before(client, people, two_cases):
    mine, other = two_cases
    client.force_login(people.alice)
    assert refs(search(client, CASES, mine.worker.name)) == {mine.reference}
    assert refs(search(client, CASES, other.reference)) == {other.reference}
    # The last five: four digits and the check character (an X alone is no ID fragment).
    assert refs(search(client, CASES, mine.worker.id_number[-5:])) == {mine.reference}
    # A name in an old address (no ID number in it) still works.
    assert refs(client.get(CASES, {"q": other.worker.name})) == {other.reference}


def test_an_empty_search_keeps_only_the_filters(client, people, two_cases):
    client.force_login(people.alice)
    response = client.post(CASES, {"q": "  ", "state": "submitted", "year": ""})
    assert response.status_code == 303 and response["Location"] == f"{CASES}?state=submitted"


def test_pagination_and_filters_keep_the_token(client, people):
    for _ in range(23):
        file_case(people.alice)
    client.force_login(people.alice)
    first = search(client, CASES, "XQ-")
    html = first.content.decode()
    token = query_of(first.wsgi_request.get_full_path())["s"][0]
    assert "共 23 件" in html
    # The keyset link (relief.paging) keeps the token beside the last row's key.
    after = re.search(rf'href="\?s={token}&amp;after=([^"&]+)" rel="next"', html).group(1)
    second = client.get(CASES, {"s": token, "after": after})
    assert len(re.findall(r'<td class="ref">', second.content.decode())) == 3
    assert f'class="first-page" href="?s={token}"' in second.content.decode()


def test_a_token_of_another_session_or_user_finds_nothing(client, people, two_cases):
    from django.test import Client

    mine, _other = two_cases
    client.force_login(people.alice)
    location = client.post(CASES, {"q": mine.worker.id_number})["Location"]
    for user in (people.alice, people.bob):  # the same user signed in elsewhere, and another
        other_client = Client()
        other_client.force_login(user)
        response = other_client.get(location)
        assert response.status_code == 303
        assert "s=" not in response["Location"]
        listed = other_client.get(response["Location"])
        assert EXPIRED in messages_of(listed)
        assert mine.worker.id_number not in listed.content.decode()


def test_an_expired_token_gives_the_list_without_the_search_and_says_so(
    client, people, two_cases, monkeypatch
):
    mine, other = two_cases
    client.force_login(people.alice)
    location = client.post(CASES, {"q": mine.worker.name, "state": "draft"})["Location"]
    assert refs(client.get(location)) == {mine.reference}  # a use keeps it alive
    now = search_tokens._now()
    monkeypatch.setattr(search_tokens, "_now", lambda: now + search_tokens.MAX_AGE - 5)
    assert refs(client.get(location)) == {mine.reference}
    later = now + 2 * search_tokens.MAX_AGE
    monkeypatch.setattr(search_tokens, "_now", lambda: later)
    response = client.get(location)
    assert response.status_code == 303
    assert response["Location"] == f"{CASES}?state=draft"  # the filters stay
    listed = client.get(response["Location"])
    assert EXPIRED in messages_of(listed)
    assert refs(listed) == {mine.reference, other.reference}
    assert "search_tokens" in client.session and not client.session["search_tokens"]


def test_a_token_is_good_only_for_the_list_it_was_made_for(client, people, two_cases):
    mine, _other = two_cases
    client.force_login(people.erin)
    token = query_of(admin_search(client, WORKERS, mine.worker.name).wsgi_request.get_full_path())
    response = client.get(APPLICATIONS, {"s": token["s"][0]})
    assert response.status_code == 303
    assert EXPIRED in messages_of(client.get(response["Location"]))


@pytest.mark.id_in_url
def test_an_old_address_with_an_id_number_is_refused(client, people, two_cases):
    mine, _other = two_cases
    client.force_login(people.alice)
    for number in (mine.worker.id_number, mine.worker.id_number.replace("", " ").strip()):
        response = client.get(CASES, {"q": number, "state": "draft"})
        assert response.status_code == 303
        assert response["Location"] == f"{CASES}?state=draft"
        listed = client.get(response["Location"])
        assert REFUSED in messages_of(listed)


def test_the_search_form_posts_with_csrf_and_the_session_stays_bounded(client, people):
    client.force_login(people.alice)
    html = client.get(CASES).content.decode()
    form = re.search(r'<form method="post" action="/cases/"[^>]*role="search">', html)
    assert form and 'name="csrfmiddlewaretoken"' in html
    tokens = [
        query_of(client.post(CASES, {"q": f"第{i}次"})["Location"])["s"][0]
        for i in range(search_tokens.MAX_TOKENS + 5)
    ]
    kept = client.session["search_tokens"]
    assert len(kept) == search_tokens.MAX_TOKENS
    assert tokens[-1] in kept and tokens[0] not in kept
    # The same search again reuses its token.
    again = query_of(client.post(CASES, {"q": f"第{search_tokens.MAX_TOKENS + 4}次"})["Location"])
    assert again["s"][0] == tokens[-1]


def test_searching_needs_csrf(people):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.alice)
    assert strict.post(CASES, {"q": "梁"}).status_code == 403


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("440605197208161996", True),
        ("44060519720816199x", True),
        ("440605 19720816 1996", True),
        ("4406-0519-7208-1619-96", True),
        ("440605197208161", True),  # an old 15-digit number
        ("44060519720816", False),  # 14 digits: a fragment the case search allows
        ("梁志明", False),
        ("XQ-2024-0007", False),
        ("", False),
        (None, False),
    ],
)
def test_what_counts_as_an_id_number(text, expected):
    assert search_tokens.looks_like_id_number(text) is expected


# --- the admin ----------------------------------------------------------------------------


def test_admin_search_by_full_id_number_posts_and_keeps_django_features(client, people):
    liang = WorkerFactory(union=people.alice.union, name="梁志明")
    WorkerFactory(union=people.alice.union, name="陈建华")
    client.force_login(people.erin)
    page = client.get(WORKERS)
    html = page.content.decode()
    assert re.search(r'<form id="changelist-search" method="post" role="search">', html)
    response = client.post(
        WORKERS,
        {SEARCH_MARKER: "1", "q": liang.id_number, "o": "1", "realname_verified__exact": "0"},
    )
    assert response.status_code == 303
    location = response["Location"]
    assert not ID_PATTERN.search(location)
    assert set(query_of(location)) == {"s", "o", "realname_verified__exact"}
    listed = client.get(location)
    cl = listed.context["cl"]
    assert [w.pk for w in cl.result_list] == [liang.pk]
    assert cl.query == liang.id_number  # shown back in the box
    body = listed.content.decode()
    assert f'value="{liang.id_number}"' in body
    # "1 result (show all)": no full count of the unfiltered list (issue 16: it reads the
    # whole table on every page).
    assert "1 条结果" in body and "总共" not in body and "显示全部" in body
    token = query_of(location)["s"][0]
    # Sorting, filter and the "clear" links keep the token; none holds the number.
    links = re.findall(r'href="(\?[^"]*)"', body)
    assert links and all(not ID_PATTERN.search(link) for link in links)
    assert any(f"s={token}" in link and "o=" in link for link in links)
    assert any(f"s={token}" in link and "realname_verified__exact=1" in link for link in links)
    # The hidden inputs of the box carry the filters, never the token or the term.
    hidden = re.findall(r'<input type="hidden" name="([^"]+)"', body)
    assert "s" not in hidden and "q" not in hidden and "o" in hidden


def test_admin_name_search_and_out_of_scope_id_search(client, people):
    theirs = WorkerFactory(union=people.bob.union, name="陆家明")
    mine = WorkerFactory(union=people.alice.union, name="梁志明")
    client.force_login(people.carol)
    assert [w.pk for w in admin_search(client, WORKERS, "梁志明").context["cl"].result_list] == [
        mine.pk
    ]
    # A worker outside the reviewer's town is not found by the number either.
    assert list(admin_search(client, WORKERS, theirs.id_number).context["cl"].result_list) == []


def test_an_admin_action_over_all_matching_rows_takes_the_searched_ones(client, people):
    mine = file_case(people.alice)
    file_case(people.alice)
    client.force_login(people.erin)
    location = client.post(APPLICATIONS, {SEARCH_MARKER: "1", "q": mine.worker.id_number})[
        "Location"
    ]
    response = client.post(
        location,
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": mine.pk},
    )
    assert response.status_code == 200
    body = body_of(response).decode("utf-8-sig")
    assert mine.worker.name in body and len(body.strip().splitlines()) == 2


def test_an_admin_action_with_an_expired_token_does_nothing(client, people, monkeypatch):
    mine = file_case(people.alice)
    client.force_login(people.erin)
    location = client.post(APPLICATIONS, {SEARCH_MARKER: "1", "q": mine.worker.name})["Location"]
    later = search_tokens._now() + 2 * search_tokens.MAX_AGE
    monkeypatch.setattr(search_tokens, "_now", lambda: later)
    response = client.post(
        location,
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": mine.pk},
    )
    assert response.status_code == 303 and "s=" not in response["Location"]


def test_the_admin_export_page_exports_the_searched_rows(client, people):
    mine = file_case(people.alice)
    other = file_case(people.alice)
    client.force_login(people.erin)
    listed = admin_search(client, APPLICATIONS, mine.worker.id_number)
    export = re.search(
        r'href="(/admin/relief/application/export/\?s=[^"]+)"', listed.content.decode()
    )
    assert export, "the export link keeps the search token"
    page = client.get(export.group(1)).content.decode()
    formats = {
        label.strip().lower(): value
        for value, label in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page)
    }
    response = client.post(export.group(1), {"resource": "0", "format": formats["csv"]})
    assert response.status_code == 200
    body = body_of(response).decode("utf-8-sig")
    assert mine.worker.name in body and other.worker.name not in body


@pytest.mark.id_in_url
def test_an_old_admin_address_with_an_id_number_is_refused(client, people):
    worker = WorkerFactory(union=people.alice.union)
    client.force_login(people.erin)
    for url in (WORKERS, APPLICATIONS):
        response = client.get(url, {"q": worker.id_number, "o": "1"})
        assert response.status_code == 303 and response["Location"] == f"{url}?o=1"
        assert REFUSED in messages_of(client.get(response["Location"]))
    # A name in an old admin address (no number) still works.
    listed = client.get(WORKERS, {"q": worker.name})
    assert [w.pk for w in listed.context["cl"].result_list] == [worker.pk]


def test_an_expired_admin_token_shows_the_list_and_says_so(client, people, monkeypatch):
    worker = WorkerFactory(union=people.alice.union)
    client.force_login(people.erin)
    location = client.post(WORKERS, {SEARCH_MARKER: "1", "q": worker.name, "o": "1"})["Location"]
    later = search_tokens._now() + 2 * search_tokens.MAX_AGE
    monkeypatch.setattr(search_tokens, "_now", lambda: later)
    response = client.get(location)
    assert response.status_code == 303 and response["Location"] == f"{WORKERS}?o=1"
    assert EXPIRED in messages_of(client.get(response["Location"]))


def test_the_admin_search_post_needs_the_view_permission(client, people):
    client.force_login(people.alice)  # a caseworker: no admin list of workers
    response = client.post(WORKERS, {SEARCH_MARKER: "1", "q": "梁"})
    assert response.status_code in (302, 403)
    assert "search_tokens" not in client.session


def test_every_admin_takes_the_posted_search():
    """A new admin without the mixin would show a search box whose POST does nothing."""
    missing = [
        type(model_admin).__qualname__
        for model_admin in admin.site._registry.values()
        if not isinstance(model_admin, TokenSearchMixin)
        and (
            model_admin.search_fields
            or type(model_admin).__module__.startswith(("relief", "unions"))
        )
    ]
    assert missing == []


# --- autocomplete -------------------------------------------------------------------------


def autocomplete(client, term, field="worker", model="application"):
    return client.get(
        reverse("admin:autocomplete"),
        {"app_label": "relief", "model_name": model, "field_name": field, "term": term},
    )


@pytest.mark.id_in_url
def test_no_autocomplete_searches_by_id_number(client, people):
    worker = WorkerFactory(union=people.alice.union, name="梁志明")
    client.force_login(people.erin)
    found = autocomplete(client, "梁志明")
    assert found.status_code == 200
    assert [r["id"] for r in found.json()["results"]] == [str(worker.pk)]
    for term in (worker.id_number, worker.id_number[:15], worker.id_number[-6:]):
        response = autocomplete(client, term)
        assert response.status_code == 200
        assert response.json()["results"] == []

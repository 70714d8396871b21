"""The case list's table built a row at a time (relief.admin.result_table, issue 16): the same
cells as Django's items_for_result, the same links, checkboxes and masking, a fixed number of
queries, and Django's own table whenever a column is not one it can build."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from relief.admin.result_table import NotFast, fast_rows
from relief.models import Application
from tests.factories import WorkerFactory, case_in_state, file_case

LIST = reverse("admin:relief_application_changelist")


@pytest.fixture(autouse=True)
def _restore_language():
    # A request in English leaves English active in this thread; later tests expect the default.
    language = translation.get_language()
    yield
    translation.activate(language)


@pytest.fixture
def cases(people):
    """Cases in several states and unions: amounts set and not, one and two categories, none,
    and a worker whose name needs escaping."""
    odd = WorkerFactory(union=people.alice.union, name='<b>梁&"明</b>')
    made = {
        "draft": file_case(people.alice, odd, amount="9876.50"),
        "two": file_case(people.alice, categories=("重大疾病", "意外伤害")),
        "approved": case_in_state(
            "approved", caseworker=people.alice, reviewer=people.carol, officer=people.erin
        ),
        "recommended": case_in_state(
            "recommended", caseworker=people.alice, reviewer=people.carol, officer=people.erin
        ),
        "dl": case_in_state(
            "submitted", caseworker=people.bob, reviewer=people.dave, officer=people.erin
        ),
    }
    none = file_case(people.alice)
    none.categories.clear()
    made["none"] = none
    return made


def _django_rows(cl) -> list[str]:
    return ["".join(admin_list.items_for_result(cl, result, None)) for result in cl.result_list]


def _get(client, params=None, language="zh-hans"):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(LIST, params or {})
    assert response.status_code == 200
    return response


def _rows_in(html: str) -> list[str]:
    body = html[html.index('<table id="result_list">') :]
    body = body[body.index("<tbody>") + 7 : body.index("</tbody>")]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


@pytest.mark.parametrize("user", ["carol", "erin"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"o": "-3.2"},  # sorted by two columns
        {"state__exact": "approved", "q": ""},
        {"_popup": "1", "_to_field": "id"},  # a pop-up: no checkboxes, the key for the opener
    ],
)
def test_the_rows_are_djangos_cell_for_cell(client, people, cases, user, language, params):
    client.force_login(getattr(people, user))
    response = _get(client, params, language)
    cl = response.context["cl"]
    assert len(cl.result_list) > 0
    with translation.override(language):
        expected = _django_rows(cl)
        assert fast_rows(cl) == expected
    # And the page shows them (the row as a whole, not escaped again).
    assert _rows_in(response.content.decode()) == expected


@pytest.mark.parametrize("grouping", [True, False])
def test_amounts_are_formatted_as_django_formats_them(client, people, cases, settings, grouping):
    settings.USE_THOUSAND_SEPARATOR = grouping
    client.force_login(people.carol)
    response = _get(client, language="en")
    cl = response.context["cl"]
    with translation.override("en"):
        assert fast_rows(cl) == _django_rows(cl)
    html = response.content.decode()
    assert ("9,876.50" in html) is grouping
    assert ("9876.50" in html) is not grouping


def test_the_rows_show_the_case_masked_linked_and_selectable(client, people, cases):
    client.force_login(people.carol)
    response = _get(client, {"state__exact": "draft"})
    html = response.content.decode()
    rows = _rows_in(html)
    draft = cases["draft"]
    (row,) = [r for r in rows if draft.reference in r]
    # The checkbox actions.js selects, with the case's key; the select-all box in the header.
    assert (
        f'<input type="checkbox" name="_selected_action" value="{draft.pk}" class="action-select"'
        in row
    )
    assert 'id="action-toggle"' in html
    # The reference links to the case page, keeping the list's filter for the way back.
    link = re.search(r'<th class="field-reference"><a href="([^"]+)">([^<]+)</a></th>', row)
    assert link is not None
    url = unescape(link.group(1))
    assert url.startswith(reverse("admin:relief_application_change", args=[draft.pk]))
    assert "_changelist_filters=state__exact%3Ddraft" in url
    assert link.group(2) == draft.reference
    # The ID number masked, the name escaped, the state as its badge, the amount and the empty
    # amounts as Django shows them.
    worker = draft.worker
    assert worker.id_number not in html
    assert (
        '<td class="field-worker_name">&lt;b&gt;梁&amp;&quot;明&lt;/b&gt;'
        f'<span class="list-id">{worker.masked_id_number}</span></td>'
    ) in row
    assert '<td class="field-state_badge"><span class="state state-draft">' in row
    assert '<td class="field-requested_amount">9876.50</td>' in row
    assert '<td class="field-approved_amount">-</td>' in row
    assert f'<td class="field-union nowrap">{draft.union.name}</td>' in row
    assert '<td class="field-category_names">重大疾病</td>' in row
    (none_row,) = [r for r in rows if cases["none"].reference in r]
    assert '<td class="field-category_names">-</td>' in none_row
    (two_row,) = [r for r in _rows_in(_get(client).content.decode()) if cases["two"].reference in r]
    assert '<td class="field-category_names">重大疾病、意外伤害</td>' in two_row


def test_the_sorting_links_stay(client, people, cases):
    client.force_login(people.carol)
    html = _get(client, {"o": "3"}).content.decode()
    head = html[html.index("<thead>") : html.index("</thead>")]
    assert 'class="sortable column-reference"' in head
    assert 'class="sortable column-state_badge sorted ascending"' in head
    assert 'href="?o=-3" class="toggle ascending"' in head  # toggles the sort
    assert 'href="?o=1.3"' in head  # sorts by the reference first, then the state
    rows = _get(client, {"o": "-1"}).context["cl"].result_list
    assert [r.reference for r in rows] == sorted((r.reference for r in rows), reverse=True)


def test_the_selected_rows_go_to_the_action(client, people, cases):
    """What actions.js posts (the checked boxes and the action) reaches the admin's action."""
    client.force_login(people.erin)
    html = _get(client).content.decode()
    approved = cases["approved"]
    assert f'value="{approved.pk}" class="action-select"' in html
    response = client.post(
        LIST, {"action": "export_csv", "_selected_action": [approved.pk], "index": 0}
    )
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 2, lines  # the header and the one case checked
    assert approved.worker.name in lines[1]


def test_the_list_does_not_render_cells_through_django(client, people, cases, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("items_for_result called")

    monkeypatch.setattr(admin_list, "items_for_result", refuse)
    for user in (people.carol, people.erin):
        client.force_login(user)
        response = _get(client)
        rows = _rows_in(response.content.decode())
        assert len(rows) == len(response.context["cl"].result_list) > 0


def test_the_list_asks_as_many_queries_for_more_rows(client, people):
    client.force_login(people.carol)
    file_case(people.alice)
    client.get(LIST)  # warm
    with CaptureQueriesContext(connection) as few:
        _get(client)
    for i in range(8):
        worker = WorkerFactory(union=people.alice.union)
        file_case(people.alice, worker, categories=("重大疾病", "意外伤害"), amount=f"{100 + i}.00")
    with CaptureQueriesContext(connection) as many:
        response = _get(client)
    assert len(response.context["cl"].result_list) == 9
    assert len(many.captured_queries) == len(few.captured_queries)


def test_a_column_it_cannot_build_leaves_the_table_to_django(client, people, cases, monkeypatch):
    model_admin = admin.site._registry[Application]
    monkeypatch.setattr(model_admin, "list_display", [*model_admin.list_display, "__str__"])
    client.force_login(people.carol)
    response = _get(client)
    cl = response.context["cl"]
    with pytest.raises(NotFast):
        fast_rows(cl)
    assert _rows_in(response.content.decode()) == _django_rows(cl)

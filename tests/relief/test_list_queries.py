"""The lists read only the columns they show and a fixed number of queries; the admin's case
page a fixed number whatever the length of the case's history (issue 16)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relief.models import Application, AuditEntry
from tests.factories import file_case
from tests.relief.inline_rows import long_history


def _queries(client, url):
    client.get(url)  # warm: the session, the caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


HISTORIES = (
    "home_visits",
    "attachments",
    "review_decisions",
    "advances",
    "advance_shortfalls",
    "disbursements",
    "follow_ups",
    "notice_items",
)


def test_the_admin_case_page_runs_as_many_queries_for_a_long_history(client, people):
    """1 row or 15 in every history (and the timeline): the same queries. The histories are
    tables read once each (relief.admin.read_only_tables), not inline formsets."""
    short = long_history(file_case(people.alice), people, 1)
    long = long_history(file_case(people.alice), people, 15)
    client.force_login(people.carol)
    counts = [
        len(_queries(client, reverse("admin:relief_application_change", args=[case.pk])))
        for case in (short, long)
    ]
    assert counts[0] == counts[1], counts
    html = client.get(reverse("admin:relief_application_change", args=[long.pk])).content
    for prefix in HISTORIES:  # each table shows its 15 rows (attachments: 30, photos too)
        assert f'id="{prefix}-14"'.encode() in html, prefix


def test_lists_read_no_narrative_card_or_health(client, people):
    for _ in range(3):
        file_case(people.alice)
    pages = [
        (people.alice, reverse("relief:case_list")),
        (people.carol, reverse("admin:relief_application_changelist")),
        (people.erin, reverse("admin:relief_application_changelist")),
        (people.erin, reverse("admin:relief_worker_changelist")),
    ]
    for user, url in pages:
        client.force_login(user)
        sql = " ".join(_queries(client, url))
        for column in ("narrative", "bank_card", "payout_card", "health", '"notes"'):
            assert column not in sql, (url, column)
        # No full count of the unfiltered list, no date hierarchy, no distinct filter values.
        assert "DISTINCT" not in sql.upper(), url


def test_the_admin_list_runs_as_many_queries_for_many_cases(client, people):
    client.force_login(people.erin)
    url = reverse("admin:relief_application_changelist")
    file_case(people.alice)
    _queries(client, url)  # warm: what a process caches once (content types, lookups) aside
    few = len(_queries(client, url))
    for _ in range(12):
        file_case(people.alice)
        file_case(people.bob)
    assert len(_queries(client, url)) == few


def test_the_admin_list_asks_the_same_queries_whether_it_pages_or_not(client, people, monkeypatch):
    """A list of fewer rows than a page and one of more ask the same queries: the first page
    comes with its capped count in one (relief.paging.CappedPaginator)."""
    from django.contrib import admin

    monkeypatch.setattr(admin.site._registry[Application], "list_per_page", 3)
    client.force_login(people.erin)
    url = reverse("admin:relief_application_changelist")
    file_case(people.alice)
    _queries(client, url)  # warm
    one_page = _queries(client, url)
    for _ in range(5):
        file_case(people.bob)
    paged = _queries(client, url)
    assert len(paged) == len(one_page), (one_page, paged)
    response = client.get(url)
    cl = response.context["cl"]
    assert (cl.result_count, cl.multi_page, len(cl.result_list)) == (6, True, 3)
    counted = [sql for sql in paged if "(SELECT COUNT(*) FROM (SELECT" in sql]
    assert len(counted) == 1 and counted[0].startswith('SELECT "relief_application"'), counted
    # The second page: its keys, then its rows.
    second = client.get(url, {"p": 2})
    assert len(second.context["cl"].result_list) == 3


def test_the_admin_case_page_shows_its_trail_read_in_one_query(client, people):
    case = file_case(people.alice)
    for i in range(3):
        AuditEntry.objects.create(
            application=case, actor=people.carol, action="update", comment=f"补充\n第 {i} 次"
        )
    client.force_login(people.carol)
    queries = _queries(client, reverse("admin:relief_application_change", args=[case.pk]))
    assert len([sql for sql in queries if "relief_auditentry" in sql]) == 1
    html = client.get(reverse("admin:relief_application_change", args=[case.pk])).content.decode()
    timeline = html[html.index('data-testid="admin-timeline"') :]
    assert timeline.count("<tr class=") == case.audit_entries.count() == 4
    for label in ("办理过程", "时间", "操作人", "原状态", "新状态", "意见", "来源"):
        assert label in timeline, label
    assert people.carol.full_name in timeline
    assert "补充<br>第 2 次" in timeline


def test_the_case_page_links_to_a_user_only_for_whom_may_open_the_user_admin(client, people):
    """Who filed the case, uploaded a file, granted an advance or recorded a payout: a name for
    the reviewer (the user admin is a superuser's), a link to the user's page for a superuser."""
    case = long_history(file_case(people.alice), people, 2)
    url = reverse("admin:relief_application_change", args=[case.pk])
    user_pages = b"/admin/unions/user/"
    client.force_login(people.carol)
    html = client.get(url).content
    assert user_pages not in html
    assert str(people.alice).encode() in html  # filed by, still named
    client.force_login(people.root)
    html = client.get(url).content
    assert user_pages in html

"""No list, search or case page reads a large table from end to end (issue 16).

PostgreSQL only. The test fills the database with SQL (generate_series) up to a size where the
planner prefers indexes where they exist: 100,000 workers, 32,000 cases filed day by day over
ten years in 300 grassroots unions (one union holding 6,000 of them), 25,640 payouts and
128,150 audit entries, one case with 150 audit entries and 40 payouts; then VACUUM ANALYZE. It
requests every page a caseworker, a town reviewer and a district officer use to find cases, with
the test client, captures each page's queries and runs each SELECT under EXPLAIN (FORMAT JSON):
a sequential scan of workers, cases, their categories, payouts or the audit trail fails the test.

With SCALE_PLANS_REPORT=<file> it also times each page (median of 5) and writes a table of
query count, median time and the seq scans found (bench figures for the README's issue 16
notes); with SCALE_PLANS_REPORT_ONLY=1 it reports without failing (to measure old code).

Payouts are loaded with the payout triggers off for the load only (session_replication_role):
this fills a data set for query plans, not a ledger (the generator in bench/ keeps the triggers).
"""

import json
import os
import statistics
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relief.models import Application, HardshipCategory, Policy, Worker
from tests.searching import admin_search, search

pytestmark = pytest.mark.postgres

LARGE = {
    "relief_worker",
    "relief_application",
    "relief_application_categories",
    "relief_disbursement",
    "relief_auditentry",
}
WORKERS = 100_000
CASES = 32_000
ALICE_CASES = 6_000  # the biggest grassroots union, as in the scale notes' skew

STATES = [
    "draft",
    "submitted",
    "returned",
    "verified",
    "recommended",
    "approved",
    "disbursed",
    "closed",
    "rejected",
    "withdrawn",
]


def _fill(people, tree):
    with transaction.atomic():  # for SET LOCAL
        long_case = _insert(people, tree)
    # VACUUM as autovacuum would on a real database: the visibility map it sets is what makes
    # an index-only walk cheap to the planner. Without it every index-only scan is costed as a
    # heap visit per row, and the test judged plans that no vacuumed database would choose.
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return long_case


def _insert(people, tree):
    policy = Policy.objects.order_by("pk").first()
    cats = list(HardshipCategory.objects.order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO unions_union (code, name, level, kind, parent_id, is_active, phone, path)
            SELECT 'G' || g, '第' || g || '基层工会', 'grassroots', 'enterprise',
                   CASE WHEN g <= 200 THEN %s ELSE %s END, true, '', 'tmp' || g
            FROM generate_series(1, 300) g;
            UPDATE unions_union u SET path = p.path || lpad(u.id::text, 8, '0') || '/'
            FROM unions_union p WHERE u.parent_id = p.id AND u.path LIKE 'tmp%%';
            """,
            [tree.xq.pk, tree.dl.pk],
        )
        cur.execute("SELECT array_agg(id ORDER BY id) FROM unions_union WHERE code LIKE 'G%%'")
        others = cur.fetchone()[0]
        # Workers: the first ALICE_CASES in alice's union, the rest spread over the others.
        cur.execute(
            """
            INSERT INTO relief_worker (name, id_number, phone, employer, union_id, address, hukou,
                health, realname_verified, bank_name, bank_branch, bank_card, notes,
                created_at, updated_at)
            SELECT chr((19968 + (g::bigint * 7919) %% 20000)::int)
                       || chr((19968 + (g::bigint * 104729) %% 20000)::int)
                       || CASE WHEN g %% 3 = 0 THEN ''
                               ELSE chr((19968 + (g::bigint * 1299709) %% 20000)::int) END,
                   '44060519' || lpad(g::text, 9, '0')
                       || CASE WHEN g %% 11 = 0 THEN 'X' ELSE '1' END,
                   '13800138000', '某某制造有限公司',
                   CASE WHEN g <= %s THEN %s ELSE (%s::int[])[1 + g %% %s] END,
                   '佛山市南海区西樵镇某路' || g || '号', '', repeat('慢性病', 10), g %% 2 = 0,
                   '中国工商银行', '西樵支行', '6222' || lpad(g::text, 15, '0'),
                   repeat('家庭情况说明', 20), now(), now()
            FROM generate_series(1, %s) g
            """,
            [ALICE_CASES, tree.xq_s01.pk, others, len(others), WORKERS],
        )
        cur.execute(
            """
            INSERT INTO relief_application (reference, worker_id, union_id, narrative,
                grassroots_opinion, household_monthly_income, monthly_medical_expenses,
                requested_amount, recommended_amount, approved_amount, paid_amount, policy_id,
                application_date, payout_bank_name, payout_bank_branch, payout_card, state,
                version, created_by_id, created_at, updated_at, advance_amount)
            SELECT 'BG-' || extract(year FROM w.day) || '-' || lpad(w.rn::text, 6, '0'),
                   w.id, w.union_id, repeat('申请情况说明', 30), '', 3000, 800, 5000,
                   CASE WHEN w.rn %% 10 BETWEEN 4 AND 7 THEN 5000 END,
                   CASE WHEN w.rn %% 10 BETWEEN 5 AND 7 THEN 5000 END,
                   CASE WHEN w.rn %% 10 IN (6, 7) THEN 5000 ELSE 0 END,
                   %s,
                   w.day,
                   '', '', '', (%s::text[])[1 + w.rn %% 10], 1, %s, now(), now(), 0
            FROM (SELECT id, union_id, rn, date '2017-01-01' + rn * 3650 / %s AS day
                  FROM (SELECT id, union_id, (row_number() OVER (ORDER BY id))::int AS rn
                        FROM relief_worker WHERE id_number LIKE '44060519%%') n) w
            WHERE w.rn <= %s
            """,
            [policy.pk, STATES, people.alice.pk, CASES, CASES],
        )
        cur.execute(
            """
            INSERT INTO relief_application_categories (application_id, hardshipcategory_id)
            SELECT a.id, (%s::int[])[1 + a.id %% %s] FROM relief_application a
            WHERE a.reference LIKE 'BG-%%'
            """,
            [cats, len(cats)],
        )
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(
            """
            INSERT INTO relief_disbursement (application_id, amount, paid_on, method, fund_source,
                voucher_no, town_id, fund_year, reverses_id, reason, notes, recorded_by_id,
                recorded_at)
            SELECT a.id, 1250, a.application_date + 30 + k, 'bank', 'district', 'V' || a.id || k,
                   u.parent_id, extract(year FROM a.application_date)::int, NULL, '', '', %s,
                   now()
            FROM relief_application a JOIN unions_union u ON u.id = a.union_id
            CROSS JOIN generate_series(1, 4) k
            WHERE a.state IN ('disbursed', 'closed') AND a.reference LIKE 'BG-%%'
            """,
            [people.erin.pk],
        )
        cur.execute("SET LOCAL session_replication_role = DEFAULT")
        cur.execute(
            """
            INSERT INTO relief_auditentry (application_id, worker_id, disbursement_id, actor_id,
                at, action, from_state, to_state, comment, changes, source)
            SELECT a.id, NULL, NULL, %s, a.created_at - (k || ' days')::interval, 'submit',
                   'draft', 'submitted', '意见' || k, '{}'::jsonb, 'web'
            FROM relief_application a CROSS JOIN generate_series(1, 4) k
            WHERE a.reference LIKE 'BG-%%'
            """,
            [people.alice.pk],
        )
        # One case with a long history: 150 audit entries and 40 payouts.
        long_case = Application.objects.filter(union=tree.xq_s01, state="closed").first()
        cur.execute(
            """
            INSERT INTO relief_auditentry (application_id, worker_id, disbursement_id, actor_id,
                at, action, from_state, to_state, comment, changes, source)
            SELECT %s, NULL, NULL, %s, now() - (k || ' minutes')::interval, 'edit', '', '',
                   '补充材料' || k, '{}'::jsonb, 'admin'
            FROM generate_series(1, 150) k
            """,
            [long_case.pk, people.carol.pk],
        )
        cur.execute("SET LOCAL session_replication_role = replica")
        cur.execute(
            """
            INSERT INTO relief_disbursement (application_id, amount, paid_on, method, fund_source,
                voucher_no, town_id, fund_year, reverses_id, reason, notes, recorded_by_id,
                recorded_at)
            SELECT %s, 10, current_date, 'cash', 'town', 'L' || k, %s, 2024, NULL, '', '', %s,
                   now()
            FROM generate_series(1, 40) k
            """,
            [long_case.pk, tree.xq.pk, people.erin.pk],
        )
        cur.execute("SET LOCAL session_replication_role = DEFAULT")
    return long_case


def _seq_scans(plan) -> set[str]:
    found = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if "Seq Scan" in node.get("Node Type", "") and node.get("Relation Name") in LARGE:
            found.add(node["Relation Name"])
        stack.extend(node.get("Plans", []))
    return found


def _explain(sql: str) -> set[str]:
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cur.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return _seq_scans(plan[0]["Plan"])


def _pages(client, people, tree, long_case):
    """(name, user, a function that makes the request and returns the response)."""
    cases = reverse("relief:case_list")
    admin_cases = reverse("admin:relief_application_changelist")
    admin_workers = reverse("admin:relief_worker_changelist")
    worker = Worker.objects.filter(union=tree.xq_s01).order_by("pk")[5]
    far_worker = Worker.objects.filter(union__parent=tree.dl).order_by("-pk").first()
    mine = Application.objects.filter(union=tree.xq_s01).order_by("pk")[7]
    far_case = Application.objects.filter(union__parent=tree.dl).order_by("-pk").first()
    two = worker.name[:2]
    deep = Application.objects.filter(union=tree.xq_s01).order_by("-application_date", "-pk")[4000]
    deep_key = f"{deep.application_date.isoformat()}.{deep.pk}"
    return [
        ("caseworker /cases/", people.alice, lambda: client.get(cases)),
        (
            # A keyset page 4,000 cases down (relief.paging): an index range from the key.
            "caseworker /cases/ deep page",
            people.alice,
            lambda: client.get(cases, {"after": deep_key}),
        ),
        (
            "caseworker /cases/ state filter",
            people.alice,
            lambda: client.get(cases, {"state": "submitted"}),
        ),
        (
            "caseworker search full ID",
            people.alice,
            lambda: search(client, cases, worker.id_number),
        ),
        (
            "caseworker search ID tail",
            people.alice,
            lambda: search(client, cases, worker.id_number[-6:]),
        ),
        ("caseworker search name", people.alice, lambda: search(client, cases, worker.name)),
        ("caseworker search 2 characters", people.alice, lambda: search(client, cases, two)),
        (
            "caseworker search reference",
            people.alice,
            lambda: search(client, cases, mine.reference),
        ),
        (
            "caseworker case page (long history)",
            people.alice,
            lambda: client.get(reverse("relief:case_detail", args=[long_case.pk])),
        ),
        ("town admin case list", people.carol, lambda: client.get(admin_cases)),
        (
            "town admin case list, state + year",
            people.carol,
            lambda: client.get(admin_cases, {"state__exact": "submitted", "year": "2021"}),
        ),
        ("town admin case list page 50", people.carol, lambda: client.get(admin_cases, {"p": 50})),
        ("district admin case list", people.erin, lambda: client.get(admin_cases)),
        (
            "district admin case list, state filter",
            people.erin,
            lambda: client.get(admin_cases, {"state__exact": "approved"}),
        ),
        (
            "district admin search full ID",
            people.erin,
            lambda: admin_search(client, admin_cases, far_worker.id_number),
        ),
        (
            "district admin search name",
            people.erin,
            lambda: admin_search(client, admin_cases, far_worker.name),
        ),
        (
            "district admin search reference",
            people.erin,
            lambda: admin_search(client, admin_cases, far_case.reference),
        ),
        (
            "town admin search 2 characters",
            people.carol,
            lambda: admin_search(client, admin_cases, two),
        ),
        (
            "admin case page (long history)",
            people.carol,
            lambda: client.get(reverse("admin:relief_application_change", args=[long_case.pk])),
        ),
        ("district admin worker list", people.erin, lambda: client.get(admin_workers)),
        (
            "district admin worker search ID",
            people.erin,
            lambda: admin_search(client, admin_workers, far_worker.id_number),
        ),
        (
            "district admin worker search name",
            people.erin,
            lambda: admin_search(client, admin_workers, far_worker.name),
        ),
        (
            "district admin payout list",
            people.erin,
            lambda: client.get(reverse("admin:relief_disbursement_changelist")),
        ),
        (
            "district admin audit list",
            people.erin,
            lambda: client.get(reverse("admin:relief_auditentry_changelist")),
        ),
        # The dashboards read the monthly totals and count the overdue steps per town.
        ("district dashboard", people.erin, lambda: client.get(reverse("reports:dashboard"))),
        (
            "town dashboard",
            people.carol,
            lambda: client.get(reverse("reports:dashboard"), {"unit": tree.xq.code}),
        ),
        ("district funds page", people.erin, lambda: client.get(reverse("funds:overview"))),
        (
            "town donations per union",
            people.carol,
            lambda: client.get(reverse("funds:donations", args=[tree.xq.code, 2024])),
        ),
    ]


# Committed (VACUUM cannot run in a transaction); the rows migrations seed are put back after.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_page_reads_a_large_table_from_end_to_end(client, people, tree):
    started = time.perf_counter()
    long_case = _fill(people, tree)
    print(f"filled in {time.perf_counter() - started:.1f} s")
    report_only = os.environ.get("SCALE_PLANS_REPORT_ONLY") == "1"
    report_file = os.environ.get("SCALE_PLANS_REPORT")
    rows, problems = [], []
    for name, user, request in _pages(client, people, tree, long_case):
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            response = request()
        # Now: the next request's request_started signal empties the connection's query log.
        captured = list(ctx.captured_queries)
        assert response.status_code == 200, (name, response.status_code)
        scans = set()
        for query in captured:
            sql = query["sql"]
            if sql.lstrip().upper().startswith("SELECT"):
                found = _explain(sql)
                if found:
                    problems.append(f"{name}: Seq Scan on {', '.join(sorted(found))} in {sql}")
                scans |= found
        timings = []
        if report_file:
            for _ in range(5):
                started = time.perf_counter()
                request()
                timings.append((time.perf_counter() - started) * 1000)
        rows.append((name, len(captured), timings, scans))
    if report_file:
        with open(report_file, "w", encoding="utf-8") as out:
            out.write("| page | queries | median ms | seq scans |\n|---|---|---|---|\n")
            for name, count, timings, scans in rows:
                median = f"{statistics.median(timings):.0f}" if timings else ""
                out.write(f"| {name} | {count} | {median} | {', '.join(sorted(scans))} |\n")
    if not report_only:
        assert not problems, "\n".join(problems)

"""Issue 12, finding 4: a database outage answers 503 (Chinese page, Retry-After), not 500;
/healthz tells the load balancer and monitoring what is wrong. The outage is simulated here
(the connection raises what psycopg raises when PostgreSQL restarts or is down); the real
restart against a throwaway cluster is tests/test_pg_restart.py."""

import datetime as dt
import json
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from psycopg_pool import PoolTimeout

from relief.views import health

OUTAGES = {
    "restart": OperationalError("server closed the connection unexpectedly"),
    "down": OperationalError('connection to server at "127.0.0.1", port 5432 failed'),
    "broken": InterfaceError("connection already closed"),
    "pool": PoolTimeout("couldn't get a connection after 10.00 sec"),
}


@pytest.mark.parametrize("kind", OUTAGES)
def test_a_request_meeting_a_database_outage_gets_a_503_with_retry_after(client, people, kind):
    client.force_login(people.alice)
    with mock.patch("relief.views.cases.case_list_queryset", side_effect=OUTAGES[kind]):
        response = client.get(reverse("relief:case_list"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    with translation.override("zh-hans"):
        assert gettext("Temporarily unavailable") in page
    assert 'lang="zh-hans"' in page


def test_a_post_meeting_an_outage_is_a_503_and_writes_nothing(client, people, tree):
    from relief.models import FundIncome

    client.force_login(people.erin)
    data = {
        "town": tree.xq.pk,
        "source": "district",
        "year": dt.date.today().year,
        "amount": "100.00",
        "received_on": dt.date.today().isoformat(),
        "document_no": "南工字〔2024〕1号",
    }
    with mock.patch("relief.services.funds.add_income", side_effect=OUTAGES["restart"]):
        response = client.post(reverse("admin:relief_fundincome_add"), data)
    assert response.status_code == 503
    assert not FundIncome.objects.exists()


def test_other_errors_are_still_errors(client, people):
    client.force_login(people.alice)
    bug = mock.patch("relief.views.cases.case_list_queryset", side_effect=ValueError("bug"))
    with bug, pytest.raises(ValueError):
        client.get(reverse("relief:case_list"))


# --- /healthz


@pytest.fixture
def fresh_health(monkeypatch, settings, tmp_path):
    monkeypatch.setattr(health, "_migrations_ok", False)
    settings.MEDIA_ROOT = str(tmp_path)


def get_health(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def test_healthz_is_200_when_all_is_well_and_names_no_one(client, people, fresh_health):
    status, body = get_health(client)  # no sign-in
    assert status == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "media", "worker"}
    text = json.dumps(body, ensure_ascii=False)
    for user in vars(people).values():
        assert user.username not in text


def test_healthz_reports_unapplied_migrations(client, db, fresh_health):
    with mock.patch(
        "relief.views.health.MigrationExecutor.migration_plan", return_value=[("x", False)]
    ):
        status, body = get_health(client)
    assert status == 503
    assert body["checks"]["migrations"] == {"ok": False, "unapplied": 1}


def test_healthz_reports_media_not_writable(client, db, fresh_health, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "missing")
    status, body = get_health(client)
    assert status == 503
    assert body["checks"]["media"]["ok"] is False


def test_healthz_reports_a_worker_not_seen(client, db, fresh_health):
    from django_tasks_db.models import DBTaskResult

    def due(minutes_ago):
        return DBTaskResult.objects.create(
            args_kwargs={"args": [], "kwargs": {}},
            task_path="reports.tasks.render_report",
            backend_name="default",
            run_after=timezone.now() - dt.timedelta(minutes=minutes_ago),
        )

    due(1)  # a task due a minute ago: a polling worker may not have claimed it yet
    assert get_health(client)[0] == 200
    due(10)  # one due ten minutes ago and never claimed: no worker is running
    status, body = get_health(client)
    assert status == 503
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["oldest_due_waiting_seconds"] >= 600


def test_healthz_with_the_database_down_is_503_and_says_so(client, db, fresh_health):
    down = mock.Mock(side_effect=OUTAGES["down"])
    with mock.patch.dict(health.CHECKS, {"database": down}):
        status, body = get_health(client)
    assert status == 503
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["worker"]["ok"] is False

"""The ledger import and the public-notice guard (issue 16, carried over: "the ledger import
skips the public-notice guard").

A ledger row is a past case with its payout, landing disbursed: it never had a recommendation
or a notice in the system, so the guard cannot apply to it as such (and a policy's 公示 box,
which may be ticked on a policy in use, says what approval waits for now, not what was done
before the system). What the guard can and must hold is a payout to a worker whose case on
file the district may not approve yet: imported, it would get round the notice. Such rows
are refused with the reason; payouts made before that case was filed import as before.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from relief.models import Application, Disbursement, Policy
from relief.services.ledger import ledger_import
from relief.services.notices import notice_open, objection_record, objection_resolve
from tabular.tables import read_table
from tests.factories import case_in_state
from tests.relief.conftest import good_rows, ledger_row, write_csv


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def held(people, db):
    """A case recommended today under a policy requiring a notice before approval."""
    Policy.objects.update(notice_required=True, notice_workdays=5)
    app = case_in_state(
        "recommended", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    app.refresh_from_db()
    return app


def _row(app, **kw):
    today = timezone.localdate()
    return ledger_row(
        姓名=app.worker.name,
        身份证号=app.worker.id_number,
        基层工会=app.worker.union.code,
        申请日期=kw.pop("applied", (today - dt.timedelta(days=3)).isoformat()),
        发放日期=kw.pop("paid", today.isoformat()),
        批准金额="1000",
        发放金额="1000",
        **kw,
    )


def _import(tmp_path, rows, user, **kw):
    table = read_table(write_csv(tmp_path, rows))
    return ledger_import(table=table, user=user, file_name="ledger.csv", **kw)


def _notice(people, app):
    app.refresh_from_db()
    return notice_open(
        user=people.carol,
        applications=[app],
        posted_at="樵园社区工会公示栏",
        starts_on=timezone.localdate(),
    )


def _history(app):
    return _row(app, applied="2021-03-01", paid="2021-03-20", 凭证号="PZ-2021-1")


def test_a_payout_to_a_worker_whose_case_waits_for_its_notice_is_refused(people, held, tmp_path):
    notice = _notice(people, held)
    before = (Application.objects.count(), Disbursement.objects.count())
    result = _import(tmp_path, [_history(held), _row(held)], people.carol)
    # The second data row (row 3 of the sheet), in its column, with the case, the notice and
    # the day it ends; the historical row (paid before the case was filed) is not refused.
    [error] = result.errors
    assert (error.row, error.column) == (3, "发放日期")
    assert held.reference in error.message and notice.number in error.message
    assert "has not ended" in error.message
    # Nothing is written, not even the historical row that was right.
    assert (Application.objects.count(), Disbursement.objects.count()) == before


def test_an_unresolved_objection_holds_the_import_until_it_is_resolved(
    people, held, tmp_path, monkeypatch
):
    notice = _notice(people, held)
    held.refresh_from_db()
    objection = objection_record(
        user=people.carol,
        application=held,
        received_on=timezone.localdate(),
        channel="phone",
        content="来电反映其家中有出租屋收入。",
        handler="梁慧敏",
    )
    later = timezone.now() + dt.timedelta(days=30)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert notice.has_ended(timezone.localdate())
    [error] = _import(tmp_path, [_row(held)], people.carol).errors
    assert "objection" in error.message and notice.number in error.message
    objection_resolve(
        user=people.carol, objection=objection, outcome="dismissed", finding="经核实无出租屋收入。"
    )
    assert not _import(tmp_path, [_row(held)], people.carol).errors
    assert Disbursement.objects.filter(application__worker=held.worker).count() == 1


def test_a_case_not_yet_on_the_notice_its_policy_requires_holds_the_import(people, held, tmp_path):
    [error] = _import(tmp_path, [_row(held)], people.carol).errors
    assert "has not been put on one" in error.message


def test_without_a_held_case_history_and_other_workers_import_as_before(people, held, tmp_path):
    _notice(people, held)
    result = _import(tmp_path, [_history(held), *good_rows()], people.erin)
    assert not result.errors
    assert Disbursement.objects.count() == 1 + len(good_rows())


def test_the_check_is_one_pass_for_all_rows(people, held, tmp_path):
    """The same queries for 2 rows as for 20: the notices are read once for the file."""
    _notice(people, held)

    def queries(n):
        rows = [
            _row(held, applied=(timezone.localdate() - dt.timedelta(days=i + 1)).isoformat())
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as captured:
            result = _import(tmp_path, rows, people.erin, dry_run=True)
        assert len(result.errors) == n
        return len(captured)

    assert queries(2) == queries(20)

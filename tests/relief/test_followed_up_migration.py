"""Migration 0022 on a database that already has follow-ups: the new flag is set on exactly the
cases with one on file, so the dashboard's overdue counts do not change on the upgrade."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from relief import services
from relief.models import Application
from tests.factories import case_in_state

BEFORE = [("relief", "0021_paid_followup_index")]
AFTER = [("relief", "0022_followed_up")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cases_with_a_follow_up_on_file_are_marked_on_the_upgrade(people):
    steps = {"caseworker": people.alice, "reviewer": people.carol, "officer": people.erin}
    waiting = case_in_state("disbursed", **steps)
    followed = case_in_state("disbursed", **steps)
    services.follow_up_record(
        application=followed,
        user=people.carol,
        follow_up_date=dt.date.today(),
        method="phone",
        findings="已恢复正常生活",
    )
    closed = case_in_state("closed", **steps)
    draft = case_in_state("draft", **steps)

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)  # drops the column: what a database before the upgrade has
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    marked = set(Application.objects.filter(followed_up=True).values_list("pk", flat=True))
    assert marked == {followed.pk, closed.pk}
    assert not {waiting.pk, draft.pk} & marked

"""A worker's hardship file is closed and reopened by the town, with reasons in the trail."""

import pytest
from django.core.exceptions import ValidationError

from relief import services
from relief.errors import NotAllowed, OutOfScope
from relief.models import AuditEntry, HardshipFile
from relief.services.hardship_files import file_is_open
from tests.factories import WorkerFactory, case_in_state


def test_close_and_reopen_with_reasons_in_the_audit_trail(people):
    worker = WorkerFactory(union=people.alice.union)
    assert file_is_open(worker)
    services.hardship_file_close(worker=worker, user=people.carol, reason="已再就业，收入稳定")
    assert not file_is_open(worker)
    with pytest.raises(ValidationError):
        services.hardship_file_close(worker=worker, user=people.carol, reason="再关")
    services.hardship_file_reopen(worker=worker, user=people.carol, reason="再次患病住院")
    assert file_is_open(worker)
    trail = list(AuditEntry.objects.filter(worker=worker).values_list("action", "comment"))
    assert trail[-2:] == [("file_close", "已再就业，收入稳定"), ("file_reopen", "再次患病住院")]
    assert HardshipFile.objects.get(worker=worker).reason == "再次患病住院"


def test_a_reason_is_required(people):
    worker = WorkerFactory(union=people.alice.union)
    with pytest.raises(ValidationError):
        services.hardship_file_close(worker=worker, user=people.carol, reason=" ")


def test_a_file_with_a_case_in_progress_stays_open(people):
    app = case_in_state("submitted", caseworker=people.alice, reviewer=people.carol, officer=None)
    with pytest.raises(ValidationError):
        services.hardship_file_close(worker=app.worker, user=people.carol, reason="不再困难")


@pytest.mark.parametrize(("who", "error"), [("dave", OutOfScope), ("alice", NotAllowed)])
def test_only_the_workers_town_closes_the_file(people, who, error):
    worker = WorkerFactory(union=people.alice.union)
    with pytest.raises(error):
        services.hardship_file_close(worker=worker, user=getattr(people, who), reason="x")

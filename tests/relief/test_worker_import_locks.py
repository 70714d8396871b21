"""Two worker imports naming the same known workers in opposite orders (PostgreSQL).

Each locks the rows it updates; in file order, the first would hold one worker and wait for
the other's and the second the reverse: a deadlock, one import refused. In id order (as every
writer that locks several workers, relief.services.totals) they queue.
"""

import time

import pytest

from relief.models import Worker
from relief.services import worker_import
from relief.services.worker_import import WORKER_COLUMNS, workers_import
from tabular.tables import Table
from tests.factories import WorkerFactory
from tests.relief.test_concurrency import race

pytestmark = [pytest.mark.postgres]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_imports_of_the_same_workers_in_opposite_order_do_not_deadlock(
    people, tree, monkeypatch
):
    first, second = (WorkerFactory(union=tree.xq_s01) for _ in range(2))

    def table(workers, employer):
        rows = []
        for n, w in enumerate(workers, start=2):
            cells = dict.fromkeys(WORKER_COLUMNS, "")
            cells.update(
                姓名=w.name,
                身份证号=w.id_number,
                基层工会="XQ-S01",
                粤工惠实名="否",
                工作单位=employer,
            )
            rows.append((n, cells))
        return Table(headers=list(WORKER_COLUMNS), rows=rows)

    write = worker_import._write_worker

    def slow_write(*args, **kwargs):
        write(*args, **kwargs)
        time.sleep(0.5)  # holding this worker while the other import takes its first

    monkeypatch.setattr(worker_import, "_write_worker", slow_write)
    outcomes = race(
        lambda: workers_import(
            table=table([first, second], "甲厂"), user=people.carol, file_name="a.csv"
        ),
        lambda: workers_import(
            table=table([second, first], "乙厂"), user=people.carol, file_name="b.csv"
        ),
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert [value.errors for _kind, value in outcomes] == [[], []]
    employers = set(
        Worker.objects.filter(pk__in=[first.pk, second.pk]).values_list("employer", flat=True)
    )
    assert len(employers) == 1  # one import ran after the other, whole

"""What the payout-sum trigger costs the ledger import's bulk path (PostgreSQL).

    DEBUG=1 DATABASE_URL=postgres://... .venv/bin/python manage.py shell -c \
        "exec(open('bench/trigger_cost.py').read())"

Run after bench_import_ledger.py has prepared the database (demo unions, user "bench") and a
ledger at /tmp/ledger.csv (bench/make_ledger.py). Each pass imports the whole ledger inside a
transaction that is rolled back, alternating with the trigger relief_disbursement_within_approved
enabled and disabled (ALTER TABLE is transactional, so the rollback re-enables it), and times
the payout COPY and the commit-free total.
"""

import statistics
import time
from pathlib import Path

from django.db import connection, transaction

import relief.services.ledger as ledger
import relief.services.ledger_write as ledger_write
from tabular.tables import read_table
from unions.models import User

user = User.objects.get(username="bench")
table = read_table(Path("/tmp/ledger.csv"))
original = ledger_write.bulk_insert
timings: dict[str, dict[str, list[float]]] = {
    "on": {"copy": [], "total": []},
    "off": {"copy": [], "total": []},
}


def timed_insert(model, rows, **kwargs):
    start = time.perf_counter()
    ids = original(model, rows, **kwargs)
    if model.__name__ == "Disbursement":
        timed_insert.copy = time.perf_counter() - start
    return ids


ledger_write.bulk_insert = timed_insert
for run in range(6):
    mode = "on" if run % 2 == 0 else "off"
    with transaction.atomic():
        if mode == "off":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE relief_disbursement "
                    "DISABLE TRIGGER relief_disbursement_within_approved"
                )
        start = time.perf_counter()
        result = ledger.ledger_import(table=table, user=user, file_name="trigger.csv")
        assert not result.errors, result.errors[:3]
        timings[mode]["total"].append(time.perf_counter() - start)
        timings[mode]["copy"].append(timed_insert.copy)
        transaction.set_rollback(True)
ledger_write.bulk_insert = original
for mode, values in timings.items():
    print(
        f"trigger {mode}: payout COPY median {statistics.median(values['copy']):.2f} s, "
        f"import (no commit) median {statistics.median(values['total']):.2f} s"
    )

"""The ledger import's write: every row at once, in the caller's transaction.

Workers, cases (landing directly in their final state, disbursed), their categories, payouts
and one audit entry per case and per new worker, with references from ReferenceCounter as for
any case filed in the browser. Rows arrive checked by relief.services.ledger.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from relief import workflow as wf
from relief.models import (
    Application,
    AuditEntry,
    Disbursement,
    FundAccount,
    FundIncome,
    PaymentMethod,
    ReferenceCounter,
    Worker,
)
from relief.services.bulk import bulk_insert
from unions.models import Union

# Not translated: stored data, like the funds migration's opening note.
HISTORY_NOTE = "历史台账导入（%(file)s）：导入的历史发放"


def write_ledger(rows: list, existing: dict[str, dict], user, file_name: str) -> None:
    source = f"import:{file_name}"[:200]
    now = timezone.now()
    rows = sorted(rows, key=lambda r: (r.application_date, r.row))
    # Workers: the first (earliest) row of a new ID number gives the holding union.
    worker_pk = {n: w["pk"] for n, w in existing.items()}
    new_workers: dict = {}
    for r in rows:
        if r.id_number not in worker_pk:
            new_workers.setdefault(r.id_number, r)
    worker_ids = bulk_insert(
        Worker,
        [
            {
                "name": r.name,
                "id_number": r.id_number,
                "union_id": r.union.pk,
                "created_at": now,
                "updated_at": now,
            }
            for r in new_workers.values()
        ],
    )
    worker_pk.update(zip(new_workers, worker_ids, strict=True))
    references = _references(rows)
    application_ids = bulk_insert(
        Application,
        [
            {
                "reference": references[r.row],
                "worker_id": worker_pk[r.id_number],
                "union_id": r.union.pk,
                "narrative": r.narrative,
                "requested_amount": r.approved_amount,
                "recommended_amount": r.approved_amount,
                "approved_amount": r.approved_amount,
                "paid_amount": r.paid_amount,
                "policy_id": r.policy.pk,
                "application_date": r.application_date,
                # Historical cases land directly in their final state; the audit entry below
                # records that they were imported, by whom and from which file.
                "state": wf.S_DISBURSED,
                "created_by_id": user.pk,
                "created_at": now,
                "updated_at": now,
                "disbursed_at": timezone.make_aware(dt.datetime.combine(r.paid_on, dt.time())),
                "approved_at": _approved_at(r),
            }
            for r in rows
        ],
    )
    bulk_insert(
        Application.categories.through,
        [
            {"application_id": a, "hardshipcategory_id": c.pk}
            for a, r in zip(application_ids, rows, strict=True)
            for c in r.categories
        ],
        want_ids=False,
    )
    _fund_history(rows, user, file_name, now)
    payout_ids = bulk_insert(
        Disbursement,
        [
            {
                "application_id": a,
                "amount": r.paid_amount,
                "paid_on": r.paid_on,
                "method": PaymentMethod.BANK_TRANSFER,
                "fund_source": r.fund_source,
                "town_id": r.union.parent_id,
                "fund_year": r.paid_on.year,
                "reverses_id": None,
                "reason": "",
                "voucher_no": r.voucher_no,
                "notes": r.notes,
                "recorded_by_id": user.pk,
                "recorded_at": now,
            }
            for a, r in zip(application_ids, rows, strict=True)
        ],
    )
    entry = {
        "actor_id": user.pk,
        "action": "import",
        "at": now,
        "source": source,
        "application_id": None,
        "disbursement_id": None,
        "from_state": "",
        "to_state": "",
        "comment": "",
    }
    entries = [
        {
            **entry,
            "worker_id": worker_pk[n],
            "changes": {
                "name": [None, r.name],
                "id_number": ["***", "***"],
                "union": [None, r.union.code],
            },
        }
        for n, r in new_workers.items()
    ]
    entries += [
        {
            **entry,
            "application_id": a,
            "worker_id": worker_pk[r.id_number],
            "disbursement_id": p,
            "to_state": wf.S_DISBURSED,
            "comment": r.notes,
            "changes": {
                "row": [None, str(r.row)],
                "union": [None, r.union.code],
                "categories": [None, ", ".join(sorted(c.name for c in r.categories))],
                "application_date": [None, r.application_date.isoformat()],
                "approved_amount": [None, f"{r.approved_amount:.2f}"],
                **({"approved_on": [None, r.approved_on.isoformat()]} if r.approved_on else {}),
                "paid_on": [None, r.paid_on.isoformat()],
                "amount": [None, f"{r.paid_amount:.2f}"],
                "fund_source": [None, r.fund_source],
                "voucher_no": [None, r.voucher_no],
            },
        }
        for a, p, r in zip(application_ids, payout_ids, rows, strict=True)
    ]
    bulk_insert(AuditEntry, entries, want_ids=False)


def _approved_at(row):
    """The optional 批准日期 at noon local time; None when the ledger does not say."""
    if row.approved_on is None:
        return None
    return timezone.make_aware(dt.datetime.combine(row.approved_on, dt.time(12)))


def _fund_history(rows: list, user, file_name: str, now) -> None:
    """Historical payouts were paid from money the system never saw come in.

    Each fund account they draw on (town, source, year) gets an income entry equal to them,
    as the funds migration did for payouts recorded before fund management: the import adds
    history without changing any balance, and no account goes below zero. Written before
    the payouts, which the PostgreSQL trigger checks against the account's income.
    """
    totals: dict[tuple, Decimal] = defaultdict(Decimal)
    first_paid: dict[tuple, dt.date] = {}
    for r in rows:
        key = (r.union.parent_id, r.fund_source, r.paid_on.year)
        totals[key] += r.paid_amount
        first_paid[key] = min(first_paid.get(key, r.paid_on), r.paid_on)
    note = (HISTORY_NOTE % {"file": file_name})[:200]
    for (town_id, source, year), amount in sorted(totals.items()):
        account, _created = FundAccount.objects.select_for_update().get_or_create(
            town_id=town_id, source=source, year=year
        )
        FundIncome.objects.create(
            account=account,
            amount=amount,
            received_on=first_paid[(town_id, source, year)],
            note=note,
            recorded_by=user,
        )
        # Totals are added in Python on the locked row (SQLite sums decimals as floats).
        account.income_total += amount
        account.paid_total += amount
        account.save(update_fields=["income_total", "paid_total"])


def _references(rows: list) -> dict[int, str]:
    """Row number -> reference, numbered per town and year in application-date order."""
    groups: dict[tuple[Union, int], list] = defaultdict(list)
    for r in rows:
        groups[(r.union.parent, r.application_date.year)].append(r)
    references = {}
    for (town, year), group in groups.items():
        counter, _created = ReferenceCounter.objects.get_or_create(town=town, year=year)
        # The UPDATE takes the row lock: a case filed meanwhile gets a number after these.
        ReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + len(group))
        counter.refresh_from_db(fields=["last"])
        first = counter.last - len(group) + 1
        for offset, r in enumerate(group):
            references[r.row] = f"{town.code}-{year}-{first + offset:04d}"
    return references

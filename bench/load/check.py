"""The money invariants, checked in the database after a load run (any database Django runs on).

    DATABASE_URL=... SECRET_KEY=... python bench/load/check.py --plan plan.json

Prints one JSON object: each check's name, the number of rows it examined and the rows that
break it (at most five shown). Exit status 1 when any check is broken.
"""

import argparse
import json
import os
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Count, Max, Q, Sum  # noqa: E402

from relief import workflow as wf  # noqa: E402
from relief.models import (  # noqa: E402
    Application,
    AuditEntry,
    Disbursement,
    FundAccount,
    IdempotencyKey,
    Worker,
)

ZERO = Decimal("0")


def check(name: str, examined: int, broken: list) -> dict:
    return {"check": name, "examined": examined, "broken": len(broken), "examples": broken[:5]}


def payouts_within_approved() -> dict:
    broken = []
    cases = Application.objects.annotate(payouts=Sum("disbursements__amount"))
    for case in cases.only("reference", "approved_amount", "paid_amount", "advance_amount"):
        paid = case.payouts or ZERO
        # An emergency advance (先行救助) is paid before approval and may exceed what the
        # district then approves (the difference is a recorded shortfall): the database's rule.
        ceiling = max(case.approved_amount or ZERO, case.advance_amount or ZERO)
        if not (ZERO <= paid <= ceiling) or paid != case.paid_amount:
            broken.append(
                f"{case.reference}: approved {case.approved_amount}, "
                f"paid_amount {case.paid_amount}, payouts {paid}"
            )
    return check(
        "no case paid above its approved amount or its advance (payouts = paid_amount)",
        len(cases),
        broken,
    )


def accounts_not_below_zero() -> dict:
    broken = []
    accounts = FundAccount.objects.annotate(income=Sum("incomes__amount")).select_related("town")
    paid = {
        (row["town"], row["fund_source"], row["fund_year"]): row["total"]
        for row in Disbursement.objects.values("town", "fund_source", "fund_year").annotate(
            total=Sum("amount")
        )
    }
    for account in accounts:
        drawn = paid.get((account.town_id, account.source, account.year), ZERO)
        income = account.income or ZERO
        if not (account.paid_total == drawn <= income == account.income_total):
            broken.append(
                f"{account}: income {account.income_total} (entries {income}), "
                f"paid {account.paid_total} (payouts {drawn})"
            )
    return check("no fund account below zero (totals = their entries)", len(accounts), broken)


def one_case_in_progress() -> dict:
    doubled = (
        Application.objects.filter(state__in=wf.IN_PROGRESS)
        .values("worker_id", "worker__name")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    workers = Worker.objects.values("id_number").annotate(n=Count("id")).filter(n__gt=1)
    broken = [f"{row['worker__name']}: {row['n']} cases in progress" for row in doubled]
    broken += [f"worker recorded {row['n']} times" for row in workers]
    return check("never two cases in progress for one worker", Worker.objects.count(), broken)


def audited() -> dict:
    broken = []
    payouts = Disbursement.objects.annotate(entries=Count("audit_entries"))
    broken += [f"payout {p.pk} without its audit row" for p in payouts if not p.entries]
    cases = Application.objects.annotate(
        entries=Count("audit_entries"),
        last_change=Max("audit_entries__id", filter=~Q(audit_entries__to_state="")),
    )
    last_state = dict(
        AuditEntry.objects.filter(
            id__in=[c.last_change for c in cases if c.last_change]
        ).values_list("application_id", "to_state")
    )
    for case in cases:
        if not case.entries:
            broken.append(f"{case.reference} without any audit row")
        elif case.state != wf.S_DRAFT and last_state.get(case.pk) != case.state:
            broken.append(
                f"{case.reference} is {case.state}, its last audited change says "
                f"{last_state.get(case.pk)}"
            )
    return check(
        "an audit row for every payout and every state change",
        len(payouts) + len(cases),
        broken,
    )


def idempotent(plan: dict) -> dict:
    broken = []
    keys = IdempotencyKey.objects.exclude(object_id=None)
    made = Counter((k.content_type_id, k.object_id) for k in keys)
    broken += [f"{n} keys point at one write" for n in made.values() if n > 1]
    replayed = [case for run in plan["runs"] for case in run["replay"]]
    per_case = Counter(
        Disbursement.objects.filter(application__in=replayed).values_list(
            "application_id", flat=True
        )
    )
    broken += [f"case {case}: {n} payouts from one form" for case, n in per_case.items() if n > 1]
    return check(
        "a replayed form writes nothing (one payout per key)", len(keys) + len(replayed), broken
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, required=True)
    args = parser.parse_args()
    plan = json.loads(args.plan.read_text())
    results = [
        payouts_within_approved(),
        accounts_not_below_zero(),
        one_case_in_progress(),
        audited(),
        idempotent(plan),
    ]
    print(json.dumps(results, ensure_ascii=False, indent=1))
    sys.exit(1 if any(r["broken"] for r in results) else 0)


if __name__ == "__main__":
    main()

"""The cases, fund accounts and ID numbers the load scenarios act on, after `load_demo`.

    DATABASE_URL=... SECRET_KEY=... python bench/load/seed.py --users 50 --runs 2 --out plan.json

Everything goes through the services as the demo does (real audit trail, real fund accounts).
For each run (one per gunicorn variant) and each scenario it makes fresh cases, so a run never
meets what an earlier one left. The plan (JSON) tells the locust file which case, account or
ID number each simulated user works on:

- approve: one recommended case (3,000 yuan) that every user approves at once;
- payout_admin, payout_case: one approved case (3,000) that every user pays in full at once,
  on the admin payout page and on the case page;
- partial: one approved case (2,000) that every user pays 100 yuan of at once (half on each
  page): at most 20 fit;
- empty_fund: one approved case (1,000) per user, all paid from one account (西樵, 镇自筹,
  a year of its own) that holds 5,000: exactly five fit;
- file_twice: one new ID number per pair of users, filed at once by a caseworker of 西樵 and
  one of 大沥;
- import: approved cases (10,000) in 西樵 paid 10 yuan at a time from 西樵's district
  allocation for 2024 while a ledger import writes to the same account;
- replay: one approved case (1,000) per user, paid 300 and sent again with the same key.
"""

import argparse
import datetime as dt
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from relief import services  # noqa: E402
from relief.idcard import check_digit  # noqa: E402
from relief.models import HardshipCategory  # noqa: E402
from unions.models import Union, User  # noqa: E402

# 广州市荔湾区: no demo worker or generated ledger row (Foshan codes) has this area code.
AREA = "440103"
IMPORT_YEAR = 2024
IMPORT_CASES = 20
EMPTY_FUND_INCOME = Decimal("5000")


class Ids:
    def __init__(self, start: int):
        self.n = start

    def next(self) -> str:
        self.n += 1
        born = dt.date(1960, 1, 1) + dt.timedelta(days=self.n // 900)
        first17 = f"{AREA}{born:%Y%m%d}{self.n % 900 + 100:03d}"
        return first17 + check_digit(first17)


class Seeder:
    def __init__(self):
        users = {u.username: u for u in User.objects.select_related("union")}
        self.officer = users["nh-officer"]
        self.users = users
        self.category = HardshipCategory.objects.get(name="重大疾病")
        self.today = timezone.localdate()
        self.ids = Ids(0)
        self.towns = {u.code: u for u in Union.objects.filter(code__in=["XQ", "DL", "JJ"])}

    def case(self, caseworker: str, amount: str, target: str):
        """A new worker of `caseworker`'s union with a case driven to `target`."""
        cw = self.users[caseworker]
        reviewer = self.users[f"{caseworker.split('-')[0]}-reviewer"]
        n = self.ids.n + 1
        worker = services.worker_create(
            user=cw,
            data={
                "name": f"压测{n}号",
                "id_number": self.ids.next(),
                "phone": f"137{n:08d}",
                "employer": "压测工厂",
                "address": f"{cw.union.name}辖区",
                "bank_name": "广东南海农村商业银行",
                "bank_branch": "西樵支行",
                "bank_card": f"62214899{n:011d}",
            },
            source="bench",
        )
        amount = Decimal(amount)
        kw = {"source": "bench"}
        app = services.application_create(
            user=cw,
            worker=worker,
            categories=[self.category],
            narrative="压力测试用案件。",
            requested_amount=amount,
            household_monthly_income=Decimal("1500"),
            monthly_medical_expenses=Decimal("2500"),
            application_date=self.today,
            **kw,
        )
        app = services.application_submit(application=app, user=cw, **kw)
        services.home_visit_record(
            application=app,
            user=reviewer,
            visit_date=self.today,
            visitors=reviewer.full_name,
            findings="入户核实属实。",
            verified_household_income=Decimal("1500"),
            verified_monthly_expenses=Decimal("4000"),
            **kw,
        )
        app = services.application_verify(application=app, user=reviewer, **kw)
        app = services.application_recommend(
            application=app, user=reviewer, amount=amount, comment="同意上报。", **kw
        )
        if target == "recommended":
            return app.pk
        app = services.application_approve(application=app, user=self.officer, amount=amount, **kw)
        return app.pk

    def income(self, town: str, source: str, year: int, amount: Decimal, note: str):
        services.fund_income_record(
            user=self.officer,
            town=self.towns[town],
            source=source,
            year=year,
            amount=amount,
            received_on=self.today,
            document_no=f"南工字〔压测〕{year}-{note}" if source == "district" else "",
            note=note,
            origin="bench",
        )

    def run(self, users: int, slot: int) -> dict:
        # Payouts of this year draw on 西樵's district allocation (the demo's income covers
        # the demo; this covers every payout the scenarios can make, whatever the run).
        self.income("XQ", "district", self.today.year, Decimal("500000"), f"run{slot}")
        empty_year = 2001 + slot
        self.income("XQ", "town", empty_year, EMPTY_FUND_INCOME, f"run{slot}-nearly-empty")
        self.income("XQ", "district", IMPORT_YEAR, Decimal("500000"), f"run{slot}-import")
        return {
            "approve": self.case("xq-s01", "3000", "recommended"),
            "payout_admin": self.case("xq-s01", "3000", "approved"),
            "payout_case": self.case("xq-s02", "3000", "approved"),
            "partial": self.case("xq-e01", "2000", "approved"),
            "empty_fund": {
                "year": empty_year,
                "cases": [self.case("xq-e02", "1000", "approved") for _ in range(users)],
            },
            "file_twice": [self.ids.next() for _ in range((users + 1) // 2)],
            "import": {
                "year": IMPORT_YEAR,
                "cases": [self.case("xq-v01", "10000", "approved") for _ in range(IMPORT_CASES)],
            },
            "replay": [self.case("xq-v02", "1000", "approved") for _ in range(users)],
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, required=True, help="simulated users per scenario")
    parser.add_argument("--runs", type=int, default=1, help="one per gunicorn variant")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    seeder = Seeder()
    runs = []
    for slot in range(args.runs):
        with transaction.atomic():
            runs.append(seeder.run(args.users, slot))
    args.out.write_text(json.dumps({"users": args.users, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()

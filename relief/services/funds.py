"""Fund accounts: recording income and drawing payouts, each under the account's row lock.

Lock order everywhere: application rows first (by primary key), then fund account rows. The
PostgreSQL triggers of migration 0004 take them in the same order, so nothing deadlocks.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relief.conflicts import set_lock_timeout
from relief.errors import NotAllowed, OutOfScope
from relief.models import FundAccount, FundIncome, FundSource
from relief.models.money import clean_amount, yuan
from relief.services.audit import audit
from unions.models import Level, Role
from unions.selectors import union_in_scope

# Who records which kind of income by hand (十元捐 arrives through donation collections).
INCOME_ROLES = {
    FundSource.DISTRICT: {Role.DISTRICT_OFFICER},
    FundSource.TOWN: {Role.DISTRICT_OFFICER, Role.TOWN_REVIEWER},
}


def check_year(year, field: str = "year") -> int:
    if not isinstance(year, int) or not 2000 <= year <= timezone.localdate().year + 1:
        raise ValidationError({field: _("Enter a year between 2000 and next year.")})
    return year


def source_label(source: str) -> str:
    return str(FundSource(source).label)


def lock_account(town, source: str, year: int, *, create: bool = False) -> FundAccount | None:
    """The account row, locked; None when it does not exist and `create` is false."""
    # A lock not obtained in time is a Conflict for the page to explain (relief.conflicts).
    set_lock_timeout()
    if create:
        # INSERT ... ON CONFLICT DO NOTHING: two first incomes at once do not collide.
        FundAccount.objects.bulk_create(
            [FundAccount(town=town, source=source, year=year)], ignore_conflicts=True
        )
    # Only the account row: FOR UPDATE over the join would lock the town's union row too, so
    # payouts from other accounts of the town would queue behind each other, and an import
    # whose rows point at the town (a share lock) would deadlock with a payout.
    return (
        FundAccount.objects.select_for_update(of=("self",))
        .filter(town=town, source=source, year=year)
        .select_related("town")
        .first()
    )


# Totals are added in Python on the locked row, never with F() in SQL: SQLite computes
# decimal arithmetic in floating point (0.47 - 0.47 = -1.1e-16, which the CHECK refuses).
def _credit(account: FundAccount, amount: Decimal) -> None:
    account.income_total += amount
    account.save(update_fields=["income_total"])


def cover_error(account: FundAccount | None, *, town, source: str, year: int, amount: Decimal):
    """Why `account` (None: there is none) cannot give `amount`, or None when it can."""
    balance = account.balance if account is not None else Decimal("0")
    if amount <= balance:
        return None
    return _(
        "%(source)s of %(town)s for %(year)d has %(available)s available: a payout "
        "of %(amount)s would take it below zero."
    ) % {
        "source": source_label(source),
        "town": town.name,
        "year": year,
        "available": yuan(balance),
        "amount": yuan(amount),
    }


def draw_locked(account: FundAccount | None, *, town, source, year, amount, field="fund_source"):
    """Take `amount` from an account the caller has locked, or refuse naming what it has left."""
    error = cover_error(account, town=town, source=source, year=year, amount=amount)
    if error:
        raise ValidationError({field: error})
    account.paid_total += amount
    account.save(update_fields=["paid_total"])
    return account


def fund_draw(*, town, source: str, year: int, amount: Decimal, field: str = "fund_source"):
    """Take `amount` from the account, or refuse naming the source and what it has left."""
    account = lock_account(town, source, year)
    return draw_locked(account, town=town, source=source, year=year, amount=amount, field=field)


def find_accounts(keys) -> dict[tuple, FundAccount]:
    """(town, source, year) -> its account as it stands, unlocked; missing keys are absent."""
    wanted = {(town.pk, source, year): (town, source, year) for town, source, year in keys}
    found = {}
    towns = {town_id for town_id, _s, _y in wanted}
    for account in FundAccount.objects.filter(town_id__in=towns):
        key = wanted.get((account.town_id, account.source, account.year))
        if key is not None:
            found[key] = account
    return found


def lock_accounts(keys) -> dict[tuple, FundAccount]:
    """(town, source, year) -> its account, locked; missing keys are absent.

    The rows are locked one at a time in id order, the order of the payout trigger (migration
    0008) and of the ledger import, so two writers needing some of the same accounts queue
    behind each other instead of deadlocking, whatever order their cases come in.
    """
    found = find_accounts(keys)
    locked = {}
    for key, _account in sorted(found.items(), key=lambda kv: kv[1].pk):
        locked[key] = lock_account(*key)
    return locked


def fund_give_back(*, town, source: str, year: int, amount: Decimal) -> None:
    """A reversed payout returns its amount to the account it was drawn from."""
    account = lock_account(town, source, year)
    account.paid_total -= amount
    account.save(update_fields=["paid_total"])


def add_income(
    *, user, town, source, year, amount, received_on, document_no="", note="", collection=None
) -> FundIncome:
    """Write an income entry and credit its account; callers check roles and scope."""
    account = lock_account(town, source, year, create=True)
    income = FundIncome(
        account=account,
        amount=amount,
        received_on=received_on,
        document_no=(document_no or "").strip(),
        note=(note or "").strip(),
        collection=collection,
        recorded_by=user,
    )
    income.full_clean(exclude=["collection"])
    income.save()
    _credit(account, amount)
    return income


@transaction.atomic
def fund_income_record(
    *,
    user,
    town,
    source: str,
    year: int,
    amount: Decimal,
    received_on: dt.date,
    document_no: str = "",
    note: str = "",
    origin: str = "web",
) -> FundIncome:
    """区拨款 (district officers, with the allocation document number) or 镇自筹 income."""
    if not user.role:
        raise NotAllowed(_("Your account has no role."))
    if town is None or town.level != Level.TOWN:
        raise ValidationError({"town": _("Choose a town federation.")})
    if not union_in_scope(user, town):
        raise OutOfScope
    if source not in INCOME_ROLES:
        raise ValidationError(
            {"source": _("Ten-yuan donations are recorded as collections of the campaign.")}
        )
    if Role(user.role) not in INCOME_ROLES[source]:
        raise NotAllowed(
            _("Your role cannot record %(source)s income.") % {"source": source_label(source)}
        )
    amount = clean_amount(amount)
    check_year(year)
    if source == FundSource.DISTRICT and not (document_no or "").strip():
        raise ValidationError(
            {"document_no": _("A district allocation needs its allocation document number.")}
        )
    income = add_income(
        user=user,
        town=town,
        source=source,
        year=year,
        amount=amount,
        received_on=received_on,
        document_no=document_no,
        note=note,
    )
    audit(
        actor=user,
        action="fund_income",
        comment=str(income.account),
        changes={
            "amount": [None, f"{amount:.2f}"],
            "received_on": [None, received_on.isoformat()],
            "document_no": [None, income.document_no],
        },
        source=origin,
    )
    return income

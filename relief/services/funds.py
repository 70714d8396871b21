"""Fund accounts: recording income and drawing payouts, each under the account's row lock.

Lock order everywhere: application rows first (by primary key), then fund account rows. The
PostgreSQL triggers of migration 0004 take them in the same order, so nothing deadlocks.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from relief.conflicts import set_lock_timeout
from relief.errors import NotAllowed, OutOfScope
from relief.models import OPEN_BATCH_STATES, BatchItem, FundAccount, FundIncome, FundSource
from relief.models.money import clean_amount, yuan
from relief.services.audit import audit, site_language
from relief.services.totals import income_changes
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


@dataclass(frozen=True)
class FundChoice:
    """One account a payout may draw on, with what it can still give."""

    town_id: int
    source: str
    year: int
    balance: Decimal
    # Held by open payment batches drawing on this account, not yet paid.
    committed: Decimal

    @property
    def available(self) -> Decimal:
        return self.balance - self.committed

    @property
    def key(self) -> str:
        return fund_key(self.source, self.year)

    @property
    def label(self) -> str:
        return _("%(year)d %(source)s · %(available)s available") % {
            "year": self.year,
            "source": source_label(self.source),
            "available": yuan(self.available),
        }


def fund_key(source: str, year: int) -> str:
    return f"{source}:{year}"


def parse_fund_key(key: str) -> tuple[str, int] | None:
    """(source, year) from a form's choice, or None for "" (let the service choose)."""
    if not key:
        return None
    source, _sep, year = key.partition(":")
    if source not in FundSource.values or not year.isdecimal():
        raise ValidationError({"fund": _("Choose one of the fund accounts offered.")})
    return source, int(year)


SOURCE_ORDER = {s: i for i, s in enumerate(FundSource.values)}


def fund_choices(towns) -> dict[int, list[FundChoice]]:
    """Per town: its accounts with money available, oldest year first (then source order).

    Two queries whatever the number of towns: the accounts, and what open batches hold.
    """
    town_ids = [getattr(t, "pk", t) for t in towns]
    rows = (
        BatchItem.objects.filter(
            batch__state__in=OPEN_BATCH_STATES, application__union__parent_id__in=town_ids
        )
        .values_list("application__union__parent_id", "batch__fund_source", "batch__fund_year")
        .annotate(total=Sum("amount"))
    )
    held = {(town_id, source, year): total for town_id, source, year, total in rows}
    found: dict[int, list[FundChoice]] = {pk: [] for pk in town_ids}
    for account in FundAccount.objects.filter(town_id__in=town_ids):
        choice = FundChoice(
            town_id=account.town_id,
            source=account.source,
            year=account.year,
            balance=account.balance,
            committed=held.get((account.town_id, account.source, account.year)) or Decimal("0"),
        )
        if choice.available > 0:
            found[account.town_id].append(choice)
    for choices in found.values():
        choices.sort(key=lambda c: (c.year, SOURCE_ORDER[c.source]))
    return found


def pick_fund(choices: list[FundChoice], amount: Decimal) -> FundChoice | None:
    """The oldest account that can pay `amount` whole: old money is spent first."""
    return next((c for c in choices if c.available >= amount), None)


def no_fund_error(town, amount: Decimal) -> ValidationError:
    return ValidationError(
        {
            "fund_source": _(
                "No fund account of %(town)s has %(amount)s available: record income first, "
                "or pay part of the amount."
            )
            % {"town": town.name, "amount": yuan(amount)}
        }
    )


def add_income(
    *, user, town, source, year, amount, received_on, document_no="", note="", collection=None
) -> FundIncome:
    """Write an income entry and credit its account; callers check roles and scope."""
    # Lock order (relief.services.totals): a collection's union row before the account, the
    # town's row after; each lock waited for at most RELIEF_LOCK_TIMEOUT_MS.
    set_lock_timeout()
    totals = income_changes(
        town=town, source=source, received_on=received_on, amount=amount, collection=collection
    )
    totals.write_own()
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
    totals.write_shared()
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
    with site_language():
        comment = str(income.account)  # the town, the fund source's label, the year
    audit(
        actor=user,
        action="fund_income",
        comment=comment,
        changes={
            "amount": [None, f"{amount:.2f}"],
            "received_on": [None, received_on.isoformat()],
            "document_no": [None, income.document_no],
        },
        source=origin,
    )
    return income

"""拨款批次: approved cases paid by one bank transfer file.

draft --export--> exported --mark paid (bank's date)--> paid; draft/exported --> cancelled.
Marking paid records every case's payout in one transaction, or none.

Full card numbers leave the system only in the bank file, and only district officers (who
pay, and who already see everything) may export it (privacy.access.may_see_full); each export
is in every case's trail and in the access log.
"""

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.hooks import batched
from privacy import access
from privacy.models import AccessKind
from relief import workflow as wf
from relief.conflicts import batch_state_text, last_change_text, set_lock_timeout
from relief.errors import NotAllowed, OutOfScope
from relief.models import (
    OPEN_BATCH_STATES,
    Application,
    BatchItem,
    BatchState,
    FundAccount,
    FundSource,
    PaymentBatch,
    PaymentMethod,
)
from relief.models.money import yuan
from relief.services.audit import audit
from relief.services.disbursements import prepare_payout, write_payout
from relief.services.funds import (
    SOURCE_ORDER,
    check_year,
    cover_error,
    draw_locked,
    find_accounts,
    fund_choices,
    lock_accounts,
    source_label,
)
from relief.services.totals import payout_changes
from tabular.formulas import neutralize
from unions.models import Role
from unions.selectors import scope_q

BANK_FILE_COLUMNS = ("name", "card number", "bank", "branch", "amount", "reference")


def _require_officer(user) -> None:
    if not user.role:
        raise NotAllowed(_("Your account has no role."))
    if user.role != Role.DISTRICT_OFFICER:
        raise NotAllowed(_("Only district officers handle payment batches."))


def _lock_batch(batch: PaymentBatch, user, *states) -> PaymentBatch:
    _require_officer(user)
    set_lock_timeout()
    locked = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    if states and locked.state not in states:
        # Someone else exported, paid or cancelled it: say who and when (relief.conflicts).
        raise ValidationError(batch_state_text(locked))
    return locked


def _lock_applications(user, pks) -> list[Application]:
    """Lock the cases in primary-key order (the order every payout path uses)."""
    rows = (
        Application.objects.select_for_update(of=("self",))
        .filter(scope_q(user, "union"), pk__in=list(pks))
        .select_related("worker", "union", "union__parent", "policy")
        .order_by("pk")
    )
    locked = list(rows)
    if len(locked) != len(set(pks)):
        raise OutOfScope
    return locked


def _label(app: Application) -> str:
    return f"{app.reference} {app.worker.name}"


@transaction.atomic
def batch_create(
    *,
    user,
    title: str,
    applications,
    fund_source: str = "",
    fund_year: int | None = None,
    source: str = "web",
) -> PaymentBatch:
    """A draft batch paying what is outstanding on each chosen approved case. Without a
    `fund_source`, the oldest source and year whose account in every case's town can pay that
    town's share (after other open batches)."""
    _require_officer(user)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("This field is required.")})
    if fund_source and fund_source not in FundSource.values:
        raise ValidationError({"fund_source": _("Choose a fund source.")})
    pks = [a.pk for a in applications]
    if not pks:
        raise ValidationError({"applications": _("Choose at least one approved case.")})
    locked = _lock_applications(user, pks)
    if not fund_source:
        fund_source, fund_year = _oldest_fund_for(locked)
    fund_year = check_year(fund_year or timezone.localdate().year, "fund_year")
    errors = []
    busy = set(
        BatchItem.objects.filter(
            application__in=locked, batch__state__in=OPEN_BATCH_STATES
        ).values_list("application__reference", "batch__reference")
    )
    busy_refs = dict(busy)
    for app in locked:
        if app.state != wf.S_APPROVED:
            errors.append(
                _("%(case)s is “%(state)s”, not approved awaiting payment.")
                % {"case": _label(app), "state": app.get_state_display()}
            )
        elif app.reference in busy_refs:
            errors.append(
                _("%(case)s is already in batch %(batch)s.")
                % {"case": _label(app), "batch": busy_refs[app.reference]}
            )
        elif not app.payout_card:
            errors.append(_("%(case)s has no payout account.") % {"case": _label(app)})
    if errors:
        raise ValidationError({"applications": errors})
    batch = PaymentBatch(
        title=title,
        fund_source=fund_source,
        fund_year=fund_year,
        created_by=user,
        reference=f"~{timezone.now():%H%M%S%f}",
    )
    batch.save()
    batch.reference = f"PB-{fund_year}-{batch.pk:05d}"
    batch.save(update_fields=["reference"])
    BatchItem.objects.bulk_create(
        [BatchItem(batch=batch, application=app, amount=app.outstanding_amount) for app in locked]
    )
    for app in locked:
        audit(
            actor=user,
            action="batch_add",
            application=app,
            comment=f"{batch.reference} {batch.title}",
            changes={"batch_amount": [None, f"{app.outstanding_amount:.2f}"]},
            source=source,
        )
    return batch


def _oldest_fund_for(cases: list[Application]) -> tuple[str, int]:
    needs: dict[int, Decimal] = {}
    for app in cases:
        town_id = app.union.parent_id
        needs[town_id] = needs.get(town_id, Decimal("0")) + app.outstanding_amount
    by_town = fund_choices(needs)
    candidates = sorted(
        {(c.year, c.source) for choices in by_town.values() for c in choices},
        key=lambda ys: (ys[0], SOURCE_ORDER[ys[1]]),
    )
    for year, source in candidates:
        available = {
            town_id: next(
                (c.available for c in by_town[town_id] if (c.year, c.source) == (year, source)),
                Decimal("0"),
            )
            for town_id in needs
        }
        if all(available[t] >= needed for t, needed in needs.items()):
            return source, year
    raise ValidationError(
        {
            "fund_source": _(
                "No single fund source and year can pay every chosen case from its town's "
                "account: choose the account, or fewer cases."
            )
        }
    )


@dataclass(frozen=True)
class FundCheckLine:
    town: str
    source: str
    year: int
    needed: Decimal
    balance: Decimal
    # Needed by other open batches on the same account.
    committed_elsewhere: Decimal

    @property
    def available(self) -> Decimal:
        return self.balance - self.committed_elsewhere

    @property
    def ok(self) -> bool:
        return self.needed <= self.available


def batch_check_funds(batch: PaymentBatch) -> list[FundCheckLine]:
    """Per town: what the batch needs from its account and what the account can give."""
    needs: dict[int, tuple[str, Decimal]] = {}
    for item in batch.items.select_related("application__union__parent"):
        town = item.application.union.parent
        name, total = needs.get(town.pk, (town.name, Decimal("0")))
        needs[town.pk] = (name, total + item.amount)
    balances = {
        a.town_id: a.balance
        for a in FundAccount.objects.filter(
            town_id__in=needs, source=batch.fund_source, year=batch.fund_year
        )
    }
    elsewhere: dict[int, Decimal] = {}
    others = BatchItem.objects.filter(
        batch__state__in=OPEN_BATCH_STATES,
        batch__fund_source=batch.fund_source,
        batch__fund_year=batch.fund_year,
        application__union__parent_id__in=needs,
    ).exclude(batch=batch)
    for town_id, amount in others.values_list("application__union__parent_id", "amount"):
        elsewhere[town_id] = elsewhere.get(town_id, Decimal("0")) + amount
    return [
        FundCheckLine(
            town=name,
            source=source_label(batch.fund_source),
            year=batch.fund_year,
            needed=needed,
            balance=balances.get(town_id, Decimal("0")),
            committed_elsewhere=elsewhere.get(town_id, Decimal("0")),
        )
        for town_id, (name, needed) in sorted(needs.items(), key=lambda kv: kv[1][0])
    ]


def _funds_errors(lines: list[FundCheckLine]) -> list[str]:
    return [
        _(
            "%(source)s of %(town)s for %(year)d has %(available)s available after other open "
            "batches; this batch needs %(needed)s."
        )
        % {
            "source": line.source,
            "town": line.town,
            "year": line.year,
            "available": yuan(line.available),
            "needed": yuan(line.needed),
        }
        for line in lines
        if not line.ok
    ]


def bank_file(batch: PaymentBatch) -> bytes:
    """The XLSX the bank imports: one row per case, its payout account's full card as text.

    The account is the case's (fixed at approval), not the worker's card of today.
    """
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = batch.reference
    sheet.append(["姓名", "卡号", "开户银行", "开户网点", "金额", "摘要"])
    items = batch.items.select_related("application__worker").order_by("pk")
    for item in items:
        case = item.application
        row = [
            case.worker.name,
            case.payout_card,
            case.payout_bank_name,
            case.payout_bank_branch,
            item.amount,
            f"临时救助 {batch.reference} {case.reference}",
        ]
        # The one formula guard: text cells only, the amount stays a number.
        sheet.append([neutralize(v) for v in row])
    for row in sheet.iter_rows(min_row=2):
        row[1].number_format = "@"  # a 19-digit card must not become 6.22E+18
        row[4].number_format = "0.00"
    for column, width in zip("ABCDEF", (12, 24, 24, 20, 12, 36), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@transaction.atomic
def batch_export(*, batch: PaymentBatch, user, source: str = "web", request=None) -> bytes:
    """The bank file, for district officers only, once the funds check passes.

    Each export is in every case's audit trail and in the access log (with the request's
    address when there is one), in the same transaction as the file is made.
    """
    locked = _lock_batch(batch, user, BatchState.DRAFT, BatchState.EXPORTED)
    if not access.may_see_full(user, access.BANK_FILE):
        raise NotAllowed(_("Your role may not see full card numbers."))
    errors = _funds_errors(batch_check_funds(locked))
    if errors:
        raise ValidationError(errors)
    items = list(locked.items.select_related("application__worker"))
    missing = [_label(i.application) for i in items if not i.application.payout_card]
    if missing:
        raise ValidationError(_("No payout account on: %(cases)s.") % {"cases": "、".join(missing)})
    locked.state = BatchState.EXPORTED
    locked.exported_at = timezone.now()
    locked.save(update_fields=["state", "exported_at"])
    for item in items:
        audit(
            actor=user,
            action="batch_export",
            application=item.application,
            comment=locked.reference,
            source=source,
        )
    content = bank_file(locked)
    access.record(
        request,
        AccessKind.BANK_FILE,
        obj=locked,
        user=user,
        # The cases' references, so that searching the log for a case finds its bank files.
        detail=" ".join(i.application.reference for i in items),
    )
    return content


@transaction.atomic
def batch_mark_paid(
    *, batch: PaymentBatch, user, bank_paid_on: dt.date, source: str = "web"
) -> PaymentBatch:
    """The bank paid the file on `bank_paid_on`: every case gets its payout, or none does.

    The fund accounts are locked only for the short final write (issue 12): the batch and its
    cases are locked first, every case is checked and its payout built and the accounts'
    balances checked without any account lock, so payouts from those accounts go on
    meanwhile; then the accounts are locked in id order (lock_accounts), their balances
    checked again on the locked rows, and the payouts written.
    """
    locked = _lock_batch(batch, user, BatchState.EXPORTED)
    if bank_paid_on is None:
        raise ValidationError({"bank_paid_on": _("This field is required.")})
    if bank_paid_on > timezone.localdate():
        raise ValidationError({"bank_paid_on": _("The bank's date cannot be in the future.")})
    items = list(locked.items.order_by("application_id"))
    apps = {a.pk: a for a in _lock_applications(user, [i.application_id for i in items])}
    # Phase one: check every case and build its payout; no fund account is locked.
    planned = []
    for item in items:
        app = apps[item.application_id]
        if not wf.role_may(user, "disburse", app.state):
            raise ValidationError(
                "{} {}".format(
                    _("%(case)s is “%(state)s”: it can no longer be paid in this batch.")
                    % {"case": _label(app), "state": app.get_state_display()},
                    last_change_text(app),
                )
            )
        try:
            payout = prepare_payout(
                app,
                user,
                amount=item.amount,
                paid_on=bank_paid_on,
                method=PaymentMethod.BANK_TRANSFER,
                fund_source=locked.fund_source,
                fund_year=locked.fund_year,
                voucher_no=locked.reference,
            )
        except ValidationError as exc:
            raise ValidationError(
                [f"{_label(app)}: {message}" for message in exc.messages]
            ) from None
        planned.append((item, app, payout))
    needs: dict[tuple, Decimal] = defaultdict(Decimal)
    cases: dict[tuple, list[str]] = defaultdict(list)
    for _item, app, payout in planned:
        key = (payout.town, payout.fund_source, payout.fund_year)
        needs[key] += payout.amount
        cases[key].append(_label(app))
    # Every shortfall at once, while nothing is locked (the common refusal).
    _check_cover(find_accounts(needs), needs, cases)
    # Lock order (relief.services.totals): the workers' and their unions' totals rows, one
    # upsert for the whole batch, before the accounts; the towns' rows after the payouts.
    totals = payout_changes([payout for _item, _app, payout in planned])
    totals.write_own()
    # Phase two: the accounts locked in id order, their balances checked again, the write.
    accounts = lock_accounts(needs)
    _check_cover(accounts, needs, cases)
    for key, amount in needs.items():
        town, fund_source, fund_year = key
        draw_locked(accounts[key], town=town, source=fund_source, year=fund_year, amount=amount)
    # The cases' "paid" notices go out in one pass after the commit: one message per robot
    # listing the batch's cases, not one per case (notifications.hooks.batched).
    with batched():
        for item, app, payout in planned:
            item.disbursement = write_payout(app, user, payout, comment=locked.title, source=source)
            item.save(update_fields=["disbursement"])
    totals.write_shared()
    locked.state = BatchState.PAID
    locked.bank_paid_on = bank_paid_on
    locked.paid_at = timezone.now()
    locked.save(update_fields=["state", "bank_paid_on", "paid_at"])
    return locked


def _check_cover(accounts: dict, needs: dict, cases: dict) -> None:
    """Refuse naming each account that cannot give what the batch needs, and its cases."""
    errors = []
    for key, amount in needs.items():
        town, fund_source, fund_year = key
        error = cover_error(
            accounts.get(key), town=town, source=fund_source, year=fund_year, amount=amount
        )
        if error:
            errors.append(f"{'、'.join(cases[key])}: {error}")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def batch_cancel(*, batch: PaymentBatch, user, reason: str, source: str = "web") -> PaymentBatch:
    """Drop an unpaid batch (its cases stay approved and may go into another batch)."""
    locked = _lock_batch(batch, user, *OPEN_BATCH_STATES)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the batch is cancelled.")})
    locked.state = BatchState.CANCELLED
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["state", "cancelled_at"])
    for item in locked.items.select_related("application"):
        audit(
            actor=user,
            action="batch_cancel",
            application=item.application,
            comment=f"{locked.reference}: {reason}",
            source=source,
        )
    return locked

"""Recording payouts against an approved case; the last one moves it to disbursed.

Every payout draws on a fund account (the case's town, a source, a year) and is refused when
the account cannot cover it. A payout the bank returned is reversed by a new, negative entry
with a reason; nothing is edited or deleted.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.models import (
    OPEN_BATCH_STATES,
    Advance,
    Application,
    Disbursement,
    FundSource,
    PaymentBatch,
    PaymentMethod,
)
from relief.models.money import clean_amount, yuan
from relief.services.audit import AMOUNT_FIELDS, audit, diff, snapshot
from relief.services.funds import (
    fund_choices,
    fund_draw,
    fund_give_back,
    no_fund_error,
    pick_fund,
)
from relief.services.locking import lock_application
from relief.services.totals import payout_changes, reversal_changes

DISBURSEMENT_FIELDS = ("amount", "paid_on", "method", "fund_source", "fund_year", "voucher_no")


@transaction.atomic
def disbursement_record(
    *,
    application: Application,
    user,
    amount: Decimal,
    paid_on,
    method: str,
    fund_source: str = "",
    fund_year: int | None = None,
    voucher_no: str = "",
    comment: str = "",
    source: str = "web",
) -> Disbursement:
    """Pay part or all of the approved amount; never more than what is outstanding, and never
    more than the fund account holds. Without `fund_source` the oldest account of the case's
    town that can pay the whole amount is used (relief.services.funds.pick_fund); with a source
    but no `fund_year`, the year of `paid_on`."""
    locked = lock_application(application, user, "disburse")
    batch = (
        PaymentBatch.objects.filter(items__application=locked, state__in=OPEN_BATCH_STATES)
        .values_list("reference", flat=True)
        .first()
    )
    if batch:
        raise ValidationError(
            _("This case is in payment batch %(batch)s: pay it with the batch or cancel the batch.")
            % {"batch": batch}
        )
    return record_payout(
        locked,
        user,
        amount=amount,
        paid_on=paid_on,
        method=method,
        fund_source=fund_source,
        fund_year=fund_year,
        voucher_no=voucher_no,
        comment=comment,
        source=source,
    )


def record_payout(
    locked: Application,
    user,
    *,
    amount,
    paid_on,
    method,
    fund_source,
    fund_year=None,
    voucher_no="",
    comment="",
    source="web",
) -> Disbursement:
    """The payout itself, on an application row the caller has locked (inside a transaction)."""
    payout = prepare_payout(
        locked,
        user,
        amount=amount,
        paid_on=paid_on,
        method=method,
        fund_source=fund_source,
        fund_year=fund_year,
        voucher_no=voucher_no,
    )
    # Lock order (relief.services.totals): the worker's and its union's totals rows before the
    # fund account, the town's after.
    totals = payout_changes([payout])
    totals.write_own()
    fund_draw(
        town=payout.town, source=payout.fund_source, year=payout.fund_year, amount=payout.amount
    )
    payout = write_payout(locked, user, payout, comment=comment, source=source)
    totals.write_shared()
    return payout


def prepare_payout(
    locked: Application,
    user,
    *,
    amount,
    paid_on,
    method,
    fund_source,
    fund_year=None,
    voucher_no="",
) -> Disbursement:
    """Check a payout on a locked case and build it, unsaved; no fund account is touched.

    The fund account is drawn on separately (fund_draw, or a batch's draws on accounts locked
    together), so that checking many payouts holds no account lock.
    """
    amount = clean_amount(amount)
    outstanding = locked.approved_amount - locked.paid_amount
    if amount > outstanding:
        raise ValidationError(
            {
                "amount": _(
                    "%(amount)s is more than the %(outstanding)s still to be paid on this case "
                    "(approved %(approved)s, paid %(paid)s)."
                )
                % {
                    "amount": yuan(amount),
                    "outstanding": yuan(outstanding),
                    "approved": yuan(locked.approved_amount),
                    "paid": yuan(locked.paid_amount),
                }
            }
        )
    if method == PaymentMethod.BANK_TRANSFER and not locked.payout_card:
        # The case's own account (fixed at approval), never whatever card the worker has now.
        raise ValidationError(
            {"method": _("This case has no payout account: give it one (收款账户) or pay in cash.")}
        )
    if paid_on is None:
        raise ValidationError({"paid_on": _("This field is required.")})
    town = locked.union.parent
    if not fund_source:
        chosen = pick_fund(fund_choices([town])[town.pk], amount)
        if chosen is None:
            raise no_fund_error(town, amount)
        fund_source, fund_year = chosen.source, chosen.year
    if fund_source not in FundSource.values:
        raise ValidationError({"fund_source": _("Choose a fund source.")})
    fund_year = fund_year or paid_on.year
    payout = Disbursement(
        application=locked,
        amount=amount,
        paid_on=paid_on,
        method=method,
        fund_source=fund_source,
        fund_year=fund_year,
        town=town,
        voucher_no=(voucher_no or "").strip(),
        recorded_by=user,
    )
    payout.full_clean(exclude=["reverses"])
    return payout


def write_payout(
    locked: Application, user, payout: Disbursement, *, comment="", source="web"
) -> Disbursement:
    """Save a prepared payout whose amount the caller has drawn from its fund account: the
    case's paid amount, its move to disbursed when paid in full, and the audit entry. The
    dashboard's totals are the caller's (payout_changes: write_own before the fund account's
    lock, write_shared after)."""
    payout.save()
    before = snapshot(locked, AMOUNT_FIELDS)
    locked.paid_amount += payout.amount
    from_state = locked.state
    if locked.paid_amount == locked.approved_amount:
        locked.mark_disbursed()
    locked.version += 1
    locked.save()
    audit(
        actor=user,
        action="disburse",
        application=locked,
        disbursement=payout,
        from_state=from_state,
        to_state=locked.state,
        comment=comment,
        changes={
            **diff({}, snapshot(payout, DISBURSEMENT_FIELDS)),
            **diff(before, snapshot(locked, AMOUNT_FIELDS)),
        },
        source=source,
    )
    return payout


@transaction.atomic
def disbursement_reverse(
    *, payout: Disbursement, user, reason: str, reversed_on=None, source: str = "web"
) -> Disbursement:
    """The bank returned `payout`: a compensating entry gives the money back to its fund
    account and the case owes it again (a paid case goes back to approved)."""
    locked = lock_application(payout.application, user, "reverse")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the payout is reversed.")})
    original = Disbursement.objects.filter(pk=payout.pk, application=locked).first()
    if original is None:
        raise ValidationError(_("This payout does not belong to this case."))
    if original.is_reversal:
        raise ValidationError(_("A reversal cannot itself be reversed."))
    if Disbursement.objects.filter(reverses=original).exists():
        raise ValidationError(_("This payout has already been reversed."))
    if Advance.objects.filter(payout=original).exists():
        # Settled against the district's decision (or borne as a shortfall): undoing it here
        # would leave the case's advance and its shortfall record telling a different story.
        raise ValidationError(
            _("This payout is an emergency advance (先行救助): it cannot be reversed here.")
        )
    reversal = Disbursement(
        application=locked,
        amount=-original.amount,
        paid_on=reversed_on or timezone.localdate(),
        method=original.method,
        fund_source=original.fund_source,
        fund_year=original.fund_year,
        town_id=original.town_id,
        voucher_no=original.voucher_no,
        reverses=original,
        reason=reason,
        recorded_by=user,
    )
    reversal.full_clean(exclude=["reverses"])
    # Lock order (relief.services.totals): the own totals rows before the fund account, which
    # the reversal row's trigger (PostgreSQL) and fund_give_back lock, the town's after.
    totals = reversal_changes(original)
    totals.write_own()
    reversal.save()
    fund_give_back(
        town=original.town,
        source=original.fund_source,
        year=original.fund_year,
        amount=original.amount,
    )
    totals.write_shared()
    before = snapshot(locked, AMOUNT_FIELDS)
    from_state = locked.state
    locked.paid_amount -= original.amount
    if locked.state == wf.S_DISBURSED:
        locked.payment_reversed()
    locked.version += 1
    locked.save()
    audit(
        actor=user,
        action="reverse",
        application=locked,
        disbursement=reversal,
        from_state=from_state,
        to_state=locked.state,
        comment=reason,
        changes={
            "reverses": [None, str(original.pk)],
            "amount": [None, f"{reversal.amount:.2f}"],
            **diff(before, snapshot(locked, AMOUNT_FIELDS)),
        },
        source=source,
    )
    return reversal

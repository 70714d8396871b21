"""Recording payouts against an approved case; the last one moves it to disbursed."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from relief.models import Application, Disbursement, PaymentMethod
from relief.models.money import to_money, yuan
from relief.services.audit import AMOUNT_FIELDS, audit, diff, snapshot
from relief.services.locking import lock_application

DISBURSEMENT_FIELDS = ("amount", "paid_on", "method", "fund_source", "voucher_no")


@transaction.atomic
def disbursement_record(
    *,
    application: Application,
    user,
    amount: Decimal,
    paid_on,
    method: str,
    fund_source: str,
    voucher_no: str = "",
    comment: str = "",
    source: str = "web",
) -> Disbursement:
    """Pay part or all of the approved amount; never more than what is outstanding."""
    locked = lock_application(application, user, "disburse")
    amount = to_money(amount)
    if amount is None or amount <= 0:
        raise ValidationError({"amount": _("Enter an amount greater than zero.")})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("Amounts have at most two decimals (fen).")})
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
    if method == PaymentMethod.BANK_TRANSFER and not locked.worker.bank_card:
        raise ValidationError(
            {"method": _("The worker has no bank card on file: record the card or pay in cash.")}
        )
    payout = Disbursement(
        application=locked,
        amount=amount,
        paid_on=paid_on,
        method=method,
        fund_source=fund_source,
        voucher_no=(voucher_no or "").strip(),
        recorded_by=user,
    )
    payout.full_clean()
    payout.save()
    before = snapshot(locked, AMOUNT_FIELDS)
    locked.paid_amount += amount
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

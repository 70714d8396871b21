"""收款账户: the account a case is paid to, fixed with the case and moved only by an audited step.

A worker's card on file may change at any time (their union updates the record); a case the
district has approved keeps the account it was approved with, so nobody redirects money
already decided by editing the worker. Payouts by bank transfer and the bank file read the
case's account, never the worker's.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from relief.errors import NotAllowed
from relief.idcard import clean_card_number, mask_card
from relief.models import Application, BatchItem, BatchState
from relief.services.audit import audit
from relief.services.locking import lock_application
from unions.models import Role


def _account_text(name: str, branch: str, card: str) -> str:
    return " ".join(part for part in (name, branch, mask_card(card)) if part)


def fix_payout_account(locked: Application) -> dict:
    """At approval, before the case is saved: a case without an account takes the worker's
    card on file. Returns the change for the approval's trail entry."""
    if locked.payout_card:
        return {}
    worker = locked.worker
    if not worker.bank_card:
        return {}  # paid in cash, or given an account later through payout_account_change
    locked.payout_bank_name = worker.bank_name
    locked.payout_bank_branch = worker.bank_branch
    locked.payout_card = worker.bank_card
    return {
        "payout_account": [
            "",
            _account_text(worker.bank_name, worker.bank_branch, worker.bank_card),
        ]
    }


@transaction.atomic
def payout_account_change(
    *,
    application: Application,
    user,
    bank_name: str,
    bank_branch: str,
    bank_card: str,
    reason: str,
    source: str = "web",
) -> Application:
    """The district moves an approved, unpaid case to another account, saying why.

    Refused while the case sits in an exported bank file: the bank may be paying the old
    account; cancel the batch first.
    """
    if user.role != Role.DISTRICT_OFFICER:
        raise NotAllowed(_("Only district officers change a case's payout account."))
    locked = lock_application(application, user, "payout_account")
    reason = (reason or "").strip()
    bank_name = (bank_name or "").strip()
    bank_branch = (bank_branch or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("This field is required.")
    try:
        bank_card = clean_card_number(bank_card)
    except ValidationError as exc:
        errors["bank_card"] = exc.messages[0]
    else:
        if not bank_card:
            errors["bank_card"] = _("This field is required.")
    if not bank_name:
        errors["bank_name"] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    exported = (
        BatchItem.objects.filter(application=locked, batch__state=BatchState.EXPORTED)
        .values_list("batch__reference", flat=True)
        .first()
    )
    if exported:
        raise ValidationError(
            _(
                "This case is in bank file %(batch)s, already sent to the bank: cancel that "
                "batch first, then change the account."
            )
            % {"batch": exported}
        )
    before = _account_text(locked.payout_bank_name, locked.payout_bank_branch, locked.payout_card)
    locked.payout_bank_name = bank_name
    locked.payout_bank_branch = bank_branch
    locked.payout_card = bank_card
    locked.version += 1
    locked.save()
    audit(
        actor=user,
        action="payout_account",
        application=locked,
        comment=reason,
        changes={"payout_account": [before, _account_text(bank_name, bank_branch, bank_card)]},
        source=source,
    )
    return locked

"""Changes a caseworker proposes, with a case, to the record of a worker another union holds.

The rule (see relief.services.workers.workers_editable_by): only the holding union's chain
changes a worker's record. A caseworker elsewhere who learns a new phone number or payout
account on a visit records it here, with the case; it does nothing until the town reviewer who
verifies the case confirms it (relief.services.applications.application_verify). Confirmed,
the account becomes the case's payout account; the worker's record changes as well only when
the reviewer's own scope holds the worker's union. Every step is in the case's trail, with
card numbers masked.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relief.errors import NotAllowed
from relief.idcard import clean_card_number, mask_card
from relief.models import Application, ProposalStatus, ProposedChange
from relief.phones import clean_phone_number
from relief.services.audit import audit
from relief.services.locking import lock_application
from relief.services.workers import workers_editable_by
from unions.models import Role

PROPOSAL_FIELDS = ("phone", "bank_name", "bank_branch", "bank_card")


def _clean(data: dict) -> dict:
    unknown = set(data) - set(PROPOSAL_FIELDS)
    if unknown:
        raise TypeError(f"proposal: unknown fields {sorted(unknown)}")
    values = {k: (data.get(k) or "").strip() for k in PROPOSAL_FIELDS}
    errors = {}
    try:
        values["bank_card"] = clean_card_number(values["bank_card"])
    except ValidationError as exc:
        errors["bank_card"] = exc.messages[0]
    try:
        values["phone"] = clean_phone_number(values["phone"])
    except ValidationError as exc:
        errors["phone"] = exc.messages[0]
    card = values["bank_card"]
    if card and not values["bank_name"]:
        errors["bank_name"] = _("Name the bank of the new card.")
    if (values["bank_name"] or values["bank_branch"]) and not card:
        errors["bank_card"] = _("Enter the new card's number, or leave the bank empty.")
    if errors:
        raise ValidationError(errors)
    return values


def _trail(values: dict) -> dict:
    return {k: (mask_card(v) if k == "bank_card" else v) for k, v in values.items() if v}


def proposal_save(*, locked: Application, user, data: dict, source: str = "web"):
    """Record (or replace, or drop when empty) the pending proposal of a locked case.

    Called by the case's own write path (creating or correcting a draft or returned case),
    inside its transaction, after it has locked the case and checked the caseworker's step.
    """
    if user.role != Role.CASEWORKER:
        raise NotAllowed(_("Only the filing caseworker proposes changes with a case."))
    if workers_editable_by(user).filter(pk=locked.worker_id).exists():
        # Someone who may change the record changes it; a proposal would only wait for nothing.
        raise NotAllowed(_("You may change this worker's record directly."))
    values = _clean(data)
    current = ProposedChange.objects.filter(application=locked).first()
    if current is not None and current.status != ProposalStatus.PENDING:
        current = None  # a decided proposal is history; a new one starts afresh
    if not any(values.values()):
        if current is not None:
            current.delete()
            audit(
                actor=user,
                action="proposal_withdrawn",
                application=locked,
                source=source,
            )
        return None
    before = _trail({k: getattr(current, k) for k in PROPOSAL_FIELDS}) if current else {}
    if current is None:
        ProposedChange.objects.filter(application=locked).delete()
        current = ProposedChange(application=locked, proposed_by=user)
    for name, value in values.items():
        setattr(current, name, value)
    current.proposed_by = user
    current.status = ProposalStatus.PENDING
    current.save()
    after = _trail(values)
    if before != after:
        audit(
            actor=user,
            action="proposal",
            application=locked,
            changes={k: [before.get(k), after.get(k)] for k in sorted({*before, *after})},
            source=source,
        )
    return current


def pending_proposal(application: Application) -> ProposedChange | None:
    return ProposedChange.objects.filter(
        application=application, status=ProposalStatus.PENDING
    ).first()


def proposal_decide(*, locked: Application, user, confirm: bool, source: str = "web") -> None:
    """The verifying reviewer's decision, inside application_verify's transaction."""
    from relief.services.workers import worker_update

    proposal = pending_proposal(locked)
    if proposal is None:
        return
    proposal.status = ProposalStatus.CONFIRMED if confirm else ProposalStatus.DECLINED
    proposal.decided_by = user
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    changes = {}
    if confirm and proposal.bank_card:
        before = mask_card(locked.payout_card)
        locked.payout_bank_name = proposal.bank_name
        locked.payout_bank_branch = proposal.bank_branch
        locked.payout_card = proposal.bank_card
        locked.save(update_fields=["payout_bank_name", "payout_bank_branch", "payout_card"])
        changes["payout_card"] = [before, mask_card(proposal.bank_card)]
    record_updated = False
    if confirm and workers_editable_by(user).filter(pk=locked.worker_id).exists():
        data = {k: getattr(proposal, k) for k in PROPOSAL_FIELDS if getattr(proposal, k)}
        worker_update(worker=locked.worker, user=user, data=data, source=source)
        record_updated = True
    audit(
        actor=user,
        action="proposal_confirmed" if confirm else "proposal_declined",
        application=locked,
        comment=""
        if not confirm or record_updated
        else _("The worker's record is held by %(union)s and was not changed.")
        % {"union": locked.worker.union.name},
        changes=changes,
        source=source,
    )


@transaction.atomic
def application_propose(*, application: Application, user, data: dict, source: str = "web"):
    """The caseworker's proposal for their own draft or returned case (see proposal_save)."""
    locked = lock_application(application, user, "edit")
    proposal_save(locked=locked, user=user, data=data, source=source)
    return locked

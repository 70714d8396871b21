"""先行救助: granting, paying and cancelling an emergency advance, and settling it when the
district decides the case.

Each step takes the one write path: the case row is locked with its scope (404), version (409),
role (403) and state checked (relief.services.locking), then the advance row; the change is
saved and audited in one transaction. The payment is an ordinary payout (Disbursement) drawn on
a fund account the policy allows, under the account's lock (relief.services.funds), so fund
balances, the PostgreSQL guards, the reports and the worker's totals all include it.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.models import (
    Advance,
    AdvanceShortfall,
    AdvanceState,
    Application,
    Disbursement,
    FundSource,
    PaymentMethod,
    ShortfallCause,
    VerificationBasis,
)
from relief.models.money import clean_amount, to_money, yuan
from relief.services.audit import AMOUNT_FIELDS, audit, diff, site_language, snapshot
from relief.services.caps import check_amount_within_caps
from relief.services.funds import fund_choices, fund_draw, pick_fund, source_label
from relief.services.locking import lock_application
from relief.services.totals import payout_changes
from relief.workdays import add_workdays

A = AdvanceState


def _lock_advance(locked: Application, states) -> Advance | None:
    return (
        Advance.objects.select_for_update()
        .filter(application=locked, state__in=states)
        .order_by("-pk")
        .first()
    )


def advance_refusal(application: Application) -> str:
    """Why the policy of this case allows no advance on it, or "" when it does."""
    policy = application.policy
    if not policy.advance_allowed:
        return _("%(policy)s does not allow emergency advances (先行救助).") % {"policy": policy}
    qualifying = set(policy.advance_categories.values_list("pk", flat=True))
    mine = set(application.categories.values_list("pk", flat=True))
    if not qualifying & mine:
        names = "、".join(policy.advance_categories.values_list("name", flat=True)) or "—"
        return _(
            "Under %(policy)s only these hardship categories qualify for an advance: "
            "%(categories)s."
        ) % {"policy": policy, "categories": names}
    return ""


def phone_may_stand_in(application: Application) -> bool:
    """The case has a category for which the policy accepts a phone verification."""
    phone = set(application.policy.advance_phone_categories.values_list("pk", flat=True))
    return bool(phone & set(application.categories.values_list("pk", flat=True)))


@transaction.atomic
def advance_grant(
    *,
    application: Application,
    user,
    amount,
    reason: str,
    phone_verified_on=None,
    phone_contact: str = "",
    phone_findings: str = "",
    source: str = "web",
) -> Advance:
    """A town reviewer grants an advance on a case awaiting the district: within the policy's
    advance cap, the requested amount and the per-worker caps, on a home visit (or, for the
    categories the policy names, a recorded phone verification)."""
    locked = lock_application(application, user, "advance_grant")
    refusal = advance_refusal(locked)
    if refusal:
        raise ValidationError(refusal)
    if _lock_advance(locked, [A.GRANTED, A.PAID, A.SETTLED, A.SHORT]) is not None:
        raise ValidationError(_("This case already has an emergency advance."))
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the worker cannot wait for the district's approval.")
    phone_contact = (phone_contact or "").strip()
    phone_findings = (phone_findings or "").strip()
    if locked.home_visits.exists():
        basis = VerificationBasis.HOME_VISIT
    elif phone_may_stand_in(locked):
        basis = VerificationBasis.PHONE
        if phone_verified_on is None:
            errors["phone_verified_on"] = _(
                "Without a home visit, give the date of the phone verification."
            )
        elif phone_verified_on > timezone.localdate():
            errors["phone_verified_on"] = _("The phone verification cannot be in the future.")
        if not phone_findings:
            errors["phone_findings"] = _("Say what the call confirmed.")
    else:
        raise ValidationError(
            _("Record a home visit first: an advance is granted on verified facts.")
        )
    try:
        amount = clean_amount(to_money(amount))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        raise ValidationError(errors) from None
    cap = locked.policy.advance_cap
    if amount > cap:
        errors["amount"] = _(
            "%(amount)s is above the advance cap of %(cap)s set by %(policy)s."
        ) % {"amount": yuan(amount), "cap": yuan(cap), "policy": locked.policy}
    elif amount > locked.requested_amount:
        errors["amount"] = _("%(amount)s is more than the %(requested)s requested.") % {
            "amount": yuan(amount),
            "requested": yuan(locked.requested_amount),
        }
    if errors:
        raise ValidationError(errors)
    check_amount_within_caps(locked, amount, field="amount")
    today = timezone.localdate()
    workdays = locked.policy.advance_file_workdays
    advance = Advance(
        application=locked,
        amount=amount,
        reason=reason,
        basis=basis,
        phone_verified_on=phone_verified_on if basis == VerificationBasis.PHONE else None,
        phone_contact=phone_contact if basis == VerificationBasis.PHONE else "",
        phone_findings=phone_findings if basis == VerificationBasis.PHONE else "",
        granted_by=user,
        granted_at=timezone.now(),
        file_due_on=add_workdays(today, workdays) if workdays else None,
    )
    advance.full_clean(exclude=["application", "granted_by", "payout"])
    advance.save()
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    changes = {
        "advance": [None, f"{amount:.2f}"],
        **diff({}, snapshot(advance, ("basis", "file_due_on"))),
    }
    if basis == VerificationBasis.PHONE:
        changes["phone_verified_on"] = [None, phone_verified_on.isoformat()]
    audit(
        actor=user,
        action="advance_grant",
        application=locked,
        comment=reason,
        changes=changes,
        source=source,
    )
    return advance


def advance_fund_choices(application: Application, amount: Decimal):
    """The accounts of the case's town with `amount` available, among the sources the policy
    allows for an advance (oldest first)."""
    town = application.union.parent
    allowed = set(application.policy.advance_fund_sources())
    return [c for c in fund_choices([town])[town.pk] if c.source in allowed]


@transaction.atomic
def advance_pay(
    *,
    application: Application,
    user,
    paid_on,
    method: str,
    fund_source: str = "",
    fund_year: int | None = None,
    voucher_no: str = "",
    comment: str = "",
    source: str = "web",
) -> Disbursement:
    """The town or the district records the payment of the granted advance: one payout of its
    whole amount from a fund account the policy allows. By bank transfer it goes to the
    worker's card on file, which becomes the case's payout account."""
    from relief.services.payout_accounts import fix_payout_account

    locked = lock_application(application, user, "advance_pay")
    advance = _lock_advance(locked, [A.GRANTED])
    if advance is None:
        raise ValidationError(_("This case has no emergency advance awaiting payment."))
    if paid_on is None:
        raise ValidationError({"paid_on": _("This field is required.")})
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("The payment date cannot be in the future.")})
    if method not in PaymentMethod.values:
        raise ValidationError({"method": _("Choose how it was paid.")})
    allowed = locked.policy.advance_fund_sources()
    town = locked.union.parent
    if not fund_source:
        chosen = pick_fund(advance_fund_choices(locked, advance.amount), advance.amount)
        if chosen is None:
            raise ValidationError(
                {
                    "fund_source": _(
                        "No account of %(town)s among %(sources)s has %(amount)s available."
                    )
                    % {
                        "town": town.name,
                        "sources": "、".join(source_label(s) for s in allowed) or "—",
                        "amount": yuan(advance.amount),
                    }
                }
            )
        fund_source, fund_year = chosen.source, chosen.year
    if fund_source not in FundSource.values:
        raise ValidationError({"fund_source": _("Choose a fund source.")})
    if fund_source not in allowed:
        raise ValidationError(
            {
                "fund_source": _("%(policy)s allows advances only from: %(sources)s.")
                % {
                    "policy": locked.policy,
                    "sources": "、".join(source_label(s) for s in allowed) or "—",
                }
            }
        )
    account_change = {}
    if method == PaymentMethod.BANK_TRANSFER:
        account_change = fix_payout_account(locked)
        if not locked.payout_card:
            raise ValidationError(
                {"method": _("The worker has no bank card on file: pay the advance in cash.")}
            )
    fund_year = fund_year or paid_on.year
    payout = Disbursement(
        application=locked,
        amount=advance.amount,
        paid_on=paid_on,
        method=method,
        fund_source=fund_source,
        fund_year=fund_year,
        town=town,
        voucher_no=(voucher_no or "").strip(),
        recorded_by=user,
    )
    payout.full_clean(exclude=["reverses", "application"])
    before = snapshot(locked, (*AMOUNT_FIELDS, "advance_amount"))
    # The case's advance first: the database allows its paid amount up to it (and the
    # PostgreSQL payout trigger reads it) before the payout row goes in.
    locked.advance_amount = advance.amount
    locked.save(
        update_fields=[
            "advance_amount",
            "payout_bank_name",
            "payout_bank_branch",
            "payout_card",
            "updated_at",
        ]
    )
    # The dashboard's monthly totals count the advance with the period's payouts (issue 16);
    # lock order (relief.services.totals): own rows, the fund account, the town's rows.
    totals = payout_changes([payout])
    totals.write_own()
    fund_draw(town=town, source=fund_source, year=fund_year, amount=advance.amount)
    payout.save()
    totals.write_shared()
    locked.paid_amount += advance.amount
    locked.version += 1
    locked.save()
    advance.pay(payout)
    advance.save()
    audit(
        actor=user,
        action="advance_pay",
        application=locked,
        disbursement=payout,
        comment=(comment or "").strip(),
        changes={
            "amount": [None, f"{payout.amount:.2f}"],
            "paid_on": [None, paid_on.isoformat()],
            "method": [None, method],
            "fund_source": [None, fund_source],
            "fund_year": [None, str(fund_year)],
            "voucher_no": [None, payout.voucher_no],
            **diff(before, snapshot(locked, (*AMOUNT_FIELDS, "advance_amount"))),
            **account_change,
        },
        source=source,
    )
    return payout


@transaction.atomic
def advance_cancel(*, application: Application, user, reason: str, source: str = "web"):
    """The town withdraws an advance it granted, before it is paid, saying why."""
    locked = lock_application(application, user, "advance_cancel")
    advance = _lock_advance(locked, [A.GRANTED])
    if advance is None:
        raise ValidationError(
            _("This case has no unpaid emergency advance: a paid advance cannot be cancelled.")
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("This field is required.")})
    advance.cancel(reason)
    advance.save()
    locked.version += 1
    locked.save(update_fields=["version", "updated_at"])
    audit(
        actor=user,
        action="advance_cancel",
        application=locked,
        comment=reason,
        changes={"advance": [f"{advance.amount:.2f}", None]},
        source=source,
    )
    return advance


CAUSE_OF = {
    "approve": ShortfallCause.APPROVED_LESS,
    "reject": ShortfallCause.REJECTED,
    "withdraw": ShortfallCause.WITHDRAWN,
}


def settle_advance(locked: Application, user, decision: str, *, source: str = "web") -> None:
    """After the district's decision (approve, reject) or a withdrawal, on the case the caller
    has locked and moved: an unpaid advance lapses; a paid one is covered by the approved
    amount, or the difference is recorded as a shortfall borne by the fund it came from. A case
    whose advance covers the whole approved amount is paid already (approved -> disbursed)."""
    advance = _lock_advance(locked, [A.GRANTED, A.PAID])
    if advance is None:
        return
    if advance.state == A.GRANTED:
        with site_language():
            reason = str(wf.TRANSITION_LABELS[decision])
            comment = _("Not paid before the district's decision: the advance lapses.")
        advance.cancel(reason)
        advance.save()
        audit(
            actor=user,
            action="advance_cancel",
            application=locked,
            comment=comment,
            changes={"advance": [f"{advance.amount:.2f}", None]},
            source=source,
        )
        return
    approved = locked.approved_amount if decision == "approve" else None
    covered = approved if approved is not None else Decimal("0")
    if covered >= advance.amount:
        advance.settle()
        advance.save()
        audit(
            actor=user,
            action="advance_settle",
            application=locked,
            changes={"advance": [f"{advance.amount:.2f}", f"{advance.amount:.2f}"]},
            source=source,
        )
    else:
        payout = advance.payout
        shortfall = AdvanceShortfall.objects.create(
            advance=advance,
            application=locked,
            amount=advance.amount - covered,
            cause=CAUSE_OF[decision],
            advance_amount=advance.amount,
            approved_amount=approved,
            town_id=payout.town_id,
            fund_source=payout.fund_source,
            fund_year=payout.fund_year,
            recorded_by=user,
        )
        advance.fall_short()
        advance.save()
        with site_language():
            comment = _("%(amount)s of the advance is not covered: borne by %(fund)s.") % {
                "amount": yuan(shortfall.amount),
                "fund": shortfall.fund_label,
            }
        audit(
            actor=user,
            action="advance_shortfall",
            application=locked,
            comment=comment,
            changes={
                "shortfall": [None, f"{shortfall.amount:.2f}"],
                "cause": [None, shortfall.cause],
            },
            source=source,
        )
    if (
        locked.state == wf.S_APPROVED
        and locked.paid_amount > 0
        and locked.paid_amount >= locked.approved_amount
    ):
        from_state = locked.state
        locked.mark_disbursed()
        locked.version += 1
        locked.save()
        with site_language():
            comment = _("The emergency advance paid covers the approved amount.")
        audit(
            actor=user,
            action="mark_disbursed",
            application=locked,
            from_state=from_state,
            to_state=locked.state,
            comment=comment,
            source=source,
        )

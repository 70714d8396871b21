"""Creating, editing and moving relief applications through their states."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.errors import NotAllowed
from relief.models import Application, HardshipCategory, Policy, ReferenceCounter, Worker
from relief.models.money import to_money, yuan
from relief.services.audit import AMOUNT_FIELDS, audit, diff, snapshot
from relief.services.caps import check_amount_within_caps, check_reason_above_request
from relief.services.locking import lock_application
from unions.models import Role

EDITABLE_FIELDS = (
    "narrative",
    "grassroots_opinion",
    "household_monthly_income",
    "monthly_medical_expenses",
    "requested_amount",
    "application_date",
)
AUDITED_FIELDS = (*EDITABLE_FIELDS, "policy", "categories", *AMOUNT_FIELDS[1:])


def _next_reference(union, year: int) -> str:
    town = union.town
    counter, _created = ReferenceCounter.objects.get_or_create(town=town, year=year)
    # An UPDATE ... SET last = last + 1 takes the row lock, so numbers never repeat.
    ReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return f"{town.code}-{year}-{counter.last:04d}"


def _policy_for(date) -> Policy:
    policy = Policy.in_force(date)
    if policy is None:
        raise ValidationError(
            {"application_date": _("No relief policy is in force on %(date)s.") % {"date": date}}
        )
    return policy


def _check_requested(application: Application) -> None:
    cap = application.policy.max_per_payout
    if application.requested_amount is not None and application.requested_amount > cap:
        raise ValidationError(
            {
                "requested_amount": _(
                    "%(amount)s is above the cap of %(cap)s per payout set by %(policy)s."
                )
                % {
                    "amount": yuan(application.requested_amount),
                    "cap": yuan(cap),
                    "policy": application.policy,
                }
            }
        )


def _categories_snapshot(application: Application) -> dict:
    return {"categories": ", ".join(sorted(application.categories.values_list("name", flat=True)))}


def in_progress_case(worker: Worker) -> Application | None:
    return (
        Application.objects.filter(worker=worker, state__in=wf.IN_PROGRESS)
        .select_related("union")
        .first()
    )


def _refuse_second_case(worker: Worker) -> None:
    current = in_progress_case(worker)
    if current is not None:
        raise ValidationError(
            _(
                "This worker already has a case in progress (%(reference)s, filed by "
                "%(union)s). Finish or withdraw it before filing another."
            )
            % {"reference": current.reference, "union": current.union.name}
        )


@transaction.atomic
def application_create(
    *,
    user,
    worker: Worker,
    categories,
    narrative: str = "",
    requested_amount: Decimal | None = None,
    household_monthly_income: Decimal | None = Decimal("0"),
    monthly_medical_expenses: Decimal | None = Decimal("0"),
    application_date=None,
    grassroots_opinion: str = "",
    source: str = "web",
) -> Application:
    """File a draft case for a worker at the caseworker's own grassroots union. A draft may
    leave the facts empty (categories, situation, amounts): submitting checks them."""
    if not user.is_active or user.role != Role.CASEWORKER or user.union is None:
        raise NotAllowed(_("Only caseworkers of a grassroots union file cases."))
    worker = Worker.objects.select_for_update().get(pk=worker.pk)
    _refuse_second_case(worker)
    application_date = application_date or timezone.localdate()
    application = Application(
        worker=worker,
        union=user.union,
        narrative=(narrative or "").strip(),
        grassroots_opinion=(grassroots_opinion or "").strip(),
        requested_amount=requested_amount,
        household_monthly_income=household_monthly_income,
        monthly_medical_expenses=monthly_medical_expenses,
        application_date=application_date,
        policy=_policy_for(application_date),
        created_by=user,
    )
    application.reference = "pending"
    application.full_clean(exclude=["reference", "categories"])
    _check_requested(application)
    categories = list(categories)
    application.reference = _next_reference(user.union, application_date.year)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        # Another caseworker filed for the same worker a moment ago (the partial index).
        _refuse_second_case(worker)
        raise
    application.categories.set(categories)
    audit(
        actor=user,
        action="create",
        application=application,
        to_state=application.state,
        changes=diff(
            {}, {**snapshot(application, AUDITED_FIELDS), **_categories_snapshot(application)}
        ),
        source=source,
    )
    return application


@transaction.atomic
def application_update(
    *, application: Application, user, data: dict, categories=None, source: str = "web"
) -> Application:
    """Edit a draft or returned case's facts; each changed field is audited."""
    locked = lock_application(application, user, "edit")
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"application_update: not editable: {sorted(unknown)}")
    before = {**snapshot(locked, AUDITED_FIELDS), **_categories_snapshot(locked)}
    for name, value in data.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    if "application_date" in data:
        locked.policy = _policy_for(locked.application_date)
    categories = list(categories) if categories is not None else None
    if locked.state != wf.S_DRAFT:
        # A returned case was complete when it was submitted and stays so (only drafts may
        # be saved incomplete); checked before the model's CHECK would refuse it wordlessly.
        missing = missing_for_submit(locked)
        if categories:
            missing.pop("categories", None)
        elif categories is not None:
            missing["categories"] = _("Choose at least one hardship category.")
        if missing:
            raise ValidationError(missing)
    locked.full_clean(exclude=["reference", "categories"])
    _check_requested(locked)
    if categories is not None:
        locked.categories.set(categories)
    after = {**snapshot(locked, AUDITED_FIELDS), **_categories_snapshot(locked)}
    changes = diff(before, after)
    if changes:
        locked.version += 1
        locked.save()
        audit(actor=user, action="update", application=locked, changes=changes, source=source)
    return locked


def _transition(
    application: Application,
    user,
    name: str,
    *,
    comment: str = "",
    comment_required: bool = False,
    comment_field: str = "comment",
    args: tuple = (),
    before_transition=None,
    source: str = "web",
) -> Application:
    locked = lock_application(application, user, name)
    comment = (comment or "").strip()
    if comment_required and not comment:
        raise ValidationError({comment_field: _("This field is required.")})
    # A check may also set fields of its own and return them for the trail ({field: [old, new]}).
    extra = (before_transition(locked) if before_transition is not None else None) or {}
    before = snapshot(locked, AMOUNT_FIELDS)
    from_state = locked.state
    getattr(locked, name)(*args)
    locked.version += 1
    locked.save()
    after = snapshot(locked, AMOUNT_FIELDS)
    audit(
        actor=user,
        action=name,
        application=locked,
        from_state=from_state,
        to_state=locked.state,
        comment=comment,
        changes={**diff(before, after), **extra},
        source=source,
    )
    return locked


def missing_for_submit(application: Application) -> dict[str, str]:
    """{field: what to do} for each fact a draft still lacks before it can be submitted, in
    the order of the form (relief.forms.DRAFT_OPTIONAL are the fields a draft may leave empty)."""
    missing = {}
    if application.pk is None or not application.categories.exists():
        missing["categories"] = _("Choose at least one hardship category.")
    if not (application.narrative or "").strip():
        missing["narrative"] = _("Describe the worker's situation.")
    if application.household_monthly_income is None:
        missing["household_monthly_income"] = _(
            "Enter the household's monthly income (0 if there is none)."
        )
    if application.monthly_medical_expenses is None:
        missing["monthly_medical_expenses"] = _(
            "Enter the monthly medical expenses (0 if there are none)."
        )
    if application.requested_amount is None:
        missing["requested_amount"] = _("Enter the requested amount.")
    return missing


def _ready_to_submit(application: Application) -> None:
    missing = missing_for_submit(application)
    if missing:
        raise ValidationError(missing)
    _check_requested(application)


@transaction.atomic
def application_submit(*, application, user, comment: str = "", source: str = "web"):
    return _transition(
        application,
        user,
        "submit",
        comment=comment,
        before_transition=_ready_to_submit,
        source=source,
    )


@transaction.atomic
def application_resubmit(*, application, user, comment: str = "", source: str = "web"):
    return _transition(
        application,
        user,
        "resubmit",
        comment=comment,
        before_transition=_ready_to_submit,
        source=source,
    )


@transaction.atomic
def application_withdraw(*, application, user, comment: str = "", source: str = "web"):
    from relief.services.advances import settle_advance

    locked = _transition(application, user, "withdraw", comment=comment, source=source)
    settle_advance(locked, user, "withdraw", source=source)
    return locked


@transaction.atomic
def application_return(*, application, user, comment: str, source: str = "web"):
    """Back to the caseworker for more information; the comment says what is missing."""
    return _transition(
        application,
        user,
        "return_for_info",
        comment=comment,
        comment_required=True,
        source=source,
    )


@transaction.atomic
def application_return_verified(*, application, user, comment: str, source: str = "web"):
    """A verified case back to the caseworker (the review meeting found something missing);
    the comment says what. After resubmission the town verifies it again."""
    return _transition(
        application,
        user,
        "return_verified",
        comment=comment,
        comment_required=True,
        source=source,
    )


def _has_home_visit(application: Application) -> None:
    if not application.home_visits.exists():
        raise ValidationError(
            _("Record a home visit before marking the case verified: facts are checked first.")
        )


PROPOSAL_DECISIONS = ("confirm", "decline")


@transaction.atomic
def application_verify(
    *, application, user, comment: str = "", proposal: str = "", source: str = "web"
):
    """Facts checked on a home visit. A phone or payout account the caseworker proposed with
    the case (for a worker held elsewhere) is confirmed or declined in the same step."""
    from relief.services.proposals import pending_proposal, proposal_decide

    def check(locked):
        _has_home_visit(locked)
        if pending_proposal(locked) is not None and proposal not in PROPOSAL_DECISIONS:
            raise ValidationError(
                {
                    "proposal": _(
                        "The caseworker proposed a new phone or payout account with this case: "
                        "confirm it or decline it."
                    )
                }
            )

    locked = _transition(
        application, user, "verify", comment=comment, before_transition=check, source=source
    )
    proposal_decide(locked=locked, user=user, confirm=proposal == "confirm", source=source)
    return locked


@transaction.atomic
def application_recommend(
    *,
    application,
    user,
    amount: Decimal,
    comment: str,
    amount_reason: str = "",
    source: str = "web",
):
    """The town's recommended amount, within the policy's caps, with the review's reasons; an
    amount above the request also needs `amount_reason`, kept in the trail."""
    amount = to_money(amount)

    def check(locked):
        _has_home_visit(locked)
        check_amount_within_caps(locked, amount, field="amount")
        return check_reason_above_request(locked, amount, amount_reason)

    return _transition(
        application,
        user,
        "recommend",
        comment=comment,
        comment_required=True,
        args=(amount,),
        before_transition=check,
        source=source,
    )


@transaction.atomic
def application_reject(*, application, user, reason: str, source: str = "web"):
    from relief.services.advances import settle_advance

    locked = _transition(
        application,
        user,
        "reject",
        comment=reason,
        comment_required=True,
        comment_field="reason",
        source=source,
    )
    # A paid emergency advance stays paid: the shortfall is recorded (relief.services.advances).
    settle_advance(locked, user, "reject", source=source)
    return locked


@transaction.atomic
def application_approve(
    *,
    application,
    user,
    amount: Decimal,
    comment: str = "",
    amount_reason: str = "",
    source: str = "web",
):
    """The district's approved amount; it may differ from the town's recommendation (above
    the request only with `amount_reason`, kept in the trail).

    Approval also fixes the case's payout account (收款账户): the one the town confirmed at
    verification, or else the worker's card on file now.
    """
    from relief.services.notices import check_notice_before_approval
    from relief.services.payout_accounts import fix_payout_account

    amount = to_money(amount)

    def check(locked):
        # The public notice (公示) the policy requires has ended without open objections.
        check_notice_before_approval(locked)
        check_amount_within_caps(locked, amount, field="amount")
        reason = check_reason_above_request(locked, amount, amount_reason)
        return {**(fix_payout_account(locked) or {}), **reason}

    from relief.services.advances import settle_advance

    locked = _transition(
        application,
        user,
        "approve",
        comment=comment,
        args=(amount,),
        before_transition=check,
        source=source,
    )
    # An emergency advance counts against the approved amount; less approved: a shortfall.
    settle_advance(locked, user, "approve", source=source)
    return locked


@transaction.atomic
def application_send_back(*, application, user, comment: str, source: str = "web"):
    """District to town: look again (back to verified), with what to look at."""
    return _transition(
        application, user, "send_back", comment=comment, comment_required=True, source=source
    )


def _has_follow_up(application: Application) -> None:
    if not application.follow_ups.exists():
        raise ValidationError(_("Record a follow-up call or visit before closing the case."))


@transaction.atomic
def application_close(*, application, user, comment: str = "", source: str = "web"):
    return _transition(
        application,
        user,
        "close",
        comment=comment,
        before_transition=_has_follow_up,
        source=source,
    )


def category_queryset():
    return HardshipCategory.objects.filter(is_active=True)

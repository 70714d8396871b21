"""Review meetings (研讨会): a town's decisions on several cases, applied all or none."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from notifications.hooks import batched
from relief import workflow as wf
from relief.errors import Conflict, NotAllowed, OutOfScope
from relief.models import Application, Decision, ReviewDecision, ReviewMeeting
from relief.services.applications import (
    application_recommend,
    application_reject,
    application_return,
    application_return_verified,
    application_verify,
)
from relief.services.audit import site_language
from relief.services.proposals import pending_proposal
from unions.models import Role


@dataclass
class DecisionInput:
    application: Application  # the copy the reviewer saw; its version guards against changes
    decision: str
    amount: Decimal | None = None
    comment: str = ""


class MeetingErrors(ValidationError):
    """Nothing was recorded; `by_case` maps application pk -> the messages for that case."""

    def __init__(self, by_case: dict[int, list[str]]):
        self.by_case = by_case
        super().__init__(
            [f"{pk}: {m}" for pk, messages in by_case.items() for m in messages],
            code="meeting_decisions",
        )


def decisions_for(application: Application, *, has_visit: bool, proposal_pending: bool):
    """The decisions a meeting may take on a case in its state, in the words of the form.

    A case awaiting the town (submitted) is verified and recommended in one step when a home
    visit is on file and no proposed account waits for the reviewer's confirmation; a verified
    case goes back to the caseworker with return_verified.
    """
    state = application.state
    if state == wf.S_VERIFIED:
        return [
            (Decision.RECOMMEND, _("Recommend with amount")),
            (Decision.RETURN, _("Return to the caseworker")),
            (Decision.REJECT, _("Reject with reason")),
        ]
    if state == wf.S_SUBMITTED:
        choices = []
        if has_visit and not proposal_pending:
            choices.append((Decision.RECOMMEND, _("Verify and recommend with amount")))
        return [
            *choices,
            (Decision.RETURN, _("Return for more information")),
            (Decision.REJECT, _("Reject with reason")),
        ]
    return []


def _recommend_unverified(app: Application) -> str:
    """Why a submitted case cannot be verified at the meeting, or "" when it can."""
    if not app.home_visits.exists():
        return _(
            "No home visit is on file for this case: record the visit on the case page first, "
            "or return the case or reject it."
        )
    if pending_proposal(app) is not None:
        return _(
            "The caseworker proposed a new phone or payout account with this case: open the "
            "case, confirm or decline it while marking the case verified, then recommend."
        )
    return ""


def _apply(decision: DecisionInput, user, source: str) -> Application:
    app, comment = decision.application, (decision.comment or "").strip()
    if decision.decision == Decision.RECOMMEND:
        if decision.amount is None:
            raise ValidationError({"amount": _("Enter the recommended amount.")})
        if app.state == wf.S_SUBMITTED:
            problem = _recommend_unverified(app)
            if problem:
                raise ValidationError(problem)
            # The facts are on file: verify in the same save, then recommend.
            with site_language():
                comment = _("Verified at the review meeting.")
            app = application_verify(
                application=app,
                user=user,
                comment=comment,
                source=source,
            )
        # The meeting's reasons are the reason for an amount above the request too.
        return application_recommend(
            application=app,
            user=user,
            amount=decision.amount,
            comment=comment,
            amount_reason=comment,
            source=source,
        )
    if decision.amount is not None:
        raise ValidationError({"amount": _("Only a recommendation has an amount.")})
    if decision.decision == Decision.RETURN:
        back = application_return_verified if app.state == wf.S_VERIFIED else application_return
        if not comment:
            raise ValidationError({"comment": _("Say what is missing, for the caseworker.")})
        return back(application=app, user=user, comment=comment, source=source)
    if decision.decision == Decision.REJECT:
        if not comment:
            raise ValidationError({"comment": _("Give the reason for not granting relief.")})
        return application_reject(application=app, user=user, reason=comment, source=source)
    raise ValidationError({"decision": _("Choose recommend, return or reject.")})


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return exc.messages
    if isinstance(exc, OutOfScope):
        return [_("This case is not in your town.")]
    return [str(exc) or _("Your role cannot do this.")]


@transaction.atomic
def review_meeting_record(
    *,
    user,
    meeting_date,
    attendees: str,
    minutes: str,
    decisions: list[DecisionInput],
    place: str = "",
    source: str = "admin",
) -> ReviewMeeting:
    """Record the meeting and apply each decision through the lifecycle services.

    Every decision is tried (each in its own savepoint) so that all problems are reported at
    once; if any failed, MeetingErrors is raised and the whole meeting is rolled back.
    """
    if user.role != Role.TOWN_REVIEWER or user.union is None:
        raise NotAllowed(_("Only town reviewers record review meetings."))
    meeting = ReviewMeeting(
        town=user.union,
        meeting_date=meeting_date,
        place=(place or "").strip(),
        attendees=(attendees or "").strip(),
        minutes=(minutes or "").strip(),
        recorded_by=user,
    )
    meeting.full_clean()
    if not decisions:
        raise ValidationError(_("Record a decision for at least one case."))
    pks = [d.application.pk for d in decisions]
    if len(set(pks)) != len(pks):
        raise ValidationError(_("Each case can have only one decision per meeting."))
    meeting.save()
    source = f"meeting:{meeting.pk}" if source == "admin" else source
    errors: dict[int, list[str]] = {}
    # The decisions' notices go out in one pass after the commit (notifications.hooks.batched).
    with batched():
        for decision in decisions:
            try:
                with transaction.atomic():
                    _apply(decision, user, source)
                    ReviewDecision.objects.create(
                        meeting=meeting,
                        application_id=decision.application.pk,
                        decision=decision.decision,
                        amount=decision.amount if decision.decision == Decision.RECOMMEND else None,
                        comment=(decision.comment or "").strip(),
                    )
            except (ValidationError, NotAllowed, OutOfScope, Conflict) as exc:
                errors[decision.application.pk] = _messages(exc)
        if errors:
            raise MeetingErrors(errors)
    return meeting

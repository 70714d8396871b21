"""Which transition tells whom: one table, read by notifications.hooks.

Each rule is keyed by the audit action of the transition (relief.workflow.ALLOWED and the
payout services' "disburse"/"reverse") and the state it reached. `roles` are the next actors
(told in the app, by e-mail and through the robot of the union where they sit); the user who
took the step is never told of their own step.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from notifications.models import Kind
from relief import workflow as wf
from unions.models import Role

CW, TOWN, DISTRICT = Role.CASEWORKER, Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER


@dataclass(frozen=True)
class Rule:
    kind: str
    roles: tuple
    # What the step means for the people told, after the case reference.
    step: object


def rule_for(action: str, from_state: str, to_state: str) -> Rule | None:
    if action == "submit" and to_state == wf.S_SUBMITTED:
        return Rule(Kind.SUBMITTED, (TOWN,), _("submitted, waiting for the town's review"))
    if action == "resubmit" and to_state == wf.S_SUBMITTED:
        return Rule(Kind.RESUBMITTED, (TOWN,), _("resubmitted, waiting for the town's review"))
    if action == "verify" and to_state == wf.S_VERIFIED:
        return Rule(
            Kind.VERIFIED, (TOWN,), _("verified, waiting for the review meeting's decision")
        )
    if action == "send_back" and to_state == wf.S_VERIFIED:
        return Rule(Kind.SENT_BACK, (TOWN,), _("sent back by the district, waiting for the town"))
    if action in wf.RETURNS and to_state == wf.S_RETURNED:
        return Rule(
            Kind.RETURNED, (CW,), _("returned by the town, waiting for the caseworker's changes")
        )
    if action == "recommend" and to_state == wf.S_RECOMMENDED:
        return Rule(
            Kind.RECOMMENDED, (DISTRICT,), _("recommended by the town, waiting for approval")
        )
    if action == "reject" and to_state == wf.S_REJECTED:
        # A district rejection also concerns the town that recommended the case.
        roles = (CW, TOWN) if from_state == wf.S_RECOMMENDED else (CW,)
        return Rule(Kind.REJECTED, roles, _("not granted"))
    if action == "approve" and to_state == wf.S_APPROVED:
        return Rule(
            Kind.APPROVED, (CW, TOWN, DISTRICT), _("approved by the district, waiting for payment")
        )
    if action == "disburse" and to_state == wf.S_DISBURSED and from_state != wf.S_DISBURSED:
        return Rule(Kind.PAID, (CW, TOWN), _("paid, a follow-up is due"))
    if action == "reverse" and from_state == wf.S_DISBURSED and to_state == wf.S_APPROVED:
        return Rule(
            Kind.PAYMENT_REVERSED,
            (DISTRICT,),
            _("payout returned by the bank, waiting for payment again"),
        )
    if action == "close" and to_state == wf.S_CLOSED:
        return Rule(Kind.CLOSED, (CW,), _("closed"))
    if action == "withdraw" and from_state in (wf.S_SUBMITTED, wf.S_RETURNED):
        return Rule(Kind.WITHDRAWN, (TOWN,), _("withdrawn by the caseworker"))
    return None

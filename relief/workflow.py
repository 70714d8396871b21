"""Who may take which transition from which state: the one table the services consult.

The FSM on Application declares sources and targets; this table adds the role (and, for
reject, the role-dependent sources). Scope (which cases a user sees) is checked separately.
"""

from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from unions.models import Role

S_DRAFT = "draft"
S_SUBMITTED = "submitted"
S_RETURNED = "returned"
S_VERIFIED = "verified"
S_RECOMMENDED = "recommended"
S_APPROVED = "approved"
S_DISBURSED = "disbursed"
S_CLOSED = "closed"
S_REJECTED = "rejected"
S_WITHDRAWN = "withdrawn"

# A worker has at most one case in these states (a partial unique index enforces it).
IN_PROGRESS = (S_DRAFT, S_SUBMITTED, S_RETURNED, S_VERIFIED, S_RECOMMENDED, S_APPROVED)
# States whose approved amount counts against the policy's caps for the year.
COMMITTED = (S_APPROVED, S_DISBURSED, S_CLOSED)

# transition name -> {role: source states from which that role may take it}
ALLOWED = {
    "submit": {Role.CASEWORKER: {S_DRAFT}},
    "resubmit": {Role.CASEWORKER: {S_RETURNED}},
    "withdraw": {Role.CASEWORKER: {S_DRAFT, S_SUBMITTED, S_RETURNED}},
    "return_for_info": {Role.TOWN_REVIEWER: {S_SUBMITTED}},
    # The review meeting finds something missing after the facts were verified.
    "return_verified": {Role.TOWN_REVIEWER: {S_VERIFIED}},
    "verify": {Role.TOWN_REVIEWER: {S_SUBMITTED}},
    "recommend": {Role.TOWN_REVIEWER: {S_VERIFIED}},
    "reject": {
        Role.TOWN_REVIEWER: {S_SUBMITTED, S_VERIFIED},
        Role.DISTRICT_OFFICER: {S_RECOMMENDED},
    },
    "approve": {Role.DISTRICT_OFFICER: {S_RECOMMENDED}},
    "send_back": {Role.DISTRICT_OFFICER: {S_RECOMMENDED}},
    # Reached by recording payouts (relief.services.disbursements), not by a button.
    "mark_disbursed": {Role.DISTRICT_OFFICER: {S_APPROVED}},
    # Reached by reversing a payout of a fully paid case (relief.services.disbursements).
    "payment_reversed": {Role.DISTRICT_OFFICER: {S_DISBURSED}},
    "close": {Role.TOWN_REVIEWER: {S_DISBURSED}},
    # An objection to a case on public notice (relief.services.notices) upheld by the town.
    "objection_return": {Role.TOWN_REVIEWER: {S_RECOMMENDED}},
    "objection_reject": {Role.TOWN_REVIEWER: {S_RECOMMENDED}},
}

# Both ways back to the caseworker; the case page shows the latest one's comment.
RETURNS = ("return_for_info", "return_verified", "objection_return")
# Reached by resolving an objection (relief.services.notices), not by a button of their own.
OBJECTION_OUTCOMES = ("objection_return", "objection_reject")

# Actions that are not transitions but still depend on role and state.
ACTIONS = {
    "edit": {Role.CASEWORKER: {S_DRAFT, S_RETURNED}},
    "attach": {
        Role.CASEWORKER: {S_DRAFT, S_SUBMITTED, S_RETURNED},
        Role.TOWN_REVIEWER: {S_SUBMITTED, S_VERIFIED, S_RECOMMENDED},
    },
    "home_visit": {Role.TOWN_REVIEWER: {S_SUBMITTED, S_VERIFIED}},
    "disburse": {Role.DISTRICT_OFFICER: {S_APPROVED}},
    # The bank returned a payout; a closed case is history and is not reopened this way.
    "reverse": {Role.DISTRICT_OFFICER: {S_APPROVED, S_DISBURSED}},
    # Put into or taken out of a payment batch.
    "batch": {Role.DISTRICT_OFFICER: {S_APPROVED}},
    "follow_up": {Role.TOWN_REVIEWER: {S_DISBURSED, S_CLOSED}},
    # Move an approved, unpaid case to another account (relief.services.payout_accounts).
    "payout_account": {Role.DISTRICT_OFFICER: {S_APPROVED}},
    # Public notice (公示) of recommended cases, and objections to them (relief.services.notices).
    "notice": {Role.TOWN_REVIEWER: {S_RECOMMENDED}},
    "objection": {Role.TOWN_REVIEWER: {S_RECOMMENDED}},
    # 先行救助 (relief.services.advances): granted by the town before the district decides,
    # paid by the town or the district, cancelled by the town while still unpaid.
    "advance_grant": {Role.TOWN_REVIEWER: {S_SUBMITTED, S_VERIFIED, S_RECOMMENDED}},
    "advance_pay": {
        Role.TOWN_REVIEWER: {S_SUBMITTED, S_RETURNED, S_VERIFIED, S_RECOMMENDED},
        Role.DISTRICT_OFFICER: {S_SUBMITTED, S_RETURNED, S_VERIFIED, S_RECOMMENDED},
    },
    "advance_cancel": {Role.TOWN_REVIEWER: {S_SUBMITTED, S_RETURNED, S_VERIFIED, S_RECOMMENDED}},
}

TRANSITION_LABELS = {
    "submit": _("Submit"),
    "resubmit": _("Resubmit"),
    "withdraw": _("Withdraw"),
    "return_for_info": _("Return for more information"),
    "return_verified": _("Return to the caseworker"),
    "verify": _("Mark verified"),
    "recommend": _("Recommend"),
    "reject": _("Reject"),
    "approve": _("Approve"),
    "send_back": _("Send back to the town"),
    "mark_disbursed": _("Mark paid"),
    "payment_reversed": _("Payout returned: awaiting payment again"),
    "close": _("Close the case"),
    "create": _("Created"),
    "update": _("Edited"),
    "edit": _("Edit"),
    "attach": _("Add attachment"),
    "import": _("Imported"),
    "reimport": _("File imported again"),
    "disburse": _("Payout recorded"),
    "reverse": _("Payout reversed"),
    "batch": _("Payment batch"),
    "batch_add": _("Added to a payment batch"),
    "batch_export": _("Bank file exported"),
    "batch_cancel": _("Payment batch cancelled"),
    "fund_income": _("Fund income recorded"),
    "donation_campaign": _("Donation campaign opened"),
    "donation": _("Donations recorded"),
    "file_close": _("Hardship file closed"),
    "file_reopen": _("Hardship file reopened"),
    "home_visit": _("Home visit recorded"),
    "follow_up": _("Follow-up recorded"),
    "payout_account": _("Payout account"),
    "proposal": _("Phone or payout account proposed"),
    "proposal_withdrawn": _("Proposed change withdrawn"),
    "proposal_confirmed": _("Proposed change confirmed"),
    "proposal_declined": _("Proposed change declined"),
    "transfer": _("Worker moved to another union"),
    "notice": _("Put on public notice"),
    "objection": _("Objection received"),
    "objection_resolve": _("Objection dismissed"),
    "objection_return": _("Objection upheld: returned for re-verification"),
    "objection_reject": _("Objection upheld: rejected"),
    "advance_grant": _("Emergency advance granted"),
    "advance_pay": _("Emergency advance paid"),
    "advance_cancel": _("Emergency advance cancelled"),
    "advance_settle": _("Emergency advance settled"),
    "advance_shortfall": _("Advance shortfall recorded"),
}


def role_may(user, transition: str, state: str) -> bool:
    """Whether the user's role allows `transition` from `state` (scope not included)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.role:
        return False
    table = ALLOWED if transition in ALLOWED else ACTIONS
    return state in table.get(transition, {}).get(Role(user.role), set())


def role_has(user, transition: str) -> bool:
    """Whether the user's role takes part in `transition` at all, from any state."""
    # Same account checks as role_may: a deactivated account is refused (403) outright,
    # not told that the case's state is the problem.
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.role:
        return False
    table = ALLOWED if transition in ALLOWED else ACTIONS
    return Role(user.role) in table.get(transition, {})


# What to do instead when a step is refused because of the case's state (plain words).
INSTEAD = {
    ("recommend", S_SUBMITTED): _(
        "Record a home visit and mark the case verified first, then recommend an amount."
    ),
    ("return_for_info", S_VERIFIED): _(
        "A verified case goes back with “Return to the caseworker”."
    ),
    ("return_verified", S_SUBMITTED): _(
        "A case not yet verified goes back with “Return for more information”."
    ),
    ("verify", S_VERIFIED): _("The case is verified already: recommend, return or reject it."),
    ("approve", S_VERIFIED): _("The town has not recommended an amount yet."),
}


def what_to_do(user, action: str, state: str) -> str:
    """Why `action` is not possible from `state` in words a reviewer acts on: the way round,
    or the steps this user may take now."""
    hint = INSTEAD.get((action, state))
    if hint:
        return str(hint)
    possible = [
        str(TRANSITION_LABELS[name])
        for name in ALLOWED
        if name not in ("mark_disbursed", "payment_reversed", *OBJECTION_OUTCOMES)
        and role_may(user, name, state)
    ]
    if possible:
        return gettext_now("Possible now: %(steps)s.") % {"steps": "、".join(possible)}
    return str(_("Your role has no step to take on this case now."))


def fsm_permission(transition: str):
    """A django-fsm `permission` callable backed by the table above."""

    def check(instance, user) -> bool:
        return role_may(user, transition, instance.state)

    check.__name__ = f"may_{transition}"
    return check

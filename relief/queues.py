"""待办: what waits for each user's action, with its age and deadline in working days.

    queue = queue_for(user)              # Queue: .groups (QueueGroup, in the order to work them)
    for group in queue.groups:           # .key .title .action .items .count .overdue_count
        for item in group.items:         # QueueItem, oldest first
            item.reference, item.title, item.url, item.age, item.due, item.overdue
    overdue_for(user)                    # the overdue items of that queue (the daily digest)
    overdue_cases(user, unit=None)       # every overdue step of the cases in scope (report)
    overdue_by_town(user, unit=None)     # {town id: count} for the dashboard (one COUNT query)
    mark_decisions_seen(user, shown_at)  # the caseworker's "mark as seen"

What waits, per role (the step's start is a timestamp the services set on the case):

- caseworker (their union): cases asked for documents (退回补充材料) and cases returned after the
  review meeting, each with the reviewer's comment; drafts; cases of the union approved,
  rejected or paid since they last marked them seen.
- town reviewer (their town): submitted cases without a home visit (the visit page), visited
  cases to verify, verified cases waiting for the review meeting or a recommendation, returned
  cases the caseworker has not resubmitted within the policy's limit, paid cases due a
  follow-up (回访).
- district officer (everything): recommended cases to approve, approved cases to pay (not in
  an exported batch), batches whose bank file was exported but not marked paid, fund accounts
  that cannot cover the approved cases waiting on them.

Deadlines: the policy in force on the case's application date (Policy.in_force) gives each
step's limit in working days; due = the step's start + the limit on the WorkCalendar
(relief.workdays: the start is day 0), overdue when today is past it. A case's town review runs
from its (re)submission to the recommendation, so a visited or verified case keeps the deadline
its submission set. Ages are working days since the step started, up to and including today.

Cost: one query per group (the district's approved cases and batches share two), one for the
policies and one for the calendar's corrections, whatever the number of items.
"""

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relief import workflow as wf
from relief.models import (
    OPEN_BATCH_STATES,
    Application,
    ApplicationState,
    AuditEntry,
    BatchItem,
    BatchState,
    HomeVisit,
    Policy,
    QueueSeen,
)
from relief.workdays import WorkCalendar
from unions.models import Level, Role
from unions.selectors import scope_q

S = ApplicationState
# A caseworker who never marked decisions seen sees those of the last this many days.
FIRST_LOOK_DAYS = 30

# The policy field holding each step's limit.
LIMITS = {
    "review": "review_workdays",
    "approval": "approval_workdays",
    "payment": "payment_workdays",
    "resubmit": "resubmit_workdays",
    "follow_up": "follow_up_workdays",
}


@dataclass
class QueueItem:
    group: str
    kind: str  # "case", "batch" or "fund"
    pk: int | None
    reference: str
    title: str
    url: str
    town: str = ""
    town_id: int | None = None
    union: str = ""
    step: str = ""  # the step's name (lazy: rendered in the reader's language)
    started: dt.date | None = None
    age: int | None = None  # working days since the step started
    due: dt.date | None = None
    overdue: bool = False
    overdue_by: int = 0  # working days past the due date
    note: str = ""
    amount: Decimal | None = None

    @property
    def sort_key(self):
        return (self.started or dt.date.max, self.reference)


@dataclass
class QueueGroup:
    key: str
    title: str
    action: str  # what the user does with these
    more_url: str = ""  # the full list, where a page shows only the first items
    items: list[QueueItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def overdue_count(self) -> int:
        return sum(item.overdue for item in self.items)


@dataclass
class Queue:
    role: str
    today: dt.date
    made_at: dt.datetime
    groups: list[QueueGroup]
    # Caseworkers: decisions are listed from this moment (their last "mark as seen").
    decisions_since: dt.datetime | None = None

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def overdue_count(self) -> int:
        return sum(g.overdue_count for g in self.groups)

    @property
    def overdue(self) -> list[QueueItem]:
        return sorted(
            (item for g in self.groups for item in g.items if item.overdue),
            key=lambda item: item.sort_key,
        )


# --- deadlines --------------------------------------------------------------------------


class Deadlines:
    """The policies (one query) and the working-day calendar (one query) for a set of items."""

    def __init__(self, today: dt.date, earliest: dt.date | None):
        self.today = today
        self.policies = list(Policy.objects.order_by("effective_from"))
        self._from = [p.effective_from for p in self.policies]
        longest = max(
            (getattr(p, f) or 0 for p in self.policies for f in LIMITS.values()), default=0
        )
        first = min(earliest or today, today)
        # Far enough past today for the longest limit counted from today (3 calendar days per
        # working day covers the Spring Festival and National Day weeks).
        self.calendar = WorkCalendar(first, today + dt.timedelta(days=longest * 3 + 30))

    def policy_on(self, day: dt.date) -> Policy | None:
        i = bisect_right(self._from, day)
        return self.policies[i - 1] if i else None

    def limit(self, step: str, application_date: dt.date) -> int | None:
        policy = self.policy_on(application_date)
        return getattr(policy, LIMITS[step]) if policy else None

    def apply(self, item: QueueItem, step: str | None, application_date: dt.date | None) -> None:
        """Set the item's age, due date and overdue flag from its start."""
        if item.started is None:
            return
        item.age = self.calendar.between(item.started, self.today)
        limit = self.limit(step, application_date) if step and application_date else None
        if limit:
            item.due = self.calendar.add(item.started, limit)
            if self.today > item.due:
                item.overdue = True
                item.overdue_by = self.calendar.between(item.due, self.today)


def _day(value: dt.datetime | dt.date | None) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    return timezone.localdate(value)


def _finish(groups: list[QueueGroup], pending: list[tuple], today: dt.date) -> Deadlines | None:
    """Compute every item's deadline with one Deadlines, then sort each group oldest first."""
    deadlines = None
    if pending:
        earliest = min((item.started for item, _s, _d in pending if item.started), default=None)
        deadlines = Deadlines(today, earliest)
        for item, step, application_date in pending:
            deadlines.apply(item, step, application_date)
    for group in groups:
        group.items.sort(key=lambda item: item.sort_key)
    return deadlines


# --- cases ------------------------------------------------------------------------------

STEP_NAMES = {
    "review": gettext_lazy("town review"),
    "approval": gettext_lazy("district approval"),
    "payment": gettext_lazy("payment"),
    "resubmit": gettext_lazy("resubmission by the caseworker"),
    "follow_up": gettext_lazy("follow-up"),
}


def _cases(user):
    return Application.objects.filter(scope_q(user, "union")).select_related(
        "worker", "union", "union__parent"
    )


def _case_item(case, group: str, url: str, started, step: str | None = None, note="") -> QueueItem:
    town = case.union.town
    return QueueItem(
        group=group,
        kind="case",
        pk=case.pk,
        reference=case.reference,
        title=case.worker.name,
        url=url,
        town=town.name if town else "",
        town_id=town.pk if town else None,
        union=case.union.name,
        step=STEP_NAMES.get(step, "") if step else "",
        started=_day(started),
        note=note,
    )


def _changelist(state: str) -> str:
    return reverse("admin:relief_application_changelist") + f"?state__exact={state}"


def _admin_case(case) -> str:
    return reverse("admin:relief_application_change", args=[case.pk])


def _latest_return(field: str):
    return Subquery(
        AuditEntry.objects.filter(application=OuterRef("pk"), action__in=wf.RETURNS)
        .order_by("-at", "-pk")
        .values(field)[:1]
    )


# --- the caseworker ----------------------------------------------------------------------


def _decisions_since(user, now: dt.datetime) -> dt.datetime:
    seen = QueueSeen.objects.filter(user=user).values_list("decisions_seen_at", flat=True).first()
    return seen or now - dt.timedelta(days=FIRST_LOOK_DAYS)


def _caseworker_queue(user, today, now) -> Queue:
    documents = QueueGroup(
        "documents",
        _("Asked for documents"),
        _("Add what the town asked for and resubmit."),
        reverse("relief:case_list") + "?state=returned",
    )
    returned = QueueGroup(
        "returned",
        _("Returned after the review meeting"),
        _("Complete the case as the comment says and resubmit."),
        reverse("relief:case_list") + "?state=returned",
    )
    drafts = QueueGroup(
        "drafts",
        _("Drafts"),
        _("Complete and submit, or withdraw."),
        more_url=reverse("relief:case_list") + "?state=draft",
    )
    decided = QueueGroup(
        "decided",
        _("Decided since you last looked"),
        _("Tell the worker; mark as seen when done."),
    )
    pending = []
    open_cases = (
        _cases(user)
        .filter(state__in=[S.RETURNED, S.DRAFT])
        .annotate(return_action=_latest_return("action"), return_comment=_latest_return("comment"))
    )
    for case in open_cases:
        url = reverse("relief:case_edit", args=[case.pk])
        if case.state == S.DRAFT:
            item = _case_item(case, "drafts", url, case.created_at)
            drafts.items.append(item)
            pending.append((item, None, None))  # its age; a draft has no deadline
            continue
        group = documents if case.return_action == "return_for_info" else returned
        item = _case_item(
            case,
            group.key,
            url,
            case.returned_at or case.updated_at,
            "resubmit",
            note=case.return_comment or "",
        )
        group.items.append(item)
        pending.append((item, "resubmit", case.application_date))
    since = _decisions_since(user, now)
    decisions = _cases(user).filter(
        Q(state__in=wf.COMMITTED, approved_at__gt=since)
        | Q(state__in=[S.DISBURSED, S.CLOSED], disbursed_at__gt=since)
        | Q(state=S.REJECTED, rejected_at__gt=since)
    )
    for case in decisions:
        if case.state == S.REJECTED:
            at, what = case.rejected_at, _("Not granted")
        elif case.disbursed_at and case.disbursed_at > since:
            at, what = case.disbursed_at, _("Paid")
        else:
            at, what = case.approved_at, _("Approved")
        item = _case_item(case, "decided", reverse("relief:case_detail", args=[case.pk]), at)
        item.note = str(what)
        decided.items.append(item)
        pending.append((item, None, None))
    groups = [documents, returned, drafts, decided]
    _finish(groups, pending, today)
    # The newest decision first: it is news, not a backlog.
    decided.items.reverse()
    return Queue(Role.CASEWORKER, today, now, groups, decisions_since=since)


# --- the town reviewer -------------------------------------------------------------------


def _reviewer_queue(user, today, now) -> Queue:
    visit = QueueGroup(
        "visit",
        _("Submitted, no home visit yet"),
        _("Visit the household and record what you found."),
        _changelist("submitted"),
    )
    verify = QueueGroup(
        "verify",
        _("Visited, to be verified"),
        _("Mark verified, return for documents, or reject."),
        _changelist("submitted"),
    )
    recommend = QueueGroup(
        "recommend",
        _("Verified, waiting for the review meeting"),
        _("Discuss at the review meeting and recommend an amount, return or reject."),
        _changelist("verified"),
    )
    chase = QueueGroup(
        "chase",
        _("Returned and not resubmitted in time"),
        _("Ask the grassroots union when the case will come back."),
        _changelist("returned"),
    )
    follow_up = QueueGroup(
        "follow_up",
        _("Paid, follow-up due"),
        _("Call or visit the worker and record the follow-up."),
        _changelist("disbursed"),
    )
    pending = []
    cases = (
        _cases(user)
        .filter(
            Q(state__in=[S.SUBMITTED, S.VERIFIED, S.RETURNED])
            | Q(state=S.DISBURSED, followed_up=False)
        )
        .annotate(visited=Exists(HomeVisit.objects.filter(application=OuterRef("pk"))))
    )
    returned = []
    for case in cases:
        submitted = case.submitted_at or case.application_date
        if case.state == S.SUBMITTED and not case.visited:
            # Reviewers work in the admin: back to the case there once the visit is saved.
            group, url = visit, reverse("relief:visit_new", args=[case.pk]) + "?back=admin"
            item = _case_item(case, group.key, url, submitted, "review")
        elif case.state == S.SUBMITTED:
            group = verify
            item = _case_item(case, group.key, _admin_case(case), submitted, "review")
        elif case.state == S.VERIFIED:
            group = recommend
            item = _case_item(case, group.key, _admin_case(case), submitted, "review")
        elif case.state == S.RETURNED:
            group = chase
            started = case.returned_at or case.updated_at
            item = _case_item(case, group.key, _admin_case(case), started, "resubmit")
            returned.append(item)
        else:
            group = follow_up
            url = reverse("admin:relief_application_act", args=[case.pk, "follow_up"])
            item = _case_item(case, group.key, url, case.disbursed_at, "follow_up")
        group.items.append(item)
        pending.append((item, LIMIT_OF_GROUP[group.key], case.application_date))
    notice, objections = _notice_groups(user)
    advances = _advance_group(user, today)
    groups = [advances, visit, verify, recommend, notice, objections, chase, follow_up]
    _finish(groups, pending, today)
    # Returned cases are the caseworker's to move: the town sees them once they are late.
    chase.items = [item for item in chase.items if item.overdue]
    return Queue(Role.TOWN_REVIEWER, today, now, groups)


def _advance_group(user, today, *, town_does_it=True) -> QueueGroup:
    """先行救助 paid or granted whose file the town has not completed (recommended) within the
    policy's working days (issue 15): in the town's queue and, to watch, the district's."""
    from relief.selectors.advances import overdue_advances
    from relief.workdays import WorkCalendar

    group = QueueGroup(
        "advances",
        _("Emergency advances, file overdue"),
        _("Complete the file: verify, discuss and recommend the case.")
        if town_does_it
        else _("Ask the town to complete the file; the advance is already paid or granted."),
        reverse("admin:relief_advance_changelist") + "?overdue=1",
    )
    rows = list(
        overdue_advances(user, today).select_related(
            "application__worker", "application__union__parent"
        )
    )
    if not rows:
        return group
    calendar = WorkCalendar(min(a.file_due_on for a in rows), today)
    for advance in rows:
        case = advance.application
        item = _case_item(case, group.key, _admin_case(case), advance.granted_at)
        item.due = advance.file_due_on
        item.overdue = True
        item.overdue_by = calendar.between(advance.file_due_on, today)
        item.amount = advance.amount
        group.items.append(item)
    return group


def _notice_groups(user) -> tuple[QueueGroup, QueueGroup]:
    """The public notice's to-dos (issue 15): recommended cases the policy wants noticed and
    that are on no notice yet, and objections still to be resolved. No deadlines of their own:
    the case's approval deadline runs meanwhile, shown in the district's queue."""
    from relief.selectors.notices import cases_awaiting_notice, unresolved_objections

    open_notice = reverse("admin:relief_publicnotice_add")
    notice = QueueGroup(
        "notice",
        _("Recommended, public notice to open"),
        _("Post the public notice (公示) of these cases and record it."),
        open_notice,
    )
    objections = QueueGroup(
        "objections",
        _("Objections to resolve"),
        _("Check what was said and record the finding and the outcome."),
        reverse("admin:relief_objection_changelist"),
    )
    for case in cases_awaiting_notice(user).select_related("worker", "union", "union__parent"):
        notice.items.append(_case_item(case, notice.key, open_notice, case.recommended_at))
    for objection in unresolved_objections(user).select_related("item__application__union__parent"):
        case = objection.item.application
        url = reverse("admin:relief_objection_resolve", args=[objection.pk])
        note = _("Objection received %(day)s") % {"day": objection.received_on.isoformat()}
        objections.items.append(
            _case_item(case, objections.key, url, objection.received_on, note=note)
        )
    return notice, objections


LIMIT_OF_GROUP = {
    "visit": "review",
    "verify": "review",
    "recommend": "review",
    "chase": "resubmit",
    "follow_up": "follow_up",
    "approve": "approval",
    "pay": "payment",
}


# --- the district officer ----------------------------------------------------------------


def _officer_queue(user, today, now) -> Queue:
    from relief.selectors.funds import fund_overview

    approve = QueueGroup(
        "approve",
        _("Recommended, to approve"),
        _("Approve with an amount, send back to the town, or reject."),
        _changelist("recommended"),
    )
    pay = QueueGroup(
        "pay",
        _("Approved, not yet paid"),
        _("Put into a payment batch and export the bank file, or record the payout."),
        _changelist("approved"),
    )
    batches = QueueGroup(
        "batches",
        _("Bank file exported, batch not marked paid"),
        _("Check the bank's confirmation and mark the batch paid."),
        reverse("admin:relief_paymentbatch_changelist") + "?state__exact=exported",
    )
    funds = QueueGroup(
        "funds",
        _("Fund accounts short of the approved cases"),
        _("Record the income, or draw the cases on another account."),
        reverse("funds:overview"),
    )
    pending = []
    cases = (
        _cases(user)
        .filter(state__in=[S.RECOMMENDED, S.APPROVED])
        .prefetch_related(
            Prefetch(
                "batch_items",
                queryset=BatchItem.objects.filter(
                    batch__state__in=OPEN_BATCH_STATES
                ).select_related("batch"),
                to_attr="open_items",
            )
        )
    )
    by_batch = defaultdict(list)  # exported batch -> its case items (for its deadline)
    waiting = defaultdict(list)  # (town, source, year) or (town, None, None) -> case items
    for case in cases:
        if case.state == S.RECOMMENDED:
            item = _case_item(case, "approve", _admin_case(case), case.recommended_at, "approval")
            item.amount = case.recommended_amount
            approve.items.append(item)
            pending.append((item, "approval", case.application_date))
            continue
        batch = case.open_items[0].batch if case.open_items else None
        item = _case_item(case, "pay", _admin_case(case), case.approved_at, "payment")
        item.amount = case.outstanding_amount
        pending.append((item, "payment", case.application_date))
        town_id = case.union.parent_id
        if batch is None:
            waiting[(town_id, None, None)].append(item)
            pay.items.append(item)
            continue
        waiting[(town_id, batch.fund_source, batch.fund_year)].append(item)
        if batch.state == BatchState.EXPORTED:
            by_batch[batch].append(item)
        else:
            item.note = _("In draft batch %(ref)s, bank file not exported.") % {
                "ref": batch.reference
            }
            pay.items.append(item)
    deadlines = _finish([approve, pay], pending, today)
    for batch, items in by_batch.items():
        batch_item = QueueItem(
            group="batches",
            kind="batch",
            pk=batch.pk,
            reference=batch.reference,
            title=batch.title,
            url=reverse("admin:relief_paymentbatch_change", args=[batch.pk]),
            step=STEP_NAMES["payment"],
            started=_day(batch.exported_at),
            note=_("%(n)d cases, %(amount)s yuan")
            % {"n": len(items), "amount": sum((i.amount for i in items), Decimal("0.00"))},
            amount=sum((i.amount for i in items), Decimal("0.00")),
        )
        _inherit_deadline(batch_item, items)
        if batch_item.started:
            # Its age counts from the export (after its cases' approval: in the calendar's range).
            batch_item.age = deadlines.calendar.between(batch_item.started, today)
        batches.items.append(batch_item)
    if waiting:
        for town_funds in fund_overview(user):
            town = town_funds.town
            free = Decimal("0.00")
            for line in town_funds.lines:
                items = waiting.get((town.pk, line.source, line.year), [])
                if line.available < 0 and items:
                    funds.items.append(
                        _fund_item(
                            town,
                            f"{town.name} · {line.source_label} · {line.year}",
                            _("Open batches need %(need)s yuan, the account holds %(has)s.")
                            % {"need": line.committed, "has": line.balance},
                            line.year,
                            items,
                        )
                    )
                free += max(line.available, Decimal("0.00"))
            items = waiting.get((town.pk, None, None), [])
            owed = sum((i.amount for i in items), Decimal("0.00"))
            if items and owed > free:
                funds.items.append(
                    _fund_item(
                        town,
                        town.name,
                        _(
                            "Approved cases not in a batch owe %(need)s yuan; "
                            "the town's accounts have %(has)s available."
                        )
                        % {"need": owed, "has": free},
                        None,
                        items,
                    )
                )
    advances = _advance_group(user, today, town_does_it=False)
    groups = [approve, advances, pay, batches, funds]
    for group in (batches, funds):
        group.items.sort(key=lambda item: item.sort_key)
    return Queue(Role.DISTRICT_OFFICER, today, now, groups)


def _inherit_deadline(item: QueueItem, cases: list[QueueItem]) -> None:
    """A batch or an account is as late as its most urgent case: the earliest due date."""
    if item.started is None:
        oldest = min((c for c in cases if c.started), key=lambda c: c.started, default=None)
        if oldest:
            item.started, item.age = oldest.started, oldest.age
    dues = [c for c in cases if c.due]
    if dues:
        first = min(dues, key=lambda c: c.due)
        item.due, item.overdue, item.overdue_by = first.due, first.overdue, first.overdue_by


def _fund_item(town, reference, note, year, items) -> QueueItem:
    url = reverse("funds:overview") + (f"?year={year}" if year else "")
    item = QueueItem(
        group="funds",
        kind="fund",
        pk=None,
        reference=reference,
        title=_("%(n)d approved cases waiting") % {"n": len(items)},
        url=url,
        town=town.name,
        town_id=town.pk,
        step=STEP_NAMES["payment"],
        note=note,
    )
    _inherit_deadline(item, items)
    return item


# --- entry points --------------------------------------------------------------------------

BUILDERS = {
    Role.CASEWORKER: _caseworker_queue,
    Role.TOWN_REVIEWER: _reviewer_queue,
    Role.DISTRICT_OFFICER: _officer_queue,
}


def queue_for(user, *, today: dt.date | None = None) -> Queue:
    """The user's 待办, by role; empty for users without a role (administrators)."""
    now = timezone.now()
    today = today or timezone.localdate()
    build = BUILDERS.get(getattr(user, "role", "") or "")
    if not getattr(user, "is_authenticated", False) or not user.is_active or build is None:
        return Queue("", today, now, [])
    return build(user, today, now)


def overdue_for(user, *, today: dt.date | None = None) -> list[QueueItem]:
    """The overdue items of the user's queue, oldest first (for the daily digest)."""
    return queue_for(user, today=today).overdue


def mark_decisions_seen(user, shown_at: dt.datetime | None = None) -> dt.datetime:
    """Move the user's "seen" marker to `shown_at` (when the page they read was made; never
    later than now, never backwards). Returns the marker."""
    now = timezone.now()
    at = min(shown_at or now, now)
    seen, created = QueueSeen.objects.get_or_create(user=user, defaults={"decisions_seen_at": at})
    if not created and at > seen.decisions_seen_at:
        seen.decisions_seen_at = at
        seen.save(update_fields=["decisions_seen_at"])
    return seen.decisions_seen_at


# --- overdue across a scope (dashboard, printed report) --------------------------------------

# state -> (step, start field); every case-level deadline, whoever's step it is.
CASE_STEPS = {
    S.SUBMITTED: ("review", "submitted_at"),
    S.VERIFIED: ("review", "submitted_at"),
    S.RETURNED: ("resubmit", "returned_at"),
    S.RECOMMENDED: ("approval", "recommended_at"),
    S.APPROVED: ("payment", "approved_at"),
    S.DISBURSED: ("follow_up", "disbursed_at"),
}


def overdue_cases(user, *, unit=None, today: dt.date | None = None) -> list[QueueItem]:
    """Every case in the user's scope (and under `unit`) whose current step is past its
    deadline, ordered by town, then oldest first. Three queries."""
    today = today or timezone.localdate()
    cases = (
        _cases(user).filter(state__in=list(CASE_STEPS)).exclude(state=S.DISBURSED, followed_up=True)
    )
    if unit is not None:
        cases = cases.filter(union__path__startswith=unit.path)
    pending = []
    for case in cases.order_by():
        step, start_field = CASE_STEPS[case.state]
        started = getattr(case, start_field) or case.application_date
        item = _case_item(case, "overdue", _admin_case(case), started, step)
        item.note = case.get_state_display()
        pending.append((item, step, case.application_date))
    if pending:
        deadlines = Deadlines(today, min(item.started for item, _s, _d in pending))
        for item, step, application_date in pending:
            deadlines.apply(item, step, application_date)
    late = [item for item, _s, _d in pending if item.overdue]
    return sorted(late, key=lambda item: (item.town, item.sort_key))


def overdue_by_town(user, *, unit=None, today: dt.date | None = None) -> dict[int, int]:
    """{town id: number of overdue cases} in the user's scope (and under `unit`): what
    overdue_cases() lists, counted in one query instead of read case by case (the dashboard of
    a city federation has tens of thousands of cases in progress).

    A step is overdue when today is past its start + the limit in working days, i.e. when its
    start (as a local date) is before the limit-th working day before today: one cut-off date
    per policy and step, and a COUNT per town of the cases that started before it (two: the
    paid cases due a follow-up apart).
    """
    today = today or timezone.localdate()
    policies = list(Policy.objects.order_by("effective_from"))
    limits = {getattr(p, LIMITS[step]) or 0 for p in policies for step, _f in CASE_STEPS.values()}
    if not policies or not any(limits):
        return {}
    calendar = WorkCalendar(today - dt.timedelta(days=max(limits) * 3 + 60), today)
    cutoffs = {n: calendar.nth_before(today, n) for n in limits if n}
    # state -> [When(policy in force, then: started before the cut-off)]: a CASE, not an OR,
    # so the plan reads the cases of those states once and tests each row (an OR of a dozen
    # ranges became a BitmapOr per union).
    late = defaultdict(list)
    for i, policy in enumerate(policies):
        in_force = Q(application_date__gte=policy.effective_from)
        if i + 1 < len(policies):
            in_force &= Q(application_date__lt=policies[i + 1].effective_from)
        for state, (step, start_field) in CASE_STEPS.items():
            limit = getattr(policy, LIMITS[step])
            if not limit:
                continue
            cutoff = cutoffs[limit]
            midnight = timezone.make_aware(dt.datetime.combine(cutoff, dt.time.min))
            started_before = Q(**{f"{start_field}__lt": midnight}) | Q(
                **{f"{start_field}__isnull": True, "application_date__lt": cutoff}
            )
            late[state].append(
                When(
                    in_force & Q(state=state),
                    then=ExpressionWrapper(started_before, output_field=BooleanField()),
                )
            )

    def overdue(states):
        whens = [w for state in states for w in late[state]]
        return Case(*whens, default=Value(False), output_field=BooleanField()) if whens else None

    cases = Application.objects.filter(scope_q(user, "union"))
    if unit is not None:
        cases = cases.filter(union__path__startswith=unit.path)
    town = Case(
        When(union__level=Level.TOWN, then=F("union_id")),
        When(union__level=Level.GRASSROOTS, then=F("union__parent_id")),
        default=None,
    )
    counts: dict[int, int] = defaultdict(int)
    # Two queries: the paid cases not yet followed up (the many: one range of a partial index)
    # apart from the few at the other steps.
    others = [state for state in CASE_STEPS if state != S.DISBURSED]
    queries = []
    if overdue(others) is not None:
        queries.append(cases.filter(state__in=others).filter(overdue(others)))
    if overdue([S.DISBURSED]) is not None:
        queries.append(
            cases.filter(state=S.DISBURSED).filter(overdue([S.DISBURSED])).filter(followed_up=False)
        )
    for found in queries:
        for town_id, n in (
            found.order_by()
            .values(town_id=town)
            .annotate(n=Count("pk"))
            .values_list("town_id", "n")
        ):
            counts[town_id] += n
    return {town_id: n for town_id, n in counts.items() if n}


__all__ = [
    "Deadlines",
    "Queue",
    "QueueGroup",
    "QueueItem",
    "mark_decisions_seen",
    "overdue_by_town",
    "overdue_cases",
    "overdue_for",
    "queue_for",
]

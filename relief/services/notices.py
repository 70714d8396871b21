"""Public notices (公示) before district approval, and objections (异议) to the cases on them.

The policy of a case says whether it must be noticed (Policy.notice_required); the policy in
force on the day a notice starts says for how many working days (relief.workdays) and which
phone takes complaints. Every step here takes the same write path as the case's transitions:
the case row locked (relief.services.locking: scope 404, version 409, role 403, state), the
records written, an audit entry per case, all in one transaction. An objection upheld by the
town returns or rejects the case through the shared transition path (applications._transition).
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.errors import NotAllowed
from relief.models import (
    Application,
    AuditEntry,
    NoticeItem,
    Objection,
    ObjectionChannel,
    ObjectionOutcome,
    Policy,
    PublicNotice,
)
from relief.services.applications import _transition
from relief.services.audit import audit, site_language
from relief.services.locking import lock_application
from relief.workdays import WorkCalendar
from unions.models import Role, Union

# How far ahead a notice may be dated (posted next week, recorded today).
MAX_DAYS_AHEAD = 30


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def notice_end(starts_on: dt.date, workdays: int) -> dt.date:
    """The last day of a notice of `workdays` working days posted on `starts_on`: the day of
    posting counts when it is a working day (posted on a Saturday, the count starts Monday)."""
    calendar = WorkCalendar.around(starts_on, days_after=workdays * 3 + 30)
    first_counts = calendar.is_workday(starts_on)
    return calendar.add(starts_on, workdays - 1 if first_counts else workdays)


def latest_recommendation(application: Application) -> AuditEntry | None:
    """The audit entry of the case's current recommendation (the one a notice must cover)."""
    return (
        AuditEntry.objects.filter(application=application, action="recommend")
        .order_by("-pk")
        .first()
    )


def current_item(application: Application) -> NoticeItem | None:
    """The notice of the case's current recommendation, if it has been put on one."""
    recommendation = latest_recommendation(application)
    if recommendation is None:
        return None
    return (
        NoticeItem.objects.filter(application=application, recommendation=recommendation)
        .select_related("notice", "notice__town")
        .first()
    )


@dataclass(frozen=True)
class NoticeStatus:
    required: bool
    item: NoticeItem | None
    unresolved: int  # objections not yet resolved, on the current notice
    today: dt.date

    @property
    def notice(self) -> PublicNotice | None:
        return self.item.notice if self.item else None

    @property
    def blocks_approval(self) -> str:
        """Why the district cannot approve now (in the user's language), or ""."""
        if self.item is None:
            if not self.required:
                return ""
            return _(
                "The policy requires a public notice before approval, and this case has not "
                "been put on one since the town recommended it: the town federation opens a "
                "notice; approval is possible the working day after it ends."
            )
        notice = self.item.notice
        problems = []
        if not notice.has_ended(self.today):
            problems.append(
                _(
                    "The public notice %(number)s has not ended: it runs until %(ends)s, so the "
                    "case can be approved from %(after)s at the earliest."
                )
                % {
                    "number": notice.number,
                    "ends": cn_date(notice.ends_on),
                    "after": cn_date(notice.ends_on + dt.timedelta(days=1)),
                }
            )
        if self.unresolved:
            problems.append(
                _(
                    "%(count)d objection(s) received during the public notice %(number)s are not "
                    "resolved: the town federation records its finding and outcome first."
                )
                % {"count": self.unresolved, "number": notice.number}
            )
        return " ".join(problems)

    def describe(self) -> str:
        """One line for the case page: where the case stands with its notice."""
        if self.item is None:
            return (
                _("Not on public notice yet (required by the policy).")
                if self.required
                else _("Not on public notice (not required by the policy).")
            )
        notice = self.item.notice
        text = _("Notice %(number)s, %(starts)s to %(ends)s, posted at %(where)s.") % {
            "number": notice.number,
            "starts": cn_date(notice.starts_on),
            "ends": cn_date(notice.ends_on),
            "where": notice.posted_at,
        }
        return " ".join(p for p in (text, self.blocks_approval) if p)


def notice_status(application: Application, *, today: dt.date | None = None) -> NoticeStatus:
    item = current_item(application)
    unresolved = item.objections.filter(outcome="").count() if item else 0
    return NoticeStatus(
        required=bool(application.policy.notice_required),
        item=item,
        unresolved=unresolved,
        today=today or timezone.localdate(),
    )


def check_notice_before_approval(application: Application) -> None:
    """Raised by application_approve (inside its lock): the notice the case still waits for."""
    problem = notice_status(application).blocks_approval
    if problem:
        raise ValidationError(problem, code="notice")


def candidates_for_notice(user):
    """Recommended cases of the user's town not yet on a notice since their recommendation."""
    from relief.selectors import applications_for_user

    if not (user.is_active and user.role == Role.TOWN_REVIEWER):
        return Application.objects.none()
    cases = applications_for_user(user).filter(state=wf.S_RECOMMENDED).order_by("recommended_at")
    latest = _latest_recommendation_ids(cases.values_list("pk", flat=True))
    noticed = NoticeItem.objects.filter(recommendation_id__in=latest.values()).values_list(
        "application_id", flat=True
    )
    return cases.exclude(pk__in=list(noticed))


def _latest_recommendation_ids(application_ids) -> dict[int, int]:
    latest = (
        AuditEntry.objects.filter(application_id__in=application_ids, action="recommend")
        .values("application_id")
        .annotate(last=Max("pk"))
    )
    return {row["application_id"]: row["last"] for row in latest}


def _next_seq(town: Union, year: int) -> int:
    # The town's row is the lock: two reviewers opening notices at once get numbers in turn.
    Union.objects.select_for_update().filter(pk=town.pk).first()
    last = PublicNotice.objects.filter(town=town, year=year).aggregate(m=Max("seq"))["m"]
    return (last or 0) + 1


@transaction.atomic
def notice_open(
    *, user, applications, posted_at: str, starts_on: dt.date, source: str = "admin"
) -> PublicNotice:
    """Put recommended cases of the reviewer's town on a new public notice.

    `applications` are the copies the reviewer saw (their version guards against changes).
    The period comes from the policy in force on `starts_on`; the end date is counted on the
    working-day calendar. A case already on a notice since its latest recommendation is refused.
    """
    applications = list(applications)
    # Each case locked first: scope (404), version (409), role (403) and state, in that order,
    # as for every step on a case.
    locked_cases = [
        lock_application(application, user, "notice")
        for application in sorted(applications, key=lambda a: a.pk)
    ]
    if not (user.is_active and user.role == Role.TOWN_REVIEWER and user.union_id):
        raise NotAllowed(_("Only town reviewers open public notices."))
    town = user.union
    posted_at = (posted_at or "").strip()
    errors = {}
    if not posted_at:
        errors["posted_at"] = _("Say where the notice is posted.")
    today = timezone.localdate()
    if starts_on is None:
        errors["starts_on"] = _("Give the first day of the notice.")
    elif starts_on > today + dt.timedelta(days=MAX_DAYS_AHEAD):
        errors["starts_on"] = _("A notice can be recorded at most %(days)d days ahead.") % {
            "days": MAX_DAYS_AHEAD
        }
    if not applications:
        errors["applications"] = _("Choose at least one recommended case.")
    if len({a.pk for a in applications}) != len(applications):
        errors["applications"] = _("Each case can be on the notice once.")
    if errors:
        raise ValidationError(errors)
    policy = Policy.in_force(starts_on)
    if policy is None:
        raise ValidationError(
            {"starts_on": _("No relief policy is in force on %(date)s.") % {"date": starts_on}}
        )
    notice = PublicNotice(
        town=town,
        year=starts_on.year,
        posted_at=posted_at,
        starts_on=starts_on,
        workdays=policy.notice_workdays,
        ends_on=notice_end(starts_on, policy.notice_workdays),
        phone=policy.notice_phone or town.phone,
        opened_by=user,
    )
    chosen = []
    problems = []
    for locked in locked_cases:
        recommendation = latest_recommendation(locked)
        if recommendation is None:
            problems.append(
                _("%(reference)s has no recommendation on file.") % {"reference": locked}
            )
            continue
        if locked.recommended_at and starts_on < timezone.localtime(locked.recommended_at).date():
            problems.append(
                _("%(reference)s was recommended on %(date)s: the notice cannot start before.")
                % {
                    "reference": locked.reference,
                    "date": cn_date(timezone.localtime(locked.recommended_at).date()),
                }
            )
        existing = (
            NoticeItem.objects.filter(recommendation=recommendation)
            .select_related("notice__town")
            .first()
        )
        if existing is not None:
            problems.append(
                _(
                    "%(reference)s is already on notice %(number)s (%(starts)s to %(ends)s) "
                    "since its recommendation."
                )
                % {
                    "reference": locked.reference,
                    "number": existing.notice.number,
                    "starts": cn_date(existing.notice.starts_on),
                    "ends": cn_date(existing.notice.ends_on),
                }
            )
        chosen.append((locked, recommendation))
    if problems:
        raise ValidationError({"applications": problems})
    notice.seq = _next_seq(town, notice.year)
    notice.full_clean()
    notice.save()
    source = f"notice:{notice.pk}" if source == "admin" else source
    for locked, recommendation in chosen:
        NoticeItem.objects.create(
            notice=notice,
            application=locked,
            recommendation=recommendation,
            amount=locked.recommended_amount,
        )
        with site_language():
            comment = _("Notice %(number)s, %(starts)s to %(ends)s, posted at %(where)s.") % {
                "number": notice.number,
                "starts": cn_date(notice.starts_on),
                "ends": cn_date(notice.ends_on),
                "where": notice.posted_at,
            }
        audit(
            actor=user,
            action="notice",
            application=locked,
            comment=comment,
            changes={"notice": [None, notice.number], "ends_on": [None, str(notice.ends_on)]},
            source=source,
        )
    return notice


def _item_for_objection(locked: Application) -> NoticeItem:
    item = current_item(locked)
    if item is None:
        raise ValidationError(
            {
                "application": _(
                    "%(reference)s is not on public notice since its recommendation: an "
                    "objection is recorded against a case on a notice."
                )
                % {"reference": locked.reference}
            }
        )
    return item


@transaction.atomic
def objection_record(
    *,
    user,
    application: Application,
    received_on: dt.date,
    channel: str,
    content: str,
    objector_name: str = "",
    objector_contact: str = "",
    handler: str = "",
    source: str = "admin",
) -> Objection:
    """An objection received against a case on notice. The trail says that one came in, when
    and how; what was said and who said it stay on the objection (town and district only)."""
    locked = lock_application(application, user, "objection")
    item = _item_for_objection(locked)
    notice = item.notice
    errors = {}
    today = timezone.localdate()
    if received_on is None:
        errors["received_on"] = _("Give the date the objection was received.")
    elif received_on > today:
        errors["received_on"] = _("The date cannot be in the future.")
    elif received_on < notice.starts_on:
        errors["received_on"] = _("The notice %(number)s started on %(starts)s.") % {
            "number": notice.number,
            "starts": cn_date(notice.starts_on),
        }
    if channel not in ObjectionChannel.values:
        errors["channel"] = _("Choose how the objection was received.")
    if not (content or "").strip():
        errors["content"] = _("Write down what was said.")
    if errors:
        raise ValidationError(errors)
    objection = Objection(
        item=item,
        received_on=received_on,
        channel=channel,
        content=content.strip(),
        objector_name=(objector_name or "").strip(),
        objector_contact=(objector_contact or "").strip(),
        handler=(handler or "").strip() or user.get_full_name() or user.get_username(),
        recorded_by=user,
    )
    objection.full_clean()
    objection.save()
    with site_language():
        comment = _("Objection received on %(date)s by %(channel)s (notice %(number)s).") % {
            "date": cn_date(received_on),
            "channel": objection.get_channel_display(),
            "number": notice.number,
        }
    audit(
        actor=user,
        action="objection",
        application=locked,
        comment=comment,
        changes={"objection": [None, str(objection.pk)]},
        source=source,
    )
    return objection


OUTCOME_TRANSITIONS = {
    ObjectionOutcome.RETURNED: "objection_return",
    ObjectionOutcome.REJECTED: "objection_reject",
}


@transaction.atomic
def objection_resolve(
    *,
    user,
    objection: Objection,
    outcome: str,
    finding: str,
    resolved_on: dt.date | None = None,
    source: str = "admin",
) -> Objection:
    """The town's finding and outcome. Dismissed: the case stays on notice. Upheld: the case is
    returned for re-verification or rejected, through the shared transition path, with the
    finding as its comment; other open objections to it are closed with the same outcome."""
    application = Application.objects.get(pk=objection.item.application_id)
    # Scope, role and state first, on the case: an out-of-scope objection is "not found".
    locked = lock_application(application, user, "objection")
    current = (
        Objection.objects.select_for_update()
        .select_related("item__notice__town")
        .get(pk=objection.pk)
    )
    errors = {}
    if current.is_resolved:
        raise ValidationError(
            _("This objection was resolved on %(date)s (%(outcome)s).")
            % {"date": cn_date(current.resolved_on), "outcome": current.get_outcome_display()}
        )
    item = current_item(locked)
    if item is None or item.pk != current.item_id:
        raise ValidationError(
            _("The case has been recommended again since this objection: it is history.")
        )
    finding = (finding or "").strip()
    resolved_on = resolved_on or timezone.localdate()
    if outcome not in ObjectionOutcome.values:
        errors["outcome"] = _("Choose dismissed, returned for re-verification or rejected.")
    if not finding:
        errors["finding"] = _("Write down what the town found.")
    if resolved_on > timezone.localdate():
        errors["resolved_on"] = _("The date cannot be in the future.")
    elif resolved_on < current.received_on:
        errors["resolved_on"] = _("The objection was received on %(date)s.") % {
            "date": cn_date(current.received_on)
        }
    if errors:
        raise ValidationError(errors)
    number = current.item.notice.number
    siblings = list(
        Objection.objects.select_for_update()
        .filter(item=current.item, outcome="")
        .exclude(pk=current.pk)
    )
    current.outcome, current.finding = outcome, finding
    current.resolved_on, current.resolved_by = resolved_on, user
    current.save()
    if outcome == ObjectionOutcome.DISMISSED:
        with site_language():
            comment = _("Objection of %(date)s (notice %(number)s) dismissed: %(finding)s") % {
                "date": cn_date(current.received_on),
                "number": number,
                "finding": finding,
            }
        audit(
            actor=user,
            action="objection_resolve",
            application=locked,
            comment=comment,
            changes={"objection": [str(current.pk), outcome]},
            source=source,
        )
        return current
    for other in siblings:
        other.outcome, other.resolved_on, other.resolved_by = outcome, resolved_on, user
        with site_language():
            other.finding = _("Settled with the objection of %(date)s: %(finding)s") % {
                "date": cn_date(current.received_on),
                "finding": finding,
            }
        other.save()
    with site_language():
        comment = _("Public notice %(number)s, objection upheld: %(finding)s") % {
            "number": number,
            "finding": finding,
        }
    _transition(
        locked,
        user,
        OUTCOME_TRANSITIONS[outcome],
        comment=comment,
        before_transition=lambda _case: {
            "objection": [str(current.pk), outcome],
            **{f"objection_{o.pk}": [str(o.pk), outcome] for o in siblings},
        },
        source=source,
    )
    return current

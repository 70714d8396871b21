"""Scoped reads of public notices (公示) and objections (异议), for the admin and the queues.

For the work queues (relief/queues.py), per user:

- notices_ending(user, today=None, within_workdays=1): notices of the user's scope still
  running (today <= ends_on) that end within that many working days, with `waiting` = how
  many of their cases still await approval; soonest first.
- unresolved_objections(user): objections not yet resolved whose case is still recommended
  on that notice; oldest first. Never any for caseworkers.
- cases_awaiting_notice(user): recommended cases whose policy requires a notice and that are
  not on one since their latest recommendation (the town's to-do: open a notice).
- cases_cleared_by_notice(user, today=None): recommended cases whose current notice has ended
  without an unresolved objection (the district's to-do: approve now).

Scope is the union subtree, as everywhere (unions.selectors.scope_q).
"""

import datetime as dt

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from relief import workflow as wf
from relief.models import Application, AuditEntry, NoticeItem, Objection, PublicNotice
from relief.workdays import add_workdays
from unions.models import Role
from unions.selectors import scope_q

REVIEWER_ROLES = (Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER)


def may_see_objections(user) -> bool:
    """Town reviewers and district officers (and administrators); never caseworkers."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.role in REVIEWER_ROLES


# Audit entries of objections: the town's and the district's, never shown to caseworkers (an
# objection upheld shows as the return or rejection it caused, with the town's finding).
OBJECTION_ACTIONS = ("objection", "objection_resolve")


def timeline_for(user, application):
    """The case's timeline as this user may see it (relief.selectors.timeline)."""
    from relief.selectors import timeline

    entries = timeline(application)
    return entries if may_see_objections(user) else entries.exclude(action__in=OBJECTION_ACTIONS)


def notices_for_user(user) -> QuerySet[PublicNotice]:
    if not may_see_objections(user):
        return PublicNotice.objects.none()
    return PublicNotice.objects.filter(scope_q(user, "town")).select_related("town")


def objections_for_user(user) -> QuerySet[Objection]:
    if not may_see_objections(user):
        return Objection.objects.none()
    return Objection.objects.filter(scope_q(user, "item__application__union")).select_related(
        "item__notice__town", "item__application__worker", "item__application__union"
    )


def _latest_recommendation() -> Subquery:
    return Subquery(
        AuditEntry.objects.filter(application=OuterRef("application"), action="recommend")
        .values("application")
        .annotate(last=Max("pk"))
        .values("last")[:1]
    )


def current_items() -> QuerySet[NoticeItem]:
    """Items covering their case's latest recommendation, the case still recommended."""
    return NoticeItem.objects.annotate(latest=_latest_recommendation()).filter(
        recommendation_id=F("latest"), application__state=wf.S_RECOMMENDED
    )


def notices_ending(
    user, *, today: dt.date | None = None, within_workdays: int = 1
) -> QuerySet[PublicNotice]:
    today = today or timezone.localdate()
    horizon = add_workdays(today, within_workdays)
    waiting = current_items().filter(notice=OuterRef("pk"))
    return (
        notices_for_user(user)
        .filter(ends_on__gte=today, ends_on__lte=horizon)
        .annotate(
            waiting=Count("items", filter=Q(items__in=current_items().values("pk")), distinct=True)
        )
        .filter(Exists(waiting))
        .order_by("ends_on", "pk")
    )


def unresolved_objections(user) -> QuerySet[Objection]:
    return (
        objections_for_user(user)
        .filter(outcome="", item__in=current_items().values("pk"))
        .order_by("received_on", "pk")
    )


def cases_awaiting_notice(user) -> QuerySet[Application]:
    from relief.selectors import applications_for_user

    noticed = current_items().filter(application=OuterRef("pk"))
    return (
        applications_for_user(user)
        .filter(state=wf.S_RECOMMENDED, policy__notice_required=True)
        .exclude(Exists(noticed))
        .order_by("recommended_at", "pk")
    )


def cases_cleared_by_notice(user, *, today: dt.date | None = None) -> QuerySet[Application]:
    from relief.selectors import applications_for_user

    today = today or timezone.localdate()
    cleared = (
        current_items()
        .filter(
            application=OuterRef("pk"),
            notice__ends_on__lt=today,
        )
        .exclude(objections__outcome="")
    )
    return (
        applications_for_user(user)
        .filter(state=wf.S_RECOMMENDED)
        .filter(Exists(cleared))
        .order_by("recommended_at", "pk")
    )

"""Who may have which report, on which unit. Outside a user's scope, things do not exist (404).

District officers: any unit. Town reviewers: their town and its unions. Caseworkers: worker
statements for their own union's workers and approval forms of their own union's cases.

Printed documents of the work itself: a review meeting's minutes for whoever may read the
meeting in the admin (town reviewers: their town's; district officers and administrators),
a payment batch's list for whoever may read the batch (district officers, administrators);
another role is refused (403) before anything is looked up, an object outside the user's
scope does not exist (404).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from relief.idcard import normalize_id_number
from relief.models import Application, BatchItem, PaymentBatch, ReviewMeeting, Worker
from relief.selectors import application_for_user, applications_for_user, workers_for_user
from unions.models import Level, Role, Union
from unions.selectors import scope_q, unions_in_scope

UNIT_ROLES = {Role.DISTRICT_OFFICER, Role.TOWN_REVIEWER}


def may_report_on_units(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in UNIT_ROLES)


def report_units(user) -> QuerySet[Union]:
    """Units whose yearly reports, dashboard and ledger the user may have."""
    if not may_report_on_units(user):
        return Union.objects.none()
    return unions_in_scope(user).order_by("path")


def unit_choices(user, unit: Union) -> list[Union]:
    """The units a page about `unit` offers to switch to: every unit of the user's scope above
    the grassroots (the district and its towns), and the grassroots unions of the town shown
    (of `unit` itself or of its parent), in tree order. A district holds two thousand
    grassroots unions: a list of all of them was 140 KB of options and most of the
    dashboard's rendering, and nobody scrolls it; one reaches a union through its town."""
    units = report_units(user).only("pk", "code", "name", "level", "path", "parent")
    town_id = {Level.TOWN: unit.pk, Level.GRASSROOTS: unit.parent_id}.get(unit.level)
    shown = ~Q(level=Level.GRASSROOTS)
    if town_id is not None:
        shown |= Q(level=Level.GRASSROOTS, parent_id=town_id)
    return list(units.filter(shown))


def unit_for(user, code: str) -> Union:
    try:
        return report_units(user).get(code=code)
    except Union.DoesNotExist:
        raise Http404 from None


def town_for(user, code: str) -> Union:
    unit = unit_for(user, code)
    if unit.level != Level.TOWN:
        raise Http404
    return unit


def default_unit(user) -> Union | None:
    units = report_units(user)
    if user.is_authenticated and user.union_id and units.filter(pk=user.union_id).exists():
        return user.union
    return units.first()


def worker_for(user, id_number: str) -> Worker:
    try:
        return workers_for_user(user).get(id_number=normalize_id_number(id_number))
    except Worker.DoesNotExist:
        raise Http404 from None


def application_for(user, pk) -> Application:
    return application_for_user(user, pk)


def application_by_reference(user, reference: str) -> Application:
    try:
        return applications_for_user(user).get(reference=reference)
    except Application.DoesNotExist:
        raise Http404 from None


def worker_by_pk(user, pk) -> Worker:
    """A worker of the user's scope, by key (the worker's page links to their statement)."""
    try:
        return workers_for_user(user).get(pk=pk)
    except (Worker.DoesNotExist, ValueError):
        raise Http404 from None


MEETING_PERMISSION = "relief.view_reviewmeeting"
BATCH_PERMISSION = "relief.view_paymentbatch"


def may_print_minutes(user) -> bool:
    return user.is_authenticated and user.has_perm(MEETING_PERMISSION)


def may_print_payment_list(user) -> bool:
    return user.is_authenticated and user.has_perm(BATCH_PERMISSION)


def meeting_for(user, pk) -> ReviewMeeting:
    """A review meeting of the user's town (any, for the district); the admin's rule."""
    if not may_print_minutes(user):
        raise PermissionDenied
    try:
        return (
            ReviewMeeting.objects.filter(scope_q(user, "town"))
            .select_related("town", "recorded_by")
            .get(pk=pk)
        )
    except ReviewMeeting.DoesNotExist:
        raise Http404 from None


def batch_for(user, pk) -> PaymentBatch:
    """A payment batch all of whose cases lie in the user's scope (the batch admin's rule)."""
    if not may_print_payment_list(user):
        raise PermissionDenied
    batches = PaymentBatch.objects.all()
    if not user.is_superuser:
        outside = BatchItem.objects.exclude(scope_q(user, "application__union"))
        batches = batches.exclude(items__in=outside)
    try:
        return batches.get(pk=pk)
    except PaymentBatch.DoesNotExist:
        raise Http404 from None


def case_print_links(
    user, application: Application, *, holds_worker: bool | None = None
) -> dict[str, str]:
    """The documents a case's page offers this user: the approval form to whoever sees the
    case (the same scope as the page), the worker's cumulative statement when the user's scope
    holds the worker too (a case filed for a worker held elsewhere shows only the form).
    `holds_worker`: that answer, where the page has it already."""
    from django.urls import reverse

    links = {"approval_form": reverse("reports:approval_form", args=[application.pk])}
    if holds_worker is None:
        holds_worker = workers_for_user(user).filter(pk=application.worker_id).exists()
    if holds_worker:
        links["statement"] = reverse("reports:worker_statement", args=[application.worker_id])
    return links


def notice_for(user, pk):
    """A public notice of a town in the user's report scope (town reviewers: their own town)."""
    from relief.models import PublicNotice

    try:
        return PublicNotice.objects.select_related("town").get(pk=pk, town__in=report_units(user))
    except PublicNotice.DoesNotExist:
        raise Http404 from None

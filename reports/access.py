"""Who may have which report, on which unit. Outside a user's scope, things do not exist (404).

District officers: any unit. Town reviewers: their town and its unions. Caseworkers: worker
statements for their own union's workers and approval forms of their own union's cases.
"""

from django.db.models import QuerySet
from django.http import Http404

from relief.idcard import normalize_id_number
from relief.models import Application, Worker
from relief.selectors import application_for_user, applications_for_user, workers_for_user
from unions.models import Level, Role, Union
from unions.selectors import unions_in_scope

UNIT_ROLES = {Role.DISTRICT_OFFICER, Role.TOWN_REVIEWER}


def may_report_on_units(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in UNIT_ROLES)


def report_units(user) -> QuerySet[Union]:
    """Units whose yearly reports, dashboard and ledger the user may have."""
    if not may_report_on_units(user):
        return Union.objects.none()
    return unions_in_scope(user).order_by("path")


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


def notice_for(user, pk):
    """A public notice of a town in the user's report scope (town reviewers: their own town)."""
    from relief.models import PublicNotice

    try:
        return PublicNotice.objects.select_related("town").get(pk=pk, town__in=report_units(user))
    except PublicNotice.DoesNotExist:
        raise Http404 from None

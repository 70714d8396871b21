"""Scoped reads: every queryset a user sees starts from their union subtree."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Prefetch, QuerySet, Sum

from relief import workflow as wf
from relief.errors import OutOfScope
from relief.idcard import normalize_id_number
from relief.models import Application, AuditEntry, Disbursement, Worker
from relief.models.money import to_cents
from unions.selectors import scope_q


def applications_for_user(user) -> QuerySet[Application]:
    return (
        Application.objects.filter(scope_q(user, "union"))
        .select_related("worker", "union", "union__parent", "policy")
        .prefetch_related("categories")
    )


def application_for_user(user, pk) -> Application:
    """The case if the user's scope holds it; otherwise it does not exist for them (404)."""
    try:
        return applications_for_user(user).get(pk=pk)
    except (Application.DoesNotExist, ValueError):
        raise OutOfScope from None


def timeline(application: Application) -> QuerySet[AuditEntry]:
    return application.audit_entries.select_related("actor", "actor__union").order_by("at", "pk")


@dataclass(frozen=True)
class PriorRelief:
    """What an intake may show about a worker, whichever union filed their earlier cases."""

    worker: Worker
    payout_count: int
    total_paid: Decimal
    last_paid_on: object
    last_amount: Decimal | None
    last_town: str
    # Reference and filing union of a case in progress, without its details.
    in_progress_reference: str
    in_progress_union: str


def prior_relief(id_number: str) -> PriorRelief | None:
    worker = Worker.objects.filter(id_number=normalize_id_number(id_number)).first()
    if worker is None:
        return None
    # A payout the bank returned, and its reversal, are not relief received.
    payouts = Disbursement.objects.received().filter(application__worker=worker)
    totals = payouts.aggregate(n=Count("pk"), total=Sum("amount"), last=Max("paid_on"))
    last = payouts.select_related("application__union__parent").order_by("-paid_on", "-pk").first()
    current = (
        Application.objects.filter(worker=worker, state__in=wf.IN_PROGRESS)
        .select_related("union")
        .first()
    )
    return PriorRelief(
        worker=worker,
        payout_count=totals["n"],
        total_paid=to_cents(totals["total"]),
        last_paid_on=totals["last"],
        last_amount=last.amount if last else None,
        last_town=last.application.union.parent.name if last else "",
        in_progress_reference=current.reference if current else "",
        in_progress_union=current.union.name if current else "",
    )


def workers_for_user(user) -> QuerySet[Worker]:
    return (
        Worker.objects.filter(scope_q(user, "union"))
        .select_related("union")
        .prefetch_related(Prefetch("household"))
    )

"""The home page: a caseworker's cases by state and what needs action first."""

from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, IntegerField, Prefetch, Value, When
from django.shortcuts import render

from relief import workflow as wf
from relief.models import Application, ApplicationState, AuditEntry
from relief.selectors import applications_for_user
from relief.views.common import is_caseworker
from unions.selectors import scope_q

S = ApplicationState
NEEDS_ACTION_SHOWN = 20


@login_required
def home(request):
    user = request.user
    if not is_caseworker(user):
        # Reviewers, officers and administrators work in the admin.
        return render(request, "relief/home.html", {"dashboard": False})
    counts = dict(
        Application.objects.filter(scope_q(user, "union"))
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_state = [
        {"state": value, "label": label, "count": counts.get(value, 0)}
        for value, label in S.choices
    ]
    needs_action = list(
        applications_for_user(user)
        .filter(state__in=[S.RETURNED, S.DRAFT])
        .annotate(
            urgency=Case(
                When(state=S.RETURNED, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .prefetch_related(None)  # no categories on this page
        .prefetch_related(
            Prefetch(
                "audit_entries",
                queryset=AuditEntry.objects.filter(action__in=wf.RETURNS)
                .select_related("actor")
                .order_by("-at", "-pk"),
                to_attr="returns",
            )
        )
        .order_by("urgency", "-updated_at", "-pk")[:NEEDS_ACTION_SHOWN]
    )
    waiting = sum(counts.get(s, 0) for s in (S.SUBMITTED, S.VERIFIED, S.RECOMMENDED, S.APPROVED))
    return render(
        request,
        "relief/home.html",
        {
            "dashboard": True,
            "by_state": by_state,
            "needs_action": needs_action,
            "needs_action_total": counts.get(S.RETURNED, 0) + counts.get(S.DRAFT, 0),
            "returned_count": counts.get(S.RETURNED, 0),
            "draft_count": counts.get(S.DRAFT, 0),
            "waiting_count": waiting,
            "total": sum(counts.values()),
        },
    )

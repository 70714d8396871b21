"""The home page: the user's 待办 (relief.queues) and, for caseworkers, their cases by state."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relief.models import Application, ApplicationState
from relief.queues import mark_decisions_seen, queue_for
from relief.templatetags.queue_tags import SHOWN
from relief.views.common import is_caseworker
from unions.selectors import scope_q

S = ApplicationState


@login_required
def home(request):
    user = request.user
    queue = queue_for(user) if user.role else None
    context = {"dashboard": False, "queue": queue, "shown": SHOWN}
    if not is_caseworker(user):
        # Reviewers and officers take their steps in the admin; the queue links there.
        return render(request, "relief/home.html", context)
    counts = dict(
        Application.objects.filter(scope_q(user, "union"))
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    context.update(
        dashboard=True,
        by_state=[
            {"state": value, "label": label, "count": counts.get(value, 0)}
            for value, label in S.choices
        ],
        total=sum(counts.values()),
    )
    return render(request, "relief/home.html", context)


@login_required
@require_POST
def queue_seen(request):
    """ "Mark as seen": decisions up to the moment the page that listed them was made."""
    if not is_caseworker(request.user):
        raise PermissionDenied(_("Only caseworkers have decisions to mark as seen."))
    try:
        shown_at = dt.datetime.fromisoformat(request.POST.get("shown_at", ""))
    except ValueError:
        shown_at = None  # a hand-made or damaged form: up to now
    if shown_at is not None and timezone.is_naive(shown_at):
        shown_at = None
    mark_decisions_seen(request.user, shown_at)
    return redirect("home")

"""The user's own notifications: the list, opening one (marks it read), marking read.

Every lookup is by recipient: another user's notification does not exist (404).
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from notifications.models import Notification

PAGE_SIZE = 20


def _own(request):
    return Notification.objects.filter(recipient=request.user)


@login_required
@require_GET
def notification_list(request):
    notes = _own(request).select_related("application")
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_GET
def notification_open(request, pk):
    note = get_object_or_404(_own(request), pk=pk)
    if note.read_at is None:
        _own(request).filter(pk=note.pk).update(read_at=timezone.now())
    if not url_has_allowed_host_and_scheme(note.link, allowed_hosts=None):
        return redirect("notifications:list")
    return redirect(note.link)


@login_required
@require_POST
def notification_read(request, pk):
    note = get_object_or_404(_own(request), pk=pk)
    _own(request).filter(pk=note.pk, read_at__isnull=True).update(read_at=timezone.now())
    return redirect(_back(request))


@login_required
@require_POST
def notification_read_all(request):
    _own(request).filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect(_back(request))


def _back(request) -> str:
    """Back to the page of the list the button was on."""
    page = request.POST.get("page", "")
    url = "/notifications/"
    return f"{url}?page={int(page)}" if page.isdecimal() and 0 < int(page) < 10**6 else url

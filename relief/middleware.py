"""Faults a view did not handle itself: conflicts become a message, a database outage a 503.

Runs as process_exception, so it sees what a view (or the template it renders) raised:
- a Conflict or a lock timeout (relief.conflicts) that a page did not put on its form:
  the message goes to the messages framework and the user is sent back (the case page when
  the conflict names one, else the page they came from);
- OperationalError / InterfaceError (PostgreSQL restarting or down, a connection it broke) and
  the pool's PoolTimeout: a 503 page in Chinese with Retry-After, not a 500. The 503 page is
  rendered without the request's context processors, which would query the database again.
"""

from django.contrib import messages
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from relief.conflicts import as_conflict

RETRY_AFTER_SECONDS = 5

try:  # psycopg's own classes, in case one escapes Django's wrapper (the pool's PoolTimeout)
    import psycopg
    from psycopg_pool import PoolTimeout

    DATABASE_DOWN: tuple[type[BaseException], ...] = (
        OperationalError,
        InterfaceError,
        PoolTimeout,
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
except ImportError:  # SQLite-only installs
    DATABASE_DOWN = (OperationalError, InterfaceError)


def service_unavailable() -> HttpResponse:
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _back_url(request, conflict) -> str:
    application = getattr(conflict, "application", None)
    if application is not None:
        if request.user.is_staff:
            return reverse("admin:relief_application_change", args=[application.pk])
        return reverse("relief:case_detail", args=[application.pk])
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()


class DatabaseFaultMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        conflict = as_conflict(exception)
        if conflict is not None:
            messages.error(request, str(conflict))
            return HttpResponseRedirect(_back_url(request, conflict))
        if isinstance(exception, DATABASE_DOWN):
            return service_unavailable()
        return None

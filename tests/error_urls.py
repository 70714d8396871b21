"""The project's URLs plus views that fail in each way (tests/test_error_pages.py)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from config.urls import urlpatterns as project_urls
from tests.factories import make_id_number

SECRET = make_id_number(777)  # what a failing request might carry: never on an error page


def boom(request):
    raise RuntimeError(f"worker {SECRET} broke the ledger")


def suspicious(request):
    raise SuspiciousOperation(f"bad input {SECRET}")


def forbidden(request):
    raise PermissionDenied


urlpatterns = [
    path("test-errors/500/", boom),
    path("test-errors/400/", suspicious),
    path("test-errors/403/", forbidden),
    *project_urls,
]

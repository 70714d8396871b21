"""Helpers shared by the caseworker views."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from unions.models import Role


def is_caseworker(user) -> bool:
    return user.is_authenticated and user.role == Role.CASEWORKER and user.union_id is not None


def caseworker_required(view):
    """Signed in (else the sign-in page) and a caseworker of a grassroots union (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_caseworker(request.user):
            raise PermissionDenied(_("Only caseworkers of a grassroots union file cases here."))
        return view(request, *args, **kwargs)

    return wrapper


class Invalid(Exception):
    """A service refused the input; its messages are on the form. Rolls the transaction back."""


def add_service_errors(form, exc: ValidationError, *, formset=None) -> None:
    """Put a service's ValidationError next to the fields it names (else on top of the form)."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            if field == "household" and formset is not None:
                formset.non_form_errors().extend(messages)
            elif field in form.fields:
                form.add_error(field, messages)
            else:
                form.add_error(None, messages)
    else:
        form.add_error(None, exc.messages)


def call_service(form, service, *, formset=None, **kwargs):
    """Run a service; a ValidationError goes onto `form` and aborts with Invalid."""
    try:
        return service(**kwargs)
    except ValidationError as exc:
        add_service_errors(form, exc, formset=formset)
        raise Invalid from exc


def posted_version(request) -> int:
    """The case version the form was loaded with (an old one makes the service refuse)."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return -1

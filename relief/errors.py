"""Errors the services raise; views and the admin turn them into 404, 403 or a message."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _


class OutOfScope(Http404):
    """The object lies outside the user's union subtree: it does not exist for them."""


class NotAllowed(PermissionDenied):
    """In scope, but the user's role may not do this from the current state."""


class Conflict(Exception):
    """Someone else changed the case after this user loaded it (or holds its lock).

    With `application` (the current row) the message says who changed it, when, and what to
    do (relief.conflicts); the pages show it on the form or the case page.
    """

    default_message = _("This case was changed by someone else. Reload the page and try again.")

    def __init__(self, message=None, *, application=None):
        self.application = application
        if message is None and application is not None:
            from relief.conflicts import conflict_text

            message = conflict_text(application)
        super().__init__(message or self.default_message)

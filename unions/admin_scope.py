"""The one rule every admin of the project shares about objects outside the user's scope."""

from django.http import Http404


class NotFoundOutsideScope:
    """An object outside the user's queryset (its scope) answers 404, as on every other page.

    Django's admin answers a missing object from change, history and delete with a redirect to
    the index and a "doesn't exist" message; here get_object never returns None, so those
    views and the custom pages that call it (case steps, batches, payouts) all answer 404.
    Every admin of the project inherits this (tests/security/test_url_matrix.py checks it).
    """

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

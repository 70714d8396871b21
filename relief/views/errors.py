"""The 500 handler: a database outage met outside a view is a 503 too.

relief.middleware.DatabaseFaultMiddleware turns a view's OperationalError into a 503, but
middleware runs before any view: the session, the signed-in user and the idle-timeout check
all read the database first. An exception there never reaches process_exception; Django hands
it to this handler instead, still inside its `except` block, so sys.exc_info() names it.
"""

import sys

from django.views import defaults

from relief.middleware import DATABASE_DOWN, service_unavailable


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_DOWN):
        return service_unavailable()
    return defaults.server_error(request, template_name)

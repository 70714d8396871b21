"""Read-only report queries on a PostgreSQL streaming replica, when one is configured.

With REPLICA_DATABASE_URL set, the dashboard, the funds overview and the background report
renderer read from the database alias "replica"; everything else, and every write anywhere,
goes to "default". A replica lags its primary by a moment, so only pages that show figures
are sent there — never a form that writes and then reads back what it wrote, never a query
that locks rows. Without a replica the router says nothing and Django uses "default".
"""

import contextvars
import functools
from contextlib import contextmanager

from django.conf import settings

REPLICA = "replica"

_on_replica = contextvars.ContextVar("reports_on_replica", default=False)


def replica_in_use() -> bool:
    return bool(getattr(settings, "REPORTS_READ_FROM_REPLICA", False)) and (
        REPLICA in settings.DATABASES
    )


@contextmanager
def reports_from_replica():
    """Reads inside this block go to the replica (when there is one)."""
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


def on_replica(view):
    """A figures page: its GET reads from the replica; other methods are left alone."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        with reports_from_replica():
            return view(request, *args, **kwargs)

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _on_replica.get() and replica_in_use():
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: its rows are the same rows.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema by replication; nothing migrates it.
        return db == "default"

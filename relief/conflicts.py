"""One place that turns "someone else got there first" into words for the user.

Four kinds of conflict reach the pages: the case changed after the form was loaded (its
version moved on), the case's state moved on so the step no longer applies (approved, paid),
a row lock was not obtained in time (PostgreSQL `lock_timeout`), and SQLite's write lock was
not obtained within its busy timeout ("database is locked"). Each ends in the form again
or on the case page with a message saying what happened, by whom and when (from the audit
trail) and what to do, never a 500 or a bare 403. A role that may never take the step still
gets 403: that is not a conflict but a refusal.

`conflict_text` builds the message; `handle_conflicts` is the context manager every form view
wraps its service call in; relief.middleware.DatabaseFaultMiddleware is the safety net for a
view that does not.
"""

from contextlib import contextmanager

from django.db import OperationalError, connection
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from relief import workflow as wf
from relief.errors import Conflict

# PostgreSQL's lock_not_available: raised when `lock_timeout` expires while waiting for a lock.
LOCK_NOT_AVAILABLE = "55P03"


def set_lock_timeout() -> None:
    """Inside a transaction on PostgreSQL: wait at most RELIEF_LOCK_TIMEOUT_MS for row locks.

    Without it a payout queued behind a long write waits until the pool or the proxy gives up
    (a 500 or a 502); with it the wait ends in a Conflict the page can explain.
    """
    from django.conf import settings

    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    ms = int(getattr(settings, "RELIEF_LOCK_TIMEOUT_MS", 5000))
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = {ms}")


def is_sqlite_busy(exc: BaseException) -> bool:
    """SQLite: another write transaction held the database longer than the busy timeout.

    With transaction_mode IMMEDIATE (config.env.sqlite_options) a writer waits at BEGIN, up to
    the `timeout` (20 s), then gets "database is locked": nothing of its own was written yet.
    """
    return (
        isinstance(exc, OperationalError)
        and connection.vendor == "sqlite"
        and "database is locked" in str(exc)
    )


def sqlite_busy_conflict() -> Conflict:
    return Conflict(
        _(
            "The database is busy with another change (an import, a batch payment) and this "
            "one could not wait any longer. Nothing was saved: wait a moment and try again."
        )
    )


def is_lock_timeout(exc: BaseException) -> bool:
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == LOCK_NOT_AVAILABLE or (
        getattr(cause, "pgcode", None) == LOCK_NOT_AVAILABLE
    )


def lock_timeout_conflict() -> Conflict:
    return Conflict(
        _(
            "Someone else is changing this case or its fund account right now and it could not "
            "be locked in time. Nothing was saved: wait a moment, reload the page and try again."
        )
    )


def when_text(at) -> str:
    local = timezone.localtime(at)
    if local.date() == timezone.localdate():
        return local.strftime("%H:%M")
    return f"{date_format(local, 'Y-m-d')} {local:%H:%M}"


def last_change_text(application) -> str:
    """ "此案件已由 陈志强 于 10:42 办理“批准”，现在的状态是“已批准”。" from the audit trail."""
    from relief.models import AuditEntry

    entry = (
        AuditEntry.objects.filter(application_id=application.pk)
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )
    state = application.get_state_display()
    if entry is None:
        return _("This case is now “%(state)s”.") % {"state": state}
    label = wf.TRANSITION_LABELS.get(entry.action, entry.action)
    return _("This case was changed by %(who)s at %(when)s (%(what)s); it is now “%(state)s”.") % {
        "who": entry.actor.get_full_name(),
        "when": when_text(entry.at),
        "what": label,
        "state": state,
    }


def conflict_text(application) -> str:
    """A changed case: who changed it, when, and what to do."""
    return "{} {}".format(
        last_change_text(application),
        _("Nothing was saved: check the case as it is now and, if still needed, try again."),
    )


def stale_text(application, action: str) -> str:
    """The role takes this step, but not from the state the case has now."""
    return "{} {}".format(
        last_change_text(application),
        _("“%(action)s” is not possible any more; nothing was saved. Open the case to see it.")
        % {"action": wf.TRANSITION_LABELS.get(action, action)},
    )


def _batch_entry(batch):
    """The audit entry of the step that moved the batch on: export, payment or cancellation.

    Batches store no actor for these steps; every one of them writes an entry on each of the
    batch's cases naming the batch (its reference in the comment, or the payout's voucher).
    """
    from django.db.models import Q

    from relief.models import AuditEntry

    actions = {"exported": ["batch_export"], "paid": ["disburse"], "cancelled": ["batch_cancel"]}
    return (
        AuditEntry.objects.filter(
            application__batch_items__batch=batch, action__in=actions.get(batch.state, [])
        )
        .filter(
            Q(comment__startswith=batch.reference) | Q(disbursement__voucher_no=batch.reference)
        )
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )


def batch_state_text(batch) -> str:
    """A batch step refused because the batch moved on: who moved it, when, what to do."""
    entry = _batch_entry(batch)
    done = {
        "paid": _("marked paid"),
        "cancelled": _("cancelled"),
        "exported": _("exported to the bank"),
    }
    todo = {
        "paid": _("Nothing was changed: its payouts are recorded on each case."),
        "cancelled": _("Nothing was changed: put the cases still to be paid into a new batch."),
        "exported": _("Nothing was changed: open the batch to see it as it is now."),
        "draft": _("Nothing was changed: export the bank file first, then mark the batch paid."),
    }
    if entry is None or batch.state not in done:
        head = _("This batch is “%(state)s”: that is not possible now.") % {
            "state": batch.get_state_display()
        }
    else:
        head = _("This batch was %(what)s by %(who)s at %(when)s.") % {
            "what": done[batch.state],
            "who": entry.actor.get_full_name() or entry.actor.get_username(),
            "when": when_text(entry.at),
        }
    return f"{head} {todo.get(batch.state, '')}".strip()


def as_conflict(exc: BaseException) -> Conflict | None:
    """The Conflict an exception stands for (a Conflict, a lock timeout), else None."""
    if isinstance(exc, Conflict):
        return exc
    if is_lock_timeout(exc):
        return lock_timeout_conflict()
    if is_sqlite_busy(exc):
        return sqlite_busy_conflict()
    return None


@contextmanager
def handle_conflicts(form):
    """Around a service call in a form view: a conflict becomes a message on top of the form.

    Usage: `with handle_conflicts(form) as outcome: result = service(...)`; afterwards
    `outcome.conflict` is the Conflict (the form shows it) or None (the call went through).
    """
    outcome = _Outcome()
    try:
        yield outcome
    except (Conflict, OperationalError) as exc:
        conflict = as_conflict(exc)
        if conflict is None:
            raise
        outcome.conflict = conflict
        form.add_error(None, str(conflict))


class _Outcome:
    conflict: Conflict | None = None

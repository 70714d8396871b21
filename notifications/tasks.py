"""Sending deliveries in the background (django-tasks; the worker is `manage.py db_worker`).

One task run is one attempt. The row is claimed by a conditional update (its attempt count,
and for a retry only once it is due), not locked across the network call: on SQLite a write
transaction held while a robot answers would hold off every other write. Claiming moves the
delivery's next attempt at least NOTIFY_RETRY_SECONDS ahead, longer than a robot or mail
server is waited for, so a second task for the same delivery (a re-queued one) finds it taken
while the first sends: a delivery is never sent twice. A failed attempt is queued again after
a growing delay (NOTIFY_RETRY_SECONDS, doubled each time) until NOTIFY_MAX_ATTEMPTS tries have
failed.

A delivery whose queueing failed (the task store down at the commit) or whose task was lost
stays pending past its due time; requeue_stale() queues it again (`manage.py
requeue_deliveries` from cron, the daily digest, and the worker after each delivery it sends).
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task

from notifications import robots
from notifications.models import Channel, Delivery, DeliveryStatus

log = logging.getLogger(__name__)

# How far apart the clocks of the hosts that queue and run tasks may be.
CLOCK_SKEW = dt.timedelta(seconds=5)


@task()
def send_delivery(delivery_id: int) -> str:
    return attempt(delivery_id)


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=settings.NOTIFY_RETRY_SECONDS * 2 ** max(attempts - 1, 0))


def _send(delivery: Delivery) -> None:
    if delivery.channel == Channel.ROBOT:
        robot = delivery.robot
        if robot is None or not robot.is_active:
            raise robots.RobotError("robot removed or switched off")
        robots.send(robot, delivery.subject, delivery.body)
    else:
        recipient = delivery.recipient
        if recipient is None or not recipient.email:
            raise ValueError("recipient has no e-mail address")
        send_mail(delivery.subject, delivery.body, None, [recipient.email])


def attempt(delivery_id: int) -> str:
    delivery = Delivery.objects.select_related("robot", "recipient").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return delivery.status if delivery else "missing"
    now = timezone.now()
    claimed = Delivery.objects.filter(
        # A first try is due at once; a later one only when its retry is (the claim before it
        # set next_attempt_at ahead: the lease of the try in progress), give or take the
        # hosts' clocks.
        Q(attempts=0) | Q(next_attempt_at__lte=now + CLOCK_SKEW),
        pk=delivery.pk,
        status=DeliveryStatus.PENDING,
        attempts=delivery.attempts,
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + backoff(delivery.attempts + 1))
    if not claimed:
        return "taken"  # another worker is on it, or its next try is not due yet
    attempts = delivery.attempts + 1
    try:
        _send(delivery)
    except Exception as exc:
        error = (str(exc) or exc.__class__.__name__)[:500]
        log.warning(
            "notifications: delivery %s attempt %s failed: %s", delivery.pk, attempts, error
        )
        if attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.FAILED, last_error=error
            )
            return DeliveryStatus.FAILED
        run_after = now + backoff(attempts)
        Delivery.objects.filter(pk=delivery.pk).update(last_error=error, next_attempt_at=run_after)
        if send_delivery.get_backend().supports_defer:
            send_delivery.using(run_after=run_after).enqueue(delivery.pk)
        return DeliveryStatus.PENDING
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    try:
        requeue_stale()
    except Exception:
        log.exception("notifications: could not re-queue stale deliveries")
    return DeliveryStatus.SENT


def _queued_ids() -> set[int]:
    """The deliveries with a send_delivery task waiting in the database backend's queue."""
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover (the backend is a dependency)
        return set()
    if not isinstance(send_delivery.get_backend(), DatabaseBackend):
        return set()
    waiting = DBTaskResult.objects.filter(
        task_path=send_delivery.module_path, status=TaskResultStatus.READY
    ).values_list("args_kwargs", flat=True)
    return {a["args"][0] for a in waiting if a.get("args")}


def requeue_stale(*, now: dt.datetime | None = None) -> int:
    """Queue again the deliveries still waiting NOTIFY_REQUEUE_SECONDS after they were due.

    Such a delivery's task never reached the queue (the enqueue after the commit failed) or
    was lost. One that has a task waiting in the database backend is left alone; should two
    tasks meet anyway, the claim in attempt() lets only one send. Returns how many were queued.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.NOTIFY_REQUEUE_SECONDS)
    stale = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )
    if not stale:
        return 0
    queued = _queued_ids()
    count = 0
    for pk in stale:
        if pk in queued:
            continue
        try:
            send_delivery.enqueue(pk)
        except Exception:
            log.exception("notifications: could not re-queue delivery %s", pk)
            continue
        count += 1
    if count:
        log.info("notifications: re-queued %s stale deliveries", count)
    return count

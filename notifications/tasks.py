"""Sending deliveries in the background (django-tasks; the worker is `manage.py db_worker`).

One task run is one attempt. The row is claimed by a conditional update (its attempt count),
not locked across the network call: on SQLite a write transaction held while a robot answers
would hold off every other write. A failed attempt is queued again after a growing delay
(NOTIFY_RETRY_SECONDS, doubled each time) until NOTIFY_MAX_ATTEMPTS tries have failed.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from notifications import robots
from notifications.models import Channel, Delivery, DeliveryStatus

log = logging.getLogger(__name__)


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
        pk=delivery.pk, status=DeliveryStatus.PENDING, attempts=delivery.attempts
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + backoff(delivery.attempts + 1))
    if not claimed:
        return "taken"  # another worker is on it
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
    return DeliveryStatus.SENT

"""A delivery whose queueing failed is queued again, once, and never sent twice (issue 16,
carried over: "deliveries whose enqueue failed are never re-queued")."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications import tasks
from notifications.models import Delivery, DeliveryStatus
from notifications.tasks import attempt, requeue_stale
from relief import services
from tests.factories import file_case
from tests.notifications.conftest import robot


class _Down:
    """The task store refusing every enqueue (as when its database is unreachable)."""

    def enqueue(self, *args, **kwargs):
        raise RuntimeError("the task store is down")


def _tasks():
    return DBTaskResult.objects.filter(task_path="notifications.tasks.send_delivery")


@pytest.fixture
def stuck(people, tree, receiver, monkeypatch, settings, django_capture_on_commit_callbacks):
    """A submitted case whose robot message could not be queued at the commit."""
    settings.NOTIFY_REQUEUE_SECONDS = 600
    robot(tree.xq, receiver)
    app = file_case(people.alice)
    with monkeypatch.context() as patch:
        patch.setattr(tasks, "send_delivery", _Down())
        with django_capture_on_commit_callbacks(execute=True):
            services.application_submit(application=app, user=people.alice)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and not _tasks().exists()
    return delivery


def test_a_delivery_whose_queueing_failed_is_queued_again_once_it_is_overdue(stuck, receiver):
    # Not before NOTIFY_REQUEUE_SECONDS have passed since it was due.
    assert requeue_stale() == 0 and not _tasks().exists()
    later = timezone.now() + dt.timedelta(seconds=601)
    assert requeue_stale(now=later) == 1
    assert _tasks().count() == 1
    # Its task is waiting: another sweep queues nothing more.
    assert requeue_stale(now=later) == 0
    assert _tasks().count() == 1
    # The worker runs it: sent once; nothing is stale any more.
    assert attempt(stuck.pk) == DeliveryStatus.SENT
    assert len(receiver.requests) == 1
    assert requeue_stale(now=later) == 0


def test_a_delivery_is_never_sent_twice_even_by_two_tasks(stuck, receiver, monkeypatch):
    """Two tasks for one delivery (a re-queued one and a late original): while the first sends,
    the second finds it taken; after, it finds it sent."""
    seconds = []
    send = tasks._send

    def slow_send(delivery):
        seconds.append(attempt(delivery.pk))  # a second worker, during the network call
        send(delivery)

    monkeypatch.setattr(tasks, "_send", slow_send)
    assert attempt(stuck.pk) == DeliveryStatus.SENT
    assert seconds == ["taken"]
    assert attempt(stuck.pk) == DeliveryStatus.SENT
    assert len(receiver.requests) == 1


def test_sent_and_failed_deliveries_and_retries_not_due_are_left_alone(stuck, receiver):
    later = timezone.now() + dt.timedelta(hours=1)
    Delivery.objects.filter(pk=stuck.pk).update(status=DeliveryStatus.SENT)
    assert requeue_stale(now=later) == 0
    Delivery.objects.filter(pk=stuck.pk).update(status=DeliveryStatus.FAILED)
    assert requeue_stale(now=later) == 0
    # A failed try waits for its retry (next_attempt_at ahead): not stale.
    Delivery.objects.filter(pk=stuck.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=later
    )
    assert requeue_stale(now=later) == 0
    assert not _tasks().exists()


def test_the_command_requeues_and_the_digest_and_worker_sweep_too(
    stuck, receiver, settings, people, tree, django_capture_on_commit_callbacks
):
    Delivery.objects.filter(pk=stuck.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(hours=1)
    )
    out = io.StringIO()
    call_command("requeue_deliveries", stdout=out)
    assert "1" in out.getvalue() and _tasks().count() == 1
    # The daily digest run sweeps too (nothing new: the task is waiting).
    from notifications.digest import send_digests

    assert send_digests().requeued == 0
    # The worker sweeps after each message it sends: a second stuck message is queued again
    # when the first is sent.
    DBTaskResult.objects.all().delete()
    assert attempt(stuck.pk) == DeliveryStatus.SENT
    other = Delivery.objects.create(
        channel=stuck.channel,
        union=stuck.union,
        robot=stuck.robot,
        kind=stuck.kind,
        subject="s",
        body="b",
        next_attempt_at=timezone.now() - dt.timedelta(hours=1),
    )
    third = Delivery.objects.create(
        channel=stuck.channel,
        union=stuck.union,
        robot=stuck.robot,
        kind=stuck.kind,
        subject="t",
        body="b",
    )
    assert attempt(third.pk) == DeliveryStatus.SENT
    assert [t.args_kwargs["args"] for t in _tasks()] == [[other.pk]]

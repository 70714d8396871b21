"""The daily digest (`manage.py send_digests`): one notice per user with overdue work, one
e-mail where mail is configured, one message per union robot; nothing new the second time."""

import io

import pytest
from django.core import mail
from django.core.management import call_command

from notifications.digest import ROBOT_ITEMS, send_digests
from notifications.models import Delivery, DeliveryStatus, Kind, Notification
from relief.models import Application
from relief.queues import overdue_for
from tests.notifications.conftest import robot
from tests.relief.test_queues import TODAY, frozen, world  # noqa: F401 (fixtures)


@pytest.fixture
def mailed(settings, people):
    settings.NOTIFY_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people.carol.email = "carol@example.org"
    people.carol.save()


def test_each_user_with_overdue_work_gets_one_digest(
    frozen,  # noqa: F811
    world,  # noqa: F811
    people,
    tree,
    receiver,
    immediate_tasks,
    site_url,
    mailed,
    django_capture_on_commit_callbacks,
):
    robot(tree.xq, receiver, token="xq-robot")
    Delivery.objects.all().delete()
    mail.outbox.clear()
    carol = overdue_for(people.carol, today=TODAY)
    assert len(carol) >= 3  # the world has overdue town work across the National Day holiday
    without = [u for u in (people.bob, people.dave) if not overdue_for(u, today=TODAY)]

    with django_capture_on_commit_callbacks(execute=True):
        run = send_digests(today=TODAY)

    note = Notification.objects.get(recipient=people.carol, kind=Kind.DIGEST)
    assert note.title == f"{TODAY.isoformat()} 逾期待办：{len(carol)} 项"
    assert note.link == "/admin/" and note.application is None
    for user in without:
        assert not Notification.objects.filter(recipient=user, kind=Kind.DIGEST).exists()
    [message] = mail.outbox
    assert message.to == ["carol@example.org"] and message.subject == note.title
    assert f"{site_url}/admin/" in message.body
    [request] = receiver.requests
    text = request["json"]["markdown"]["content"]
    assert tree.xq.name in text
    for item in carol[:ROBOT_ITEMS]:
        assert item.reference in text and item.reference in message.body
    # References, steps and dates only: never a name, an ID number or an amount.
    cases = Application.objects.filter(reference__in=[i.reference for i in carol])
    for case in cases.select_related("worker"):
        for secret in (case.worker.name, case.worker.id_number, f"{case.requested_amount}"):
            assert secret not in text and secret not in message.body
    assert Delivery.objects.filter(status=DeliveryStatus.SENT, kind=Kind.DIGEST).count() == 2
    assert run.notified == run.users >= 2 and run.robots == 1 and run.emails == 1

    # A retried cron job the same day sends nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        again = send_digests(today=TODAY)
    assert (again.notified, again.robots, again.emails) == (0, 0, 0)
    assert again.skipped == run.users
    assert len(receiver.requests) == 1 and len(mail.outbox) == 1


def test_the_command_reports_what_it_sent(frozen, world, people):  # noqa: F811
    out = io.StringIO()
    call_command("send_digests", "--date", TODAY.isoformat(), stdout=out)
    assert "有逾期待办的用户" in out.getvalue()
    assert Notification.objects.filter(kind=Kind.DIGEST, recipient=people.carol).exists()


def test_the_digest_opens_from_the_notification_list(
    client,
    frozen,  # noqa: F811
    world,  # noqa: F811
    people,
):
    send_digests(today=TODAY)
    note = Notification.objects.get(recipient=people.carol, kind=Kind.DIGEST)
    client.force_login(people.carol)
    assert note.title in client.get("/notifications/").content.decode()
    response = client.get(f"/notifications/{note.pk}/")
    assert response.status_code == 302 and response["Location"] == "/admin/"

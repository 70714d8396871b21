"""The robots' wire format, DingTalk's signature, retries with backoff, the address rules (no
requests to anywhere but the vendors), and e-mail."""

import base64
import datetime as dt
import hashlib
import hmac
from urllib.parse import unquote_plus

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications import robots as robot_api
from notifications.models import Delivery, DeliveryStatus, GroupRobot
from notifications.tasks import attempt
from relief import services
from tests.factories import file_case
from tests.notifications.conftest import robot


def due(delivery):
    """As if the delivery's next try had come (the worker runs a retry when it is due)."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def submit(people, capture):
    app = file_case(people.alice)
    with capture(execute=True):
        services.application_submit(application=app, user=people.alice)
    return app


def test_wecom_robot_receives_a_markdown_message(
    people, tree, receiver, immediate_tasks, site_url, django_capture_on_commit_callbacks
):
    robot(tree.xq, receiver, token="wecom-key-1")
    app = submit(people, django_capture_on_commit_callbacks)
    [request] = receiver.requests
    assert request["path"] == "/cgi-bin/webhook/send"
    assert request["query"] == {"key": ["wecom-key-1"]}
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert request["json"] == {
        "msgtype": "markdown",
        "markdown": {
            "content": f"**救助申请 {app.reference}：已提交，等待镇总工会审核**\n\n"
            f"所属工会：{tree.xq_s01.name}\n\n"
            f"[打开案件]({site_url}/admin/relief/application/{app.pk}/change/)"
        },
    }
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_dingtalk_robot_gets_a_signed_request(
    people, tree, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    secret = "SEC0123456789abcdef0123456789abcdef"
    robot(tree.xq, receiver, kind="dingtalk", secret=secret, token="ding-token")
    before = int(timezone.now().timestamp() * 1000)
    app = submit(people, django_capture_on_commit_callbacks)
    [request] = receiver.requests
    assert request["path"] == "/robot/send"
    query = request["query"]
    assert query["access_token"] == ["ding-token"]
    timestamp = int(query["timestamp"][0])
    assert before - 1000 <= timestamp <= int(timezone.now().timestamp() * 1000) + 1000
    # DingTalk's check, recomputed: base64(HMAC-SHA256(secret, "timestamp\nsecret")).
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]  # parse_qs decoded the url-encoding once
    body = request["json"]
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == f"救助申请 {app.reference}：已提交，等待镇总工会审核"
    assert app.reference in body["markdown"]["text"]


def test_the_signature_is_url_encoded():
    url = robot_api.signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "SECx", 1)
    sign = url.split("&sign=")[1]
    assert "+" not in sign and "/" not in sign and "=" not in sign  # all escaped
    assert unquote_plus(sign) == robot_api.dingtalk_sign("SECx", 1)


def test_a_failing_robot_is_retried_with_backoff_then_succeeds(
    people, tree, receiver, settings, django_capture_on_commit_callbacks
):
    """The database backend, as in production: the first try (500) queues the next one for
    later (run_after); the worker's second run sends it."""
    settings.NOTIFY_RETRY_SECONDS = 60
    robot(tree.xq, receiver)
    receiver.answers = [(500, {"errcode": -1, "errmsg": "busy"})]
    submit(people, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
    started = timezone.now()
    assert attempt(delivery.pk) == DeliveryStatus.PENDING  # the worker's first run
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error == "HTTP 500"
    assert started + dt.timedelta(seconds=59) <= delivery.next_attempt_at
    retry = DBTaskResult.objects.filter(
        task_path="notifications.tasks.send_delivery", run_after__year__lt=9999
    ).get()
    assert retry.run_after == delivery.next_attempt_at
    assert attempt(delivery.pk) == "taken"  # a stray run before the retry is due: nothing
    assert len(receiver.requests) == 1
    due(delivery)
    assert attempt(delivery.pk) == DeliveryStatus.SENT  # the worker, a minute later
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert delivery.last_error == "" and delivery.sent_at is not None
    assert len(receiver.requests) == 2
    assert attempt(delivery.pk) == DeliveryStatus.SENT  # a stray third run sends nothing
    assert len(receiver.requests) == 2


def test_an_error_code_in_the_reply_is_a_failure_and_tries_are_bounded(
    people, tree, receiver, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    robot(tree.xq, receiver)
    receiver.answers = [(200, {"errcode": 93000, "errmsg": "invalid webhook url"})] * 5
    submit(people, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()
    results = []
    for _ in range(4):
        due(delivery)
        results.append(attempt(delivery.pk))
    assert results == ["pending", "pending", "failed", "failed"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 3
    assert "93000" in delivery.last_error
    assert len(receiver.requests) == 3
    # The backoff doubles: 2 retries were queued, the second twice as far out.
    waits = [
        r.run_after
        for r in DBTaskResult.objects.filter(run_after__year__lt=9999).order_by("run_after")
    ]
    assert len(waits) == 2  # (9999 is the backend's "not deferred")
    # Tried at about the same moment here, the second waits 120 s, the first 60 s.
    assert waits[1] - waits[0] >= dt.timedelta(seconds=55)


def test_a_robot_switched_off_is_not_called(
    people, tree, receiver, immediate_tasks, django_capture_on_commit_callbacks
):
    made = robot(tree.xq, receiver)
    made.is_active = False
    made.save()
    submit(people, django_capture_on_commit_callbacks)
    assert receiver.requests == [] and not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"),  # not https
        ("wecom", "https://169.254.169.254/cgi-bin/webhook/send?key=k"),
        ("wecom", "https://127.0.0.1/cgi-bin/webhook/send?key=k"),
        ("wecom", "https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=k"),
        ("wecom", "https://evil.example@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"),
        ("wecom", "https://qyapi.weixin.qq.com@evil.example/cgi-bin/webhook/send?key=k"),
        ("wecom", "https://qyapi.weixin.qq.com:8080/cgi-bin/webhook/send?key=k"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/other?key=k"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"),  # no key
        ("wecom", "https://oapi.dingtalk.com/robot/send?access_token=t"),  # other vendor
        ("dingtalk", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"),
        ("dingtalk", "file:///etc/passwd"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t#x"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t\n"),
    ],
)
def test_only_the_vendors_robot_addresses_are_accepted(kind, url):
    with pytest.raises(ValidationError) as caught:
        robot_api.check_webhook(kind, url)
    assert "webhook_url" in caught.value.message_dict


def test_the_vendors_addresses_are_accepted():
    robot_api.check_webhook("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a-b")
    robot_api.check_webhook(
        "dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=abc", "SECabc"
    )
    with pytest.raises(ValidationError):
        robot_api.check_webhook(
            "wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a", "SECabc"
        )


def test_an_address_changed_behind_the_admin_is_refused_when_sending(people, tree, db):
    """Checked again at send time: a row written some other way cannot reach another host."""
    bad = GroupRobot.objects.create(
        union=tree.xq, kind="wecom", webhook_url="http://127.0.0.1:9/cgi-bin/webhook/send?key=k"
    )
    with pytest.raises(ValidationError):
        robot_api.send(bad, "标题", "内容")


def test_a_redirect_is_not_followed(people, tree, receiver, db):
    receiver.answers = [(302, {"errcode": 0})]
    made = robot(tree.xq, receiver)
    with pytest.raises(robot_api.RobotError):
        robot_api.send(made, "标题", "内容")


def test_e_mail_goes_to_users_with_an_address_when_mail_is_configured(
    people, settings, immediate_tasks, site_url, django_capture_on_commit_callbacks
):
    settings.NOTIFY_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    people.carol.email = "carol@example.org"
    people.carol.save()
    app = submit(people, django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == ["carol@example.org"]
    assert message.subject == f"救助申请 {app.reference}：已提交，等待镇总工会审核"
    assert f"{site_url}/admin/relief/application/{app.pk}/change/" in message.body
    worker = app.worker
    assert worker.id_number not in message.body and worker.name not in message.body
    assert "5000" not in message.body and "5,000" not in message.body
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_no_e_mail_without_mail_settings(
    people, settings, immediate_tasks, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert settings.NOTIFY_EMAIL is False  # no EMAIL_HOST in the test environment
    people.carol.email = "carol@example.org"
    people.carol.save()
    submit(people, django_capture_on_commit_callbacks)
    assert mail.outbox == [] and not Delivery.objects.exists()

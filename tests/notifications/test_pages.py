"""The notification list, the unread count in both headers, and the robots' admin (scope,
write-only secret, address rules)."""

import pytest
from django.utils import timezone

from notifications.models import GroupRobot, Notification
from tests.factories import file_case


def note(user, app, n=0, **kw):
    return Notification.objects.create(
        recipient=user,
        application=app,
        kind="submitted",
        title=f"救助申请 {app.reference}：已提交，等待镇总工会审核（{n}）",
        link=f"/admin/relief/application/{app.pk}/change/",
        **kw,
    )


@pytest.fixture
def case(people):
    return file_case(people.alice)


def test_the_list_shows_only_ones_own_paginated_newest_first(client, people, case):
    for n in range(25):
        note(people.carol, case, n)
    note(people.dave, case, 99)
    client.force_login(people.carol)
    page1 = client.get("/notifications/").content.decode()
    assert "（24）" in page1 and "（5）" in page1 and "（4）" not in page1
    assert "（99）" not in page1
    assert "第 1 / 2 页" in page1
    page2 = client.get("/notifications/?page=2").content.decode()
    assert "（4）" in page2 and "（0）" in page2 and "（24）" not in page2


def test_opening_marks_read_and_goes_to_the_case(client, people, case):
    mine = note(people.carol, case)
    client.force_login(people.carol)
    response = client.get(f"/notifications/{mine.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/relief/application/{case.pk}/change/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_another_users_notification_does_not_exist(client, people, case):
    theirs = note(people.dave, case)
    client.force_login(people.erin)  # even the district officer
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    client.post("/notifications/read-all/")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_and_all_read(client, people, case):
    a, b, c = (note(people.alice, case, n) for n in range(3))
    client.force_login(people.alice)
    response = client.post(f"/notifications/{a.pk}/read/", {"page": "1"})
    assert response.status_code == 302 and response["Location"] == "/notifications/?page=1"
    assert set(Notification.objects.filter(read_at__isnull=True)) == {b, c}
    client.post("/notifications/read-all/", {"page": "x"})
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_the_site_header_counts_unread(client, people, case):
    note(people.alice, case, 1)
    note(people.alice, case, 2)
    note(people.alice, case, 3, read_at=timezone.now())
    client.force_login(people.alice)
    html = client.get("/").content.decode()
    assert 'data-testid="unread-count"' in html
    assert ">2</span>" in html.split('data-testid="unread-count"')[1][:120]
    Notification.objects.update(read_at=timezone.now())
    assert 'data-testid="unread-count"' not in client.get("/").content.decode()


def test_the_admin_header_counts_unread(client, people, case):
    note(people.carol, case)
    client.force_login(people.carol)
    html = client.get("/admin/").content.decode()
    assert 'data-testid="admin-notices-link"' in html
    assert "通知 (1 条未读)" in html


def test_the_list_is_in_chinese(client, people, case):
    note(people.alice, case)
    client.force_login(people.alice)
    html = client.get("/notifications/").content.decode()
    for text in ("通知", "全部标为已读", "标为已读", "已提交"):
        assert text in html


# --- the robots' admin ----------------------------------------------------------------------

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"
DING = "https://oapi.dingtalk.com/robot/send?access_token=tok"


def add_body(union, **kw):
    return {"union": union.pk, "kind": "wecom", "webhook_url": WECOM, "is_active": "on", **kw}


def test_a_town_reviewer_sets_the_robot_of_a_union_of_the_town(client, people, tree):
    client.force_login(people.carol)
    response = client.post("/admin/notifications/grouprobot/add/", add_body(tree.xq_s01))
    assert response.status_code == 302
    assert GroupRobot.objects.get().union == tree.xq_s01


def test_not_for_a_union_outside_the_subtree(client, people, tree):
    client.force_login(people.carol)
    response = client.post("/admin/notifications/grouprobot/add/", add_body(tree.dl_v01))
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    assert not GroupRobot.objects.exists()
    page = client.get("/admin/notifications/grouprobot/add/").content.decode()
    assert tree.dl_v01.name not in page and tree.nh.name not in page


def test_another_towns_robot_is_not_found(client, people, tree):
    theirs = GroupRobot.objects.create(union=tree.dl, kind="wecom", webhook_url=WECOM)
    client.force_login(people.carol)
    assert client.get(f"/admin/notifications/grouprobot/{theirs.pk}/change/").status_code == 404
    assert (
        client.post(
            f"/admin/notifications/grouprobot/{theirs.pk}/delete/", {"post": "yes"}
        ).status_code
        == 404
    )
    assert GroupRobot.objects.filter(pk=theirs.pk).exists()


def test_a_wrong_address_is_refused_in_chinese(client, people, tree):
    client.force_login(people.carol)
    body = add_body(tree.xq, webhook_url="http://10.0.0.1/cgi-bin/webhook/send?key=x")
    response = client.post("/admin/notifications/grouprobot/add/", body)
    html = response.content.decode()
    assert response.status_code == 200 and not GroupRobot.objects.exists()
    assert "请粘贴群设置中显示的机器人地址" in html


def test_the_secret_is_write_only(client, people, tree):
    client.force_login(people.carol)
    secret = "SECsupersecretvalue0123456789"
    body = add_body(tree.xq, kind="dingtalk", webhook_url=DING, secret=secret)
    assert client.post("/admin/notifications/grouprobot/add/", body).status_code == 302
    made = GroupRobot.objects.get()
    assert made.secret == secret
    change = f"/admin/notifications/grouprobot/{made.pk}/change/"
    html = client.get(change).content.decode()
    assert secret not in html and "已保存密钥" in html
    listing = client.get("/admin/notifications/grouprobot/").content.decode()
    assert secret not in listing and "access_token=tok" not in listing  # the token is masked too
    # Saved again without typing it: kept.
    body.pop("secret")
    assert client.post(change, body).status_code == 302
    made.refresh_from_db()
    assert made.secret == secret
    # Removed on request.
    assert client.post(change, {**body, "clear_secret": "on"}).status_code == 302
    made.refresh_from_db()
    assert made.secret == ""


def test_caseworkers_have_no_robot_admin(client, people):
    client.force_login(people.alice)
    response = client.get("/admin/notifications/grouprobot/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

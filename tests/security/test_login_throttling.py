"""Issue 11, finding 3: repeated wrong passwords lock sign-in (django-axes), on both sign-in
pages, for one username from one address; a district officer or an administrator unlocks it
in the admin, where the attempts are listed."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.urls import reverse

PASSWORD = "pw-for-tests-1"  # tests/factories.py
LOCKED = "登录失败次数过多"


@pytest.fixture(autouse=True)
def _chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"


def sign_in(client, url, username, password, ip="192.0.2.10"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail_until_locked(client, url, username, ip="192.0.2.10"):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, url, username, "wrong-password", ip)
    return response


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_wrong_passwords_then_the_right_one_is_refused_with_a_message(client, people, url):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, url, "carol", "wrong-password").status_code == 200
    locked = sign_in(client, url, "carol", "wrong-password")
    assert locked.status_code == 429
    assert LOCKED in locked.content.decode()
    response = sign_in(client, url, "carol", PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html and "60 分钟" in html
    assert 'name="password"' in html  # the sign-in page itself, not a bare error
    assert "_auth_user_id" not in client.session


def test_the_same_user_from_another_address_and_another_user_are_not_locked(client, people):
    fail_until_locked(client, "/login/", "alice", ip="192.0.2.10")
    assert sign_in(client, "/login/", "alice", PASSWORD, ip="192.0.2.10").status_code == 429
    other_address = sign_in(client, "/login/", "alice", PASSWORD, ip="198.51.100.7")
    assert other_address.status_code == 302
    client.logout()
    other_user = sign_in(client, "/login/", "bob", PASSWORD, ip="192.0.2.10")
    assert other_user.status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(client, people):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "/login/", "alice", "wrong-password")
    assert sign_in(client, "/login/", "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "/login/", "alice", "wrong-password")
    assert sign_in(client, "/login/", "alice", PASSWORD).status_code == 302


@pytest.mark.parametrize("officer", ["erin", "root"])
def test_a_district_officer_or_an_administrator_sees_the_attempts_and_unlocks(
    client, people, officer
):
    fail_until_locked(client, "/login/", "alice")
    attempt = AccessAttempt.objects.get(username="alice")
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT
    assert AccessFailureLog.objects.filter(username="alice").count() == settings.AXES_FAILURE_LIMIT

    admin = client.__class__()
    admin.force_login(getattr(people, officer))
    listing = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "alice" in listing.content.decode()
    assert admin.get(reverse("admin:axes_accessfailurelog_changelist")).status_code == 200
    deleted = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302
    assert not AccessAttempt.objects.exists()

    assert sign_in(client, "/login/", "alice", PASSWORD).status_code == 302


@pytest.mark.parametrize("who", ["carol", "alice"])
def test_town_reviewers_and_caseworkers_cannot_see_or_unlock(client, people, who):
    fail_until_locked(client, "/login/", "bob")
    attempt = AccessAttempt.objects.get()
    other = client.__class__()
    other.force_login(getattr(people, who))
    expected = 403 if who == "carol" else 302  # caseworkers are not staff: the admin sign-in
    assert other.get(reverse("admin:axes_accessattempt_changelist")).status_code == expected
    response = other.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == expected
    assert AccessAttempt.objects.exists()


def test_the_attempts_are_searched_by_post_like_every_admin_list(client, people):
    fail_until_locked(client, "/login/", "alice")
    officer = client.__class__()
    officer.force_login(people.erin)
    url = reverse("admin:axes_accessattempt_changelist")
    response = officer.post(url, {"_search": "1", "q": "alice"})
    assert response.status_code == 303
    assert "alice" not in response.url  # the term stays in the session, not the address
    assert "alice" in officer.get(response.url).content.decode()

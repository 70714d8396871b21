"""Issue 11, finding 5: sessions end after 30 idle minutes and at an absolute limit; users
change their own password; every response carries the security headers, and everything a
signed-in user is sent is marked no-store."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from config.security import LAST_SEEN
from tests.factories import file_case

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def alice(client, people):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(people.alice)
    assert client.get("/").status_code == 200
    return client


def age_session(client, seconds):
    """Pretend the session's last request was `seconds` earlier than recorded."""
    session = client.session
    session[LAST_SEEN] -= seconds
    session.save()


def expire_date(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_the_idle_timeout_is_30_minutes_by_default():
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60


def test_a_session_idle_for_more_than_30_minutes_is_signed_out(alice):
    age_session(alice, 31 * 60)
    response = alice.get(reverse("relief:case_list"))
    assert response.status_code == 302
    assert response.url.startswith("/login/")
    page = alice.get(response.url).content.decode()
    assert "您已 30 分钟未操作，已自动退出登录。" in page
    assert "_auth_user_id" not in alice.session


def test_a_session_used_within_30_minutes_stays(alice):
    age_session(alice, 29 * 60)
    assert alice.get(reverse("relief:case_list")).status_code == 200
    age_session(alice, 29 * 60)  # counted from the last request, not from sign-in
    assert alice.get(reverse("relief:case_list")).status_code == 200


def test_the_idle_timeout_follows_its_setting(alice, settings):
    settings.SESSION_IDLE_TIMEOUT = 300
    age_session(alice, 301)
    assert alice.get(reverse("relief:case_list")).status_code == 302


def test_activity_does_not_push_back_the_absolute_limit(alice):
    first = expire_date(alice)
    assert abs((first - Session.objects.get().expire_date).total_seconds()) < 1
    age_session(alice, 10 * 60)  # old enough for the next request to save the session
    assert alice.get(reverse("relief:case_list")).status_code == 200
    assert expire_date(alice) == first
    session = alice.session
    assert session[LAST_SEEN] > 0
    remaining = session.get_expiry_age()
    assert settings.SESSION_COOKIE_AGE - 60 < remaining <= settings.SESSION_COOKIE_AGE


def test_past_the_absolute_limit_the_session_is_gone(alice):
    from django.utils import timezone

    session = alice.session
    session.set_expiry(timezone.now() - timezone.timedelta(seconds=1))
    session.save()
    response = alice.get(reverse("relief:case_list"))
    assert response.status_code == 302 and response.url.startswith("/login/")


# --- changing one's own password ----------------------------------------------------------


def test_the_header_links_to_the_password_page(alice):
    assert reverse("password_change") in alice.get("/").content.decode()


def test_a_user_changes_their_own_password(alice, people):
    page = alice.get(reverse("password_change"))
    assert page.status_code == 200
    assert "修改密码" in page.content.decode()
    response = alice.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Qiao-xi 2026 救助",
            "new_password2": "Qiao-xi 2026 救助",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert alice.get(response.url).status_code == 200  # still signed in
    people.alice.refresh_from_db()
    assert people.alice.check_password("Qiao-xi 2026 救助")


@pytest.mark.parametrize(
    ("new", "why"),
    [
        ("12345678", "密码只包含数字"),
        ("password", "这个密码太常见了"),
        ("Ab1!", "密码太短，至少需要 8 个字符。"),
        ("alice-xq", "密码跟 用户名 太相似了"),
    ],
)
def test_weak_new_passwords_are_refused(alice, people, new, why):
    response = alice.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    assert why in response.content.decode()
    people.alice.refresh_from_db()
    assert people.alice.check_password(PASSWORD)


def test_the_old_password_is_required(alice, people):
    response = alice.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "Qx!2026-救助", "new_password2": "Qx!2026-救助"},
    )
    assert response.status_code == 200
    people.alice.refresh_from_db()
    assert people.alice.check_password(PASSWORD)


def test_anonymous_users_are_sent_to_sign_in():
    response = Client().get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith("/login/")


# --- headers ----------------------------------------------------------------------------


def csp_of(response) -> dict[str, str]:
    parts = [p.strip() for p in response["Content-Security-Policy"].split(";") if p.strip()]
    return {p.split()[0]: p for p in parts}


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_pages_carry_a_strict_csp_and_the_other_headers(client, db, path):
    response = client.get(path)
    csp = csp_of(response)
    assert csp["script-src"] == "script-src 'self'"
    assert csp["style-src"] == "style-src 'self'"
    assert csp["object-src"] == "object-src 'none'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_everything_a_signed_in_user_gets_is_no_store(alice, people):
    app = file_case(people.alice)
    for path in ("/", reverse("relief:case_list"), reverse("relief:case_detail", args=[app.pk])):
        response = alice.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path
        assert "private" in response["Cache-Control"], path
    admin = Client()
    admin.force_login(people.carol)
    response = admin.get(reverse("admin:relief_application_change", args=[app.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_hsts_is_sent_over_https_with_the_production_settings(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"

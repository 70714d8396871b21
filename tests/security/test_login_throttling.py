"""Issue 11, finding 3: repeated wrong passwords lock sign-in (django-axes), on both sign-in
pages: a username after LOGIN_FAILURE_LIMIT failures from any addresses, an address after
LOGIN_ADDRESS_FAILURE_LIMIT failures across usernames (config.throttling); a district officer
or an administrator unlocks it in the admin, where the attempts are listed."""

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


def test_a_user_is_locked_after_failures_from_any_addresses(client, people):
    """Guesses spread over many machines (a botnet) add up for the account."""
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit - 1):
        assert sign_in(client, "/login/", "alice", "wrong", ip=f"198.51.100.{i}").status_code == 200
    locked = sign_in(client, "/login/", "alice", "wrong", ip="203.0.113.9")
    assert locked.status_code == 429
    for ip in ("192.0.2.10", "203.0.113.77"):
        response = sign_in(client, "/login/", "alice", PASSWORD, ip=ip)
        assert response.status_code == 429
        assert "该用户登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The address that failed is not locked for the others: one user's typos lock one user.
    assert sign_in(client, "/login/", "bob", PASSWORD, ip="203.0.113.9").status_code == 302


def test_an_address_is_locked_after_failures_across_usernames(client, people):
    """One machine trying a few passwords on every account (password spraying)."""
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT == 30
    limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
    per_user = settings.AXES_FAILURE_LIMIT - 1  # never enough to lock any one of them
    names = [f"guess{i}" for i in range(limit // per_user + 1)]
    tried = 0
    for name in names:
        for _ in range(per_user):
            if tried == limit - 1:
                break
            assert sign_in(client, "/login/", name, "wrong").status_code == 200
            tried += 1
    last = sign_in(client, "/admin/login/", "someone-else", "wrong")
    assert last.status_code == 429
    response = sign_in(client, "/login/", "bob", PASSWORD)
    assert response.status_code == 429
    assert "从此网络地址登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The users themselves are not locked: from another address they sign in.
    assert sign_in(client, "/login/", "bob", PASSWORD, ip="198.51.100.7").status_code == 302


def test_one_office_behind_a_nat_is_not_locked_by_one_persons_typos(client, people):
    """Below the address limit, colleagues of a locked user sign in from the same address;
    those who mistyped and then signed in no longer count against the address."""
    for _ in range(4):
        for name in ("carol", "dave"):
            sign_in(client, "/login/", name, "typo")
        for name in ("carol", "dave"):
            assert sign_in(client, "/login/", name, PASSWORD).status_code == 302
            client.logout()
    fail_until_locked(client, "/login/", "alice")
    assert sign_in(client, "/login/", "alice", PASSWORD).status_code == 429
    assert sign_in(client, "/login/", "bob", PASSWORD).status_code == 302


def test_a_success_clears_only_this_users_failures_from_this_address(client, people):
    """Signing in does not wipe the failures of the address (a valid account would otherwise
    reset the count between rounds of guesses at the others), nor the user's from elsewhere."""
    for _ in range(3):
        sign_in(client, "/login/", "alice", "wrong", ip="203.0.113.9")  # someone else, elsewhere
    sign_in(client, "/login/", "bob", "wrong")
    sign_in(client, "/login/", "alice", "typo")
    assert sign_in(client, "/login/", "alice", PASSWORD).status_code == 302
    client.logout()
    assert sorted(AccessAttempt.objects.values_list("username", "ip_address")) == [
        ("alice", "203.0.113.9"),
        ("bob", "192.0.2.10"),
    ]
    sign_in(client, "/login/", "alice", "wrong", ip="203.0.113.9")
    assert sign_in(client, "/login/", "alice", "wrong").status_code == 429


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


def test_the_officer_sees_which_lock_holds_and_unlocks_a_user_locked_from_many_addresses(
    client, people
):
    for i in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "/login/", "alice", "wrong", ip=f"198.51.100.{i % 2}")
    assert sign_in(client, "/login/", "alice", PASSWORD).status_code == 429
    officer = client.__class__()
    officer.force_login(people.erin)
    listing = officer.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    rows = list(AccessAttempt.objects.values_list("pk", flat=True))
    assert len(rows) >= 2
    # Every row of the user says so: the user's count, not each row's (axes's own column).
    assert listing.count("用户已锁定") == len(rows)
    response = officer.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": rows, "post": "yes"},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "/login/", "alice", PASSWORD).status_code == 302

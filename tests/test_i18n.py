"""The UI is Chinese by default and switches to English through /i18n/setlang/."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from unions.models import Role


@pytest.fixture(autouse=True)
def _restore_language():
    # A request in English leaves English active in this thread; later tests expect the default.
    language = translation.get_language()
    yield
    translation.activate(language)


def page(client, url: str, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def switch_language(client, language: str, next_url: str = "/login/"):
    response = client.post("/i18n/setlang/", {"language": language, "next": next_url})
    assert response.status_code == 302
    assert response.url == next_url
    return response


def test_the_login_page_is_chinese_by_default(client):
    html = page(client, "/login/")
    assert '<html lang="zh-CN">' in html
    assert "<h1>登录</h1>" in html
    assert "用户名" in html
    assert "密码" in html
    assert "临时救助管理系统" in html
    assert "Sign in" not in html
    assert "Username" not in html


def test_a_chinese_browser_gets_chinese(client):
    html = page(client, "/login/", accept_language="zh-CN,zh;q=0.9")
    assert "<h1>登录</h1>" in html


def test_an_english_browser_still_gets_chinese_until_the_user_switches(client):
    html = page(client, "/login/", accept_language="en-US,en;q=0.9")
    assert "<h1>登录</h1>" in html


def test_the_admin_login_page_is_chinese_by_default(client):
    html = page(client, "/admin/login/")
    assert "用户名" in html
    assert 'value="登录"' in html
    assert "临时救助管理系统" in html  # the admin site header, from our catalog
    assert "Username" not in html


def test_the_login_page_switches_to_english(client):
    switch_language(client, "en")
    html = page(client, "/login/")
    assert '<html lang="en">' in html
    assert "<h1>Sign in</h1>" in html
    assert "Username" in html
    assert "Temporary Relief Management" in html
    assert "登录" not in html


def test_the_admin_login_page_switches_to_english(client):
    switch_language(client, "en", next_url="/admin/login/")
    html = page(client, "/admin/login/")
    assert "Username" in html
    assert 'value="Log in"' in html
    assert "Temporary Relief Management" in html
    assert "用户名" not in html


def test_it_switches_back_to_chinese(client):
    switch_language(client, "en")
    switch_language(client, "zh-hans")
    assert "<h1>登录</h1>" in page(client, "/login/")


def test_the_language_menu_offers_both_languages(client):
    html = page(client, "/login/")
    assert '<option value="zh-hans" selected>简体中文</option>' in html
    assert '<option value="en">English</option>' in html


def test_the_home_page_shows_the_caseworker_their_role_and_union(client, people):
    alice = people.alice
    client.force_login(alice)
    html = page(client, "/")
    assert alice.full_name in html
    assert f"欢迎，{alice.full_name}" in html
    assert '<span class="role">基层经办人</span>' in html
    assert '<span class="union">樵园社区工会</span>' in html
    assert "您是樵园社区工会的基层经办人。" in html
    assert reverse("admin:index") not in html  # caseworkers do not use the admin


@pytest.mark.parametrize(
    ("name", "role_label", "union_name"),
    [("carol", "镇审核人", "西樵镇总工会"), ("erin", "区审批人", "南海区总工会")],
)
def test_the_home_page_offers_the_admin_to_reviewers(client, people, name, role_label, union_name):
    user = getattr(people, name)
    assert user.role in {Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER}
    client.force_login(user)
    html = page(client, "/")
    assert f'<span class="role">{role_label}</span>' in html
    assert f"您是{union_name}的{role_label}。" in html
    assert "进入管理后台" in html


def test_the_home_page_switches_to_english(client, people):
    client.force_login(people.alice)
    switch_language(client, "en", next_url="/")
    html = page(client, "/")
    assert '<span class="role">Caseworker</span>' in html
    assert "You work as Caseworker at 樵园社区工会." in html


def test_the_home_page_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/login/?next=/"


def test_the_admin_greets_people_by_their_name_not_their_username(client, people):
    officer = people.erin
    officer.full_name = "陈志强"
    officer.save(update_fields=["full_name"])
    client.force_login(officer)
    html = client.get("/admin/").content.decode()
    greeting = re.search(r"欢迎，\s*<strong>([^<]*)</strong>", html)
    assert greeting and greeting.group(1) == "陈志强"

"""Issue 11, finding 4: DEBUG is off, and the 400, 403, 404 and 500 pages are the project's
own, in Chinese, without personal data (the request's ID number never shows)."""

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.test import Client

from tests.error_urls import SECRET

pytestmark = pytest.mark.urls("tests.error_urls")


@pytest.fixture
def client_no_raise(db):
    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


@pytest.mark.parametrize(
    ("url", "status", "title"),
    [
        ("/test-errors/500/", 500, "服务器错误"),
        ("/test-errors/400/", 400, "请求无效"),
        ("/test-errors/403/", 403, "您的角色无权执行此操作。"),
        ("/no-such-page/", 404, "未找到"),
    ],
)
def test_each_error_page_is_the_projects_own_in_chinese(client_no_raise, url, status, title):
    assert settings.DEBUG is False
    response = client_no_raise.get(url)
    assert response.status_code == status
    html = response.content.decode()
    assert title in html
    assert "临时救助管理系统" in html  # the site's own layout
    assert SECRET not in html
    assert "Traceback" not in html and "Django" not in html


def test_a_signed_in_users_404_keeps_the_layout_and_names_no_one(client_no_raise, people):
    client_no_raise.force_login(people.alice)
    response = client_no_raise.get("/cases/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "该页面不存在" in html


@pytest.mark.parametrize("name", ["400.html", "500.html", "403_csrf.html"])
def test_error_templates_render_without_a_request_or_context(name):
    # Django renders 400 and 500 (and the CSRF failure) without any request context: no
    # user, no database, nothing of the failed request.
    html = get_template(name).render()
    assert "<html" in html


def test_a_csrf_failure_is_explained_in_chinese(people):
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.post("/login/", {"username": "alice", "password": "x"})
    assert response.status_code == 403
    assert "表单已失效" in response.content.decode()

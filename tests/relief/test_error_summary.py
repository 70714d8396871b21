"""Issue 13, item 13: the error summary on top of a refused form links to each field in error
(the intake, the correction form and the home-visit form). The browser side (a link focuses
its input) is in tests/browser/test_phone_forms.py."""

import re

import pytest
from django.urls import reverse

from relief.error_links import error_links
from relief.forms import ApplicationForm
from tests.factories import case_in_state, make_id_number
from tests.relief.test_views import _edit_data, intake_post, management, member


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def summary_links(html: str) -> dict[str, str]:
    """{target id: link text} of the summary's links."""
    block = re.search(r'<div class="notice error-summary".*?</div>', html, re.S)
    assert block, "no error summary"
    return {
        target: re.sub(r"<[^>]+>", "", text)
        for target, text in re.findall(r'<a href="#([^"]+)"[^>]*>(.*?)</a>', block.group(0), re.S)
    }


def test_the_intake_summary_links_to_every_field_in_error(client, people):
    client.force_login(people.alice)
    data = intake_post(
        make_id_number(701),
        narrative="",
        requested_amount="12000",
        categories=[],
        **management(total=2),
        **member(1, "儿子", "陈子轩", id_number="440605201001011234"),
    )
    response = client.post(reverse("relief:case_new"), data)
    assert response.status_code == 400
    html = response.content.decode()
    links = summary_links(html)
    assert set(links) == {
        "id_categories_0",
        "id_narrative",
        "id_requested_amount",
        "id_household-1-id_number",
    }
    assert links["id_narrative"].startswith("困难情况")
    assert "这个字段是必填项" in links["id_narrative"]
    assert links["id_household-1-id_number"].startswith("家庭成员 2 · ")
    assert "校验位" in links["id_household-1-id_number"]
    # Every target is an element of the page.
    for target in links:
        assert f'id="{target}"' in html, target
    assert "请更正下面标出的 4 处错误" in html


def test_the_correction_form_summary_links_too(client, people):
    app = case_in_state(
        "returned", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    client.force_login(people.alice)
    data = _edit_data(app, household_monthly_income="abc", action="save")
    response = client.post(reverse("relief:case_edit", args=[app.pk]), data)
    assert response.status_code == 400
    assert list(summary_links(response.content.decode())) == ["id_household_monthly_income"]


def test_the_visit_form_summary_links_too(client, people):
    app = case_in_state(
        "submitted", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    client.force_login(people.carol)
    url = reverse("relief:visit_new", args=[app.pk])
    form = client.get(url).context["form"]
    response = client.post(url, {"version": form["version"].value(), "visitors": "梁慧敏"})
    assert response.status_code == 400
    assert set(summary_links(response.content.decode())) == {
        "id_visit_date",
        "id_findings",
        "id_verified_household_income",
        "id_verified_monthly_expenses",
    }


def test_a_message_about_the_whole_form_is_listed_without_a_link(people):
    form = ApplicationForm({"narrative": "x"}, policy=None)
    form.is_valid()
    form.add_error(None, "此案件已由他人修改。")
    links = error_links(form)
    assert links[0].target == "" and links[0].message == "此案件已由他人修改。"
    assert {link.target for link in links[1:]} >= {"id_categories_0", "id_requested_amount"}

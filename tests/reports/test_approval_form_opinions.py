"""The approval form prints each tier's opinion only as recorded (issue 13.6)."""

import pytest
from django.urls import reverse

from relief import services
from reports import documents
from tests.factories import file_case, walk


def _boxes(app) -> dict:
    return dict(documents.approval_form(app)["tiers"])


def _walk(people, app, state):
    return walk(app, state, caseworker=people.alice, reviewer=people.carol, officer=people.erin)


def test_nothing_is_printed_for_a_tier_that_wrote_nothing(people, well_funded):
    app = _walk(people, file_case(people.alice), "approved")
    boxes = _boxes(app)
    grassroots = boxes["基层工会意见"]
    assert grassroots["reached"] and grassroots["step"] == "已申报"
    assert grassroots["opinion"] == ""  # blank lines on the form, not "情况属实，同意申报"
    assert boxes["镇总工会意见"]["opinion"] == "研讨同意"  # the recommendation's own comment
    assert boxes["区总工会意见"]["opinion"] == ""  # approved without a comment
    assert boxes["区总工会意见"]["step"] == "批准救助"


def test_the_caseworkers_opinion_is_printed_as_written(people):
    app = file_case(people.alice, grassroots_opinion="  情况核实无误，建议给予救助。 ")
    assert _boxes(app)["基层工会意见"] == {
        "reached": False,
        "opinion": "情况核实无误，建议给予救助。",
    }
    app = services.application_submit(application=app, user=people.alice)
    assert _boxes(app)["基层工会意见"]["opinion"] == "情况核实无误，建议给予救助。"


def test_a_rejection_prints_the_reason_given(people):
    app = _walk(people, file_case(people.alice), "submitted")
    app = services.application_reject(application=app, user=people.carol, reason="已获保险理赔。")
    boxes = _boxes(app)
    assert boxes["镇总工会意见"]["step"] == "不予救助"
    assert boxes["镇总工会意见"]["opinion"] == "已获保险理赔。"
    assert boxes["镇总工会意见"]["amount"] is None
    assert not boxes["区总工会意见"]["reached"]


def _intake(client, id_number, **changes):
    from tests.relief.test_views import intake_post

    return client.post(reverse("relief:case_new"), intake_post(id_number, **changes))


def test_the_caseworker_enters_the_opinion_on_the_intake_and_correction_forms(client, people):
    from relief.models import Application
    from tests.factories import make_id_number

    client.force_login(people.alice)
    response = _intake(client, make_id_number(950), grassroots_opinion="家庭困难属实。")
    assert response.status_code == 302
    app = Application.objects.latest("pk")
    assert app.grassroots_opinion == "家庭困难属实。"
    # Returned, corrected: the new opinion is kept and audited like any other fact.
    app = services.application_return(application=app, user=people.carol, comment="补充材料")
    edit = reverse("relief:case_edit", args=[app.pk])
    page = client.get(edit).content.decode()
    assert "家庭困难属实。" in page and 'name="grassroots_opinion"' in page
    from tests.relief.test_views import intake_post

    data = intake_post("", grassroots_opinion="已补充诊断证明，困难属实，同意申报。")
    data |= {"action": "save", "version": app.version}
    data.pop("id_number")
    data.pop("step")
    response = client.post(edit, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    app.refresh_from_db()
    assert app.grassroots_opinion == "已补充诊断证明，困难属实，同意申报。"
    entry = app.audit_entries.filter(action="update").latest("at")
    assert entry.changes["grassroots_opinion"] == ["家庭困难属实。", app.grassroots_opinion]


@pytest.mark.parametrize("state", ["draft", "closed"])
def test_the_form_renders_with_or_without_opinions(client, people, well_funded, state):
    app = _walk(people, file_case(people.alice), state)
    client.force_login(people.alice)
    response = client.get(reverse("reports:approval_form", args=[app.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")

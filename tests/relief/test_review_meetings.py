"""Review meetings (研讨会): every decision applied through the services, or none at all."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from relief import services
from relief.errors import NotAllowed
from relief.models import Application, AuditEntry, ReviewDecision, ReviewMeeting
from relief.services.meetings import DecisionInput, MeetingErrors, review_meeting_record
from tests.factories import case_in_state

ADD = reverse("admin:relief_reviewmeeting_add")
LIST = reverse("admin:relief_reviewmeeting_changelist")


@pytest.fixture
def agenda(people):
    def make(state):
        return case_in_state(state, caseworker=people.alice, reviewer=people.carol, officer=None)

    return {
        "verified": make("verified"),
        "submitted": make("submitted"),
        "other": make("submitted"),
    }


def record(people, decisions):
    return review_meeting_record(
        user=people.carol,
        meeting_date=dt.date(2024, 3, 28),
        attendees="梁慧敏、何建华、陈国平",
        minutes="第一季度研讨会。",
        decisions=decisions,
    )


def test_a_meeting_applies_every_decision_through_the_services(people, agenda):
    meeting = record(
        people,
        [
            DecisionInput(agenda["verified"], "recommend", Decimal("4000"), "情况属实，建议4000元"),
            DecisionInput(agenda["submitted"], "return", None, "缺诊断书"),
            DecisionInput(agenda["other"], "reject", None, "不符合条件"),
        ],
    )
    states = {k: Application.objects.get(pk=a.pk).state for k, a in agenda.items()}
    assert states == {"verified": "recommended", "submitted": "returned", "other": "rejected"}
    assert Application.objects.get(pk=agenda["verified"].pk).recommended_amount == Decimal("4000")
    assert meeting.decisions.count() == 3
    sources = set(
        AuditEntry.objects.filter(
            action__in=["recommend", "return_for_info", "reject"]
        ).values_list("source", flat=True)
    )
    assert sources == {f"meeting:{meeting.pk}"}


def test_one_decision_that_cannot_be_applied_means_none_are(people, agenda):
    before = {a.pk: (a.state, a.version) for a in agenda.values()}
    audit_before = AuditEntry.objects.count()
    with pytest.raises(MeetingErrors) as excinfo:
        record(
            people,
            [
                DecisionInput(agenda["verified"], "recommend", Decimal("4000"), "同意"),
                # No home visit on file: the service refuses to recommend.
                DecisionInput(agenda["submitted"], "recommend", Decimal("3000"), "同意"),
                DecisionInput(agenda["other"], "return", None, ""),  # a return needs a comment
            ],
        )
    assert set(excinfo.value.by_case) == {agenda["submitted"].pk, agenda["other"].pk}
    after = {a.pk: (a.state, a.version) for a in Application.objects.filter(pk__in=before)}
    assert after == before
    assert ReviewMeeting.objects.count() == ReviewDecision.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before


def test_only_town_reviewers_record_meetings(people, agenda):
    with pytest.raises(NotAllowed):
        review_meeting_record(
            user=people.erin,
            meeting_date=dt.date(2024, 3, 28),
            attendees="x",
            minutes="x",
            decisions=[DecisionInput(agenda["submitted"], "reject", None, "x")],
        )


def test_a_case_of_another_town_is_an_error_for_that_case(people, agenda):
    dl = case_in_state("submitted", caseworker=people.bob, reviewer=people.dave, officer=None)
    with pytest.raises(MeetingErrors) as excinfo:
        record(people, [DecisionInput(dl, "reject", None, "x")])
    assert list(excinfo.value.by_case) == [dl.pk]


def post_data(page, meeting=None, decisions=None):
    formset = page.context["formset"]
    data = {f.html_name: f.value() for f in formset.management_form}
    for form in formset:
        data[form["application"].html_name] = form["application"].value()
        data[form["version"].html_name] = form["version"].value()
    data.update(
        meeting
        or {
            "meeting_date": "2024-03-28",
            "attendees": "梁慧敏、何建华",
            "minutes": "第一季度研讨会。",
        }
    )
    by_case = {form["application"].value(): form for form in formset}
    for pk, (decision, amount, comment) in (decisions or {}).items():
        form = by_case[pk]
        data[form["decision"].html_name] = decision
        data[form["amount"].html_name] = amount
        data[form["comment"].html_name] = comment
    return data


def test_the_admin_page_lists_the_agenda_and_records_the_meeting(client, people, agenda):
    client.force_login(people.carol)
    page = client.get(ADD)
    assert page.status_code == 200
    assert {case.pk for _form, case in page.context["rows"]} == {a.pk for a in agenda.values()}
    data = post_data(
        page,
        decisions={
            agenda["verified"].pk: ("recommend", "4000", "同意"),
            agenda["submitted"].pk: ("return", "", "缺诊断书"),
        },
    )
    response = client.post(ADD, data)
    assert response.status_code == 302
    meeting = ReviewMeeting.objects.get()
    assert meeting.town == people.carol.union
    assert Application.objects.get(pk=agenda["other"].pk).state == "submitted"  # not discussed
    assert (
        client.get(reverse("admin:relief_reviewmeeting_change", args=[meeting.pk])).status_code
        == 200
    )


def test_the_admin_page_shows_errors_per_case_and_records_nothing(client, people, agenda):
    client.force_login(people.carol)
    page = client.get(ADD)
    data = post_data(
        page,
        decisions={
            agenda["verified"].pk: ("recommend", "4000", "同意"),
            agenda["submitted"].pk: ("recommend", "3000", "同意"),
        },
    )
    with translation.override("en"):
        response = client.post(ADD, data)
    assert response.status_code == 200
    # Not offered for a case without a home visit: refused on the decision, in plain words.
    errors = {case.pk: form.errors for form, case in response.context["rows"]}
    message = " ".join(errors[agenda["submitted"].pk]["decision"])
    assert "待镇审核" in message and "退回补充材料" in message and "建议" not in message
    assert not errors[agenda["verified"].pk]
    assert ReviewMeeting.objects.count() == 0
    assert Application.objects.get(pk=agenda["verified"].pk).state == "verified"


def test_district_officers_see_meetings_but_do_not_record_them(client, people, agenda):
    record(people, [DecisionInput(agenda["submitted"], "reject", None, "不符合条件")])
    client.force_login(people.erin)
    assert client.get(ADD).status_code == 403
    assert client.get(LIST).context["cl"].result_count == 1
    client.force_login(people.dave)
    assert client.get(LIST).context["cl"].result_count == 0


def visit(people, app):
    services.home_visit_record(
        application=app,
        user=people.carol,
        visit_date=dt.date.today(),
        visitors="梁慧敏",
        findings="情况属实",
        verified_household_income=Decimal("1800.00"),
        verified_monthly_expenses=Decimal("3200.00"),
    )


def offered(page) -> dict[int, list[str]]:
    return {
        case.pk: [value for value, _label in form.fields["decision"].choices if value]
        for form, case in page.context["rows"]
    }


def test_each_case_is_offered_only_what_its_state_allows(client, people, agenda):
    visit(people, agenda["other"])
    client.force_login(people.carol)
    choices = offered(client.get(ADD))
    assert choices[agenda["verified"].pk] == ["recommend", "return", "reject"]
    assert choices[agenda["submitted"].pk] == ["return", "reject"]  # no home visit yet
    assert choices[agenda["other"].pk] == ["recommend", "return", "reject"]  # visit on file


def test_a_submitted_case_with_its_visit_is_verified_and_recommended_in_one_save(
    client, people, agenda
):
    app = agenda["other"]
    visit(people, app)
    client.force_login(people.carol)
    data = post_data(client.get(ADD), decisions={app.pk: ("recommend", "4000", "情况属实")})
    assert client.post(ADD, data).status_code == 302
    app.refresh_from_db()
    assert (app.state, app.recommended_amount) == ("recommended", Decimal("4000.00"))
    meeting = ReviewMeeting.objects.get()
    trail = AuditEntry.objects.filter(application=app, source=f"meeting:{meeting.pk}")
    assert list(trail.order_by("pk").values_list("action", flat=True)) == ["verify", "recommend"]


def test_the_meeting_returns_a_verified_case_to_the_caseworker(client, people, agenda):
    app = agenda["verified"]
    client.force_login(people.carol)
    data = post_data(client.get(ADD), decisions={app.pk: ("return", "", "请补充收入证明")})
    assert client.post(ADD, data).status_code == 302
    app.refresh_from_db()
    assert app.state == "returned"
    entry = AuditEntry.objects.filter(application=app).latest("pk")
    assert (entry.action, entry.from_state, entry.to_state) == (
        "return_verified",
        "verified",
        "returned",
    )
    # The caseworker sees why on the case page and can resubmit; the town verifies again.
    client.force_login(people.alice)
    page = client.get(reverse("relief:case_detail", args=[app.pk])).content.decode()
    assert "请补充收入证明" in page
    app = services.application_resubmit(application=app, user=people.alice)
    assert app.state == "submitted"


def test_a_refusal_says_in_chinese_what_to_do(people, agenda):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
        services.application_recommend(
            application=agenda["submitted"], user=people.carol, amount=Decimal("3000"), comment="x"
        )
    message = " ".join(info.value.messages)
    assert "入户核实" in message and "已核实" in message
    with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
        services.application_return(
            application=agenda["verified"], user=people.carol, comment="缺材料"
        )
    assert "退回经办人补充" in " ".join(info.value.messages)


def test_a_meeting_refusal_for_a_case_without_visit_says_what_to_do(people, agenda):
    with translation.override("zh-hans"), pytest.raises(MeetingErrors) as info:
        record(people, [DecisionInput(agenda["submitted"], "recommend", Decimal("3000"), "同意")])
    assert "请先在案件页记录入户核实" in " ".join(info.value.by_case[agenda["submitted"].pk])


def test_a_meeting_recorded_in_english_writes_the_trail_in_chinese(people, agenda):
    """The words the system adds to the record are the site's (relief.services.audit.
    site_language), whatever the interface the reviewer uses."""
    app = agenda["other"]
    visit(people, app)
    with translation.override("en"):
        record(people, [DecisionInput(app, "recommend", Decimal("4000"), "情况属实")])
    verified = AuditEntry.objects.get(application=app, action="verify")
    assert verified.comment == "研讨会上核实。"

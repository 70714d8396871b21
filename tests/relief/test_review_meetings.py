"""Review meetings (研讨会): every decision applied through the services, or none at all."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

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
    errors = {case.pk: form.non_field_errors() for form, case in response.context["rows"]}
    assert errors[agenda["submitted"].pk]
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

"""The case list and case page in the admin: scope, filters, and buttons through the services."""

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relief import services
from relief.models import Application, AuditEntry, HomeVisit
from tests.factories import case_in_state, tiny_pdf
from tests.searching import admin_search

PDF = tiny_pdf()
LIST = reverse("admin:relief_application_changelist")


def change_url(app):
    return reverse("admin:relief_application_change", args=[app.pk])


def act_url(app, action):
    return reverse("admin:relief_application_act", args=[app.pk, action])


def case(people, state, caseworker=None, **kw):
    return case_in_state(
        state,
        caseworker=caseworker or people.alice,
        reviewer=people.dave if caseworker == people.bob else people.carol,
        officer=people.erin,
        **kw,
    )


@pytest.fixture
def cases(people):
    return {
        "xq_submitted": case(people, "submitted"),
        "xq_verified": case(people, "verified"),
        "xq_recommended": case(people, "recommended"),
        "xq_approved": case(people, "approved"),
        "dl_submitted": case(people, "submitted", caseworker=people.bob),
    }


def listed(response) -> set[str]:
    return {a.reference for a in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("user", "keys"),
    [
        ("carol", {"xq_submitted", "xq_verified", "xq_recommended", "xq_approved"}),
        ("dave", {"dl_submitted"}),
        ("erin", {"xq_submitted", "xq_verified", "xq_recommended", "xq_approved", "dl_submitted"}),
    ],
)
def test_the_case_list_holds_only_the_users_subtree(client, people, cases, user, keys):
    client.force_login(getattr(people, user))
    response = client.get(LIST)
    assert response.status_code == 200
    assert listed(response) == {cases[k].reference for k in keys}


def test_filter_choices_come_only_from_the_users_scope(client, people, cases):
    client.force_login(people.carol)
    response = client.get(LIST)
    html = response.content.decode()
    choices = {
        str(spec.title): [label for _pk, label in getattr(spec, "lookup_choices", [])]
        for spec in response.context["cl"].filter_specs
    }
    assert all(
        "大沥" not in label and "凤池" not in label
        for labels in choices.values()
        for label in labels
    )
    assert "凤池村工会" not in html
    assert "大沥镇总工会" not in html
    assert "樵园社区工会" in html  # the union filter offers the user's own unions
    client.force_login(people.erin)
    html = client.get(LIST).content.decode()
    assert "西樵镇总工会" in html and "大沥镇总工会" in html  # the district filters by town


def test_filters_and_search_narrow_the_list(client, people, cases):
    client.force_login(people.erin)
    assert listed(client.get(LIST, {"state__exact": "approved"})) == {
        cases["xq_approved"].reference
    }
    town = {"union__parent__id__exact": people.dave.union.pk}
    assert listed(client.get(LIST, town)) == {cases["dl_submitted"].reference}
    year = str(dt.date.today().year)
    assert len(listed(client.get(LIST, {"year": year}))) == 5
    assert listed(client.get(LIST, {"year": "1999"})) == set()
    worker = cases["dl_submitted"].worker
    assert listed(admin_search(client, LIST, worker.id_number)) == {cases["dl_submitted"].reference}
    assert listed(admin_search(client, LIST, cases["xq_verified"].reference)) == {
        cases["xq_verified"].reference
    }


def test_the_list_masks_id_numbers(client, people, cases):
    client.force_login(people.erin)
    html = client.get(LIST).content.decode()
    worker = cases["xq_submitted"].worker
    assert worker.masked_id_number in html
    assert worker.id_number not in html


def test_a_case_outside_the_scope_cannot_be_opened_or_acted_on(client, people, cases):
    client.force_login(people.carol)
    dl = cases["dl_submitted"]
    response = client.get(change_url(dl))
    assert response.status_code == 404  # not Django's redirect with "doesn't exist"
    assert client.get(act_url(dl, "return_for_info")).status_code == 404
    response = client.post(act_url(dl, "return_for_info"), {"version": dl.version, "comment": "x"})
    assert response.status_code == 404
    assert Application.objects.get(pk=dl.pk).state == "submitted"


def actions_on_page(client, app) -> set[str]:
    response = client.get(change_url(app))
    assert response.status_code == 200
    return {
        urlsplit(step["url"]).path.rstrip("/").rsplit("/", 1)[-1]
        for step in response.context["case_steps"]
    }


def test_buttons_follow_the_workflow_table(client, people, cases):
    client.force_login(people.carol)
    # "visit": the home-visit page (relief.views.visits), in the states the town visits.
    assert actions_on_page(client, cases["xq_submitted"]) == {
        "visit",
        "return_for_info",
        "verify",
        "reject",
        "attach",
    }
    assert actions_on_page(client, cases["xq_verified"]) == {
        "visit",
        "recommend",
        "return_verified",
        "reject",
        "attach",
    }
    assert actions_on_page(client, cases["xq_recommended"]) == {"attach"}
    client.force_login(people.erin)
    assert actions_on_page(client, cases["xq_recommended"]) == {"approve", "send_back", "reject"}
    assert actions_on_page(client, cases["xq_approved"]) == {"disburse", "payout_account"}
    assert actions_on_page(client, cases["xq_submitted"]) == set()


def test_a_button_calls_the_service_and_the_trail_says_admin(client, people, cases):
    app = cases["xq_verified"]
    client.force_login(people.carol)
    form = client.get(act_url(app, "recommend"))
    assert form.status_code == 200
    response = client.post(
        act_url(app, "recommend"),
        {"version": app.version, "amount": "4500.00", "comment": "研讨同意"},
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert (app.state, app.recommended_amount) == ("recommended", Decimal("4500.00"))
    entry = AuditEntry.objects.filter(application=app).latest("pk")
    assert (entry.action, entry.actor, entry.source, entry.comment) == (
        "recommend",
        people.carol,
        "admin",
        "研讨同意",
    )


def test_the_services_refusals_show_on_the_form(client, people, cases):
    app = cases["xq_submitted"]  # no home visit yet: verify is refused by the service
    client.force_login(people.carol)
    response = client.post(act_url(app, "verify"), {"version": app.version})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Application.objects.get(pk=app.pk).state == "submitted"
    verified = cases["xq_verified"]
    response = client.post(
        act_url(verified, "recommend"),
        {"version": verified.version, "amount": "20000", "comment": "x"},
    )
    assert response.context["form"].errors["amount"]
    assert Application.objects.get(pk=verified.pk).state == "verified"


@pytest.mark.parametrize(
    ("user", "state", "action", "data"),
    [
        # django-fsm-2's own admin path would not check these: the view does, before anything.
        ("carol", "recommended", "approve", {"amount": "5000", "comment": "x"}),
        (
            "carol",
            "approved",
            "disburse",
            {"amount": "5000", "paid_on": "2024-01-02", "method": "cash", "fund": ""},
        ),
        ("erin", "verified", "recommend", {"amount": "5000", "comment": "x"}),
        ("erin", "submitted", "return_for_info", {"comment": "x"}),
        ("carol", "submitted", "mark_disbursed", {}),
        ("carol", "submitted", "submit", {}),
    ],
)
def test_a_step_the_user_may_not_take_is_refused_when_posted_by_hand(
    client, people, cases, user, state, action, data
):
    app = cases[f"xq_{state}"]
    before = AuditEntry.objects.count()
    client.force_login(getattr(people, user))
    response = client.post(act_url(app, action), {"version": app.version, **data})
    assert response.status_code in (403, 404)
    assert response.status_code == (404 if action == "mark_disbursed" else 403)
    fresh = Application.objects.get(pk=app.pk)
    assert (fresh.state, fresh.version) == (app.state, app.version)
    assert AuditEntry.objects.count() == before


def test_a_form_posted_against_an_older_version_is_refused(client, people, cases):
    app = cases["xq_submitted"]
    client.force_login(people.carol)
    response = client.post(
        act_url(app, "return_for_info"), {"version": app.version - 1, "comment": "缺诊断书"}
    )
    assert response.status_code == 200
    assert (
        "someone else" in " ".join(response.context["form"].non_field_errors())
        or response.context["form"].non_field_errors()
    )
    assert Application.objects.get(pk=app.pk).state == "submitted"


def test_the_district_records_a_payout_and_the_case_is_disbursed(
    client, people, cases, well_funded
):
    app = cases["xq_approved"]
    client.force_login(people.erin)
    response = client.post(
        act_url(app, "disburse"),
        {
            "version": app.version,
            "amount": "5000.00",
            "paid_on": "2024-05-06",
            "method": "cash",
            "fund": "donation:2024",
            "voucher_no": "PZ-9",
        },
    )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.state == "disbursed"
    assert app.disbursements.get().fund_source == "donation"


def test_the_case_page_links_to_the_visit_page_and_takes_no_visit_itself(client, people, cases):
    """A visit is recorded on its own page (made for a phone); the admin's case page shows the
    visits on file, read-only, and posting the old inline's fields to it changes nothing."""
    app = cases["xq_submitted"]
    client.force_login(people.carol)
    page = client.get(change_url(app))
    visit_url = reverse("relief:visit_new", args=[app.pk]) + "?back=admin"
    assert visit_url in [step["url"] for step in page.context["case_steps"]]
    html = page.content.decode()
    assert 'name="home_visits-0-findings"' not in html
    before = HomeVisit.objects.count()
    response = client.post(
        change_url(app),
        {
            "home_visits-TOTAL_FORMS": "1",
            "home_visits-INITIAL_FORMS": "0",
            "home_visits-0-visit_date": "2024-04-01",
            "home_visits-0-visitors": "梁慧敏、何建华",
            "home_visits-0-findings": "情况属实",
            "home_visits-0-verified_household_income": "1800",
            "home_visits-0-verified_monthly_expenses": "3200",
        },
    )
    assert response.status_code == 403
    assert HomeVisit.objects.count() == before
    services.home_visit_record(
        application=app,
        user=people.carol,
        visit_date=dt.date(2024, 4, 1),
        visitors="梁慧敏",
        findings="情况属实，母亲卧床",
        verified_household_income=Decimal("1800"),
        verified_monthly_expenses=Decimal("3200"),
    )
    assert "情况属实，母亲卧床" in client.get(change_url(app)).content.decode()


def test_no_home_visit_can_be_added_where_the_workflow_does_not_allow_it(client, people, cases):
    app = cases["xq_recommended"]
    client.force_login(people.carol)
    assert client.post(change_url(app), {}).status_code == 403
    client.force_login(people.erin)
    assert client.post(change_url(app), {}).status_code == 403


@pytest.fixture
def attachment(people, cases, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return services.attachment_add(
        application=cases["xq_submitted"],
        user=people.alice,
        upload=SimpleUploadedFile("诊断书.pdf", PDF, content_type="application/pdf"),
        kind="diagnosis",
    )


@pytest.mark.parametrize(
    ("user", "status"), [("carol", 200), ("alice", 200), ("erin", 200), ("dave", 404), ("bob", 404)]
)
def test_attachments_download_only_within_scope(client, people, attachment, user, status):
    client.force_login(getattr(people, user))
    response = client.get(reverse("relief:attachment_download", args=[attachment.pk]))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PDF
        # Downloaded, not shown inline: a browser's PDF viewer runs with the site's rights.
        assert response["Content-Disposition"].startswith("attachment;")


def test_the_case_page_links_attachments_to_the_scoped_download(client, people, attachment):
    client.force_login(people.carol)
    html = client.get(change_url(attachment.application)).content.decode()
    assert reverse("relief:attachment_download", args=[attachment.pk]) in html


def test_an_anonymous_download_goes_to_the_login(client, attachment):
    response = client.get(reverse("relief:attachment_download", args=[attachment.pk]))
    assert response.status_code == 302 and "login" in response.url


def test_an_attachment_added_with_the_button_goes_through_the_service(
    client, people, cases, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    app = cases["xq_verified"]
    client.force_login(people.carol)
    pdf = SimpleUploadedFile("入户照片.pdf", PDF, content_type="application/pdf")
    response = client.post(
        act_url(app, "attach"), {"version": app.version, "upload": pdf, "kind": "photo"}
    )
    assert response.status_code == 302
    assert app.attachments.get().original_name == "入户照片.pdf"
    app.refresh_from_db()  # a new file makes the case's older copies stale
    text = SimpleUploadedFile("note.pdf", b"plain text", content_type="application/pdf")
    response = client.post(
        act_url(app, "attach"), {"version": app.version, "upload": text, "kind": "photo"}
    )
    assert response.context["form"].errors["upload"]
    assert app.attachments.count() == 1


def test_a_paid_case_is_followed_up_and_closed_with_the_buttons(client, people):
    app = case(people, "disbursed")
    client.force_login(people.carol)
    assert actions_on_page(client, app) == {"follow_up", "close"}
    response = client.post(
        act_url(app, "follow_up"),
        {
            "version": app.version,
            "follow_up_date": "2024-06-01",
            "method": "phone",
            "findings": "已收到",
        },
    )
    assert response.status_code == 302
    app.refresh_from_db()
    response = client.post(act_url(app, "close"), {"version": app.version, "comment": ""})
    assert response.status_code == 302
    assert Application.objects.get(pk=app.pk).state == "closed"


def test_autocompletes_offer_only_the_users_subtree(client, people):
    client.force_login(people.carol)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "unions", "model_name": "union", "field_name": "parent", "term": ""},
    )
    assert response.status_code == 200
    names = {r["text"] for r in response.json()["results"]}
    assert names == {"西樵镇总工会", "樵园社区工会", "樵山食品工会"}


def _union_choices(response) -> list[str]:
    """The grassroots-union filter's choices on a case list page (none: no such filter)."""
    for spec in response.context["cl"].filter_specs:
        if getattr(spec, "parameter_name", None) == "union__id__exact":
            return [str(label) for _value, label in spec.lookup_choices]
    return []


def test_the_grassroots_union_filter_is_a_drop_down_that_keeps_the_other_filters(
    client, people, tree
):
    """One <select> of the town's unions in a GET form whose hidden fields carry the list's
    other filters; sending it lists that union's cases only, the choice selected."""
    own = case_in_state(
        "submitted", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    client.force_login(people.carol)
    html = client.get(LIST, {"state__exact": "submitted"}).content.decode()
    assert '<select name="union__id__exact"' in html
    assert f'<option value="{tree.xq_e01.pk}">{tree.xq_e01.name}</option>' in html
    assert tree.dl_v01.name not in html
    assert '<input type="hidden" name="state__exact" value="submitted">' in html
    assert f"union__id__exact={tree.xq_s01.pk}" not in html  # no link per union
    chosen = client.get(LIST, {"state__exact": "submitted", "union__id__exact": tree.xq_e01.pk})
    assert list(chosen.context["cl"].result_list) == []
    assert f'<option value="{tree.xq_e01.pk}" selected>' in chosen.content.decode()
    chosen = client.get(LIST, {"state__exact": "submitted", "union__id__exact": tree.xq_s01.pk})
    assert [c.pk for c in chosen.context["cl"].result_list] == [own.pk]
    form = re.search(
        r'<form method="get" class="select-filter">.*?</form>', chosen.content.decode(), re.S
    )
    assert 'name="state__exact" value="submitted"' in form.group()
    assert '<input type="hidden" name="union__id__exact"' not in form.group()  # the select's


def test_the_district_picks_a_town_before_a_grassroots_union(client, people, tree):
    """Across towns the grassroots unions are not listed (a city's 2,000 made the page 265 KB);
    once a town is chosen, its unions are; a town reviewer sees their own at once."""
    client.force_login(people.erin)
    assert _union_choices(client.get(LIST)) == []
    chosen = client.get(LIST, {"union__parent__id__exact": tree.xq.pk})
    assert tree.xq_s01.name in _union_choices(chosen)
    assert tree.dl_v01.name not in _union_choices(chosen)
    client.force_login(people.carol)
    own = _union_choices(client.get(LIST))
    assert tree.xq_s01.name in own and tree.dl_v01.name not in own

"""Who gets which report: in scope 200, out of scope 404, signed out -> login."""

import re

import pytest
from django.urls import reverse

from reports.models import ReportJob

PDF = "application/pdf"

# The payouts of tests/reports/conftest.py, built once for the module.
pytestmark = pytest.mark.usefixtures("module_payouts")


@pytest.fixture
def as_user(client, people, payouts):
    users = {**vars(people), "frank": payouts.frank}

    def login(name):
        client.force_login(users[name])
        return client

    return login


def _payout_report(client, unit):
    return client.post(reverse("reports:payout_report"), {"unit": unit, "year": 2023})


def _ledger(client, unit):
    return client.get(reverse("reports:ledger"), {"unit": unit, "year": 2023, "format": "csv"})


def _dashboard(client, unit):
    return client.get(reverse("reports:dashboard"), {"unit": unit, "since": 2022})


UNIT_DOCS = [_payout_report, _ledger, _dashboard]

# (user, unit, expected) for the unit reports: officers any unit, reviewers their town.
UNIT_MATRIX = [
    ("erin", "NH", 200),
    ("erin", "XQ", 200),
    ("erin", "DL-V01", 200),
    ("carol", "XQ", 200),
    ("carol", "XQ-S01", 200),
    ("carol", "NH", 404),
    ("carol", "DL", 404),
    ("carol", "DL-V01", 404),
    ("dave", "DL", 200),
    ("dave", "XQ", 404),
    ("alice", "XQ-S01", 404),
    ("alice", "XQ", 404),
    ("bob", "DL-V01", 404),
    ("root", "NH", 200),
]


@pytest.mark.parametrize("doc", UNIT_DOCS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("user", "unit", "expected"), UNIT_MATRIX)
def test_unit_reports_scope(as_user, doc, user, unit, expected):
    response = doc(as_user(user), unit)
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [("erin", 302), ("carol", 302), ("dave", 302), ("root", 302), ("alice", 404), ("bob", 404)],
)
def test_the_old_free_form_notice_list_is_retired_for_the_recorded_notices(as_user, user, expected):
    """/reports/notice/ printed any year's cases of a town over a typed period, with masked ID
    numbers (issue 16, carried over): since public notices are recorded (issue 15) a list is
    printed from its notice's page only, never with an ID number. Old links and bookmarks,
    query and all, land on the notices' list; caseworkers, who never had it, still find
    nothing."""
    response = as_user(user).get(
        reverse("reports:notice"),
        {"unit": "XQ", "stage": "approved", "year": 2023, "starts": "2024-01-02"}
        | {"ends": "2024-01-08"},
    )
    assert response.status_code == expected
    assert response.get("Content-Type") != PDF
    if expected == 302:
        assert response["Location"] == "/admin/relief/publicnotice/"


@pytest.mark.parametrize(
    ("user", "worker", "expected"),
    [
        ("alice", "w1", 200),  # her own union's worker
        ("alice", "w2", 404),  # same town, other union
        ("alice", "w3", 404),
        ("frank", "w2", 200),
        ("bob", "w3", 200),
        ("bob", "w1", 404),
        ("carol", "w1", 200),
        ("carol", "w2", 200),
        ("carol", "w3", 404),
        ("dave", "w3", 200),
        ("erin", "w1", 200),
        ("erin", "w3", 200),
    ],
)
def test_worker_statement_scope(as_user, payouts, user, worker, expected):
    id_number = getattr(payouts, worker).id_number
    response = as_user(user).post(reverse("reports:statement"), {"id_number": id_number})
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == PDF


def test_unknown_worker_is_404(as_user):
    response = as_user("erin").post(
        reverse("reports:statement"), {"id_number": "110101199003074514"}
    )
    assert response.status_code == 404
    # Shown next to the field, the same words as for a worker outside the user's scope.
    assert "您的范围内没有此身份证号的职工" in response.content.decode()


@pytest.mark.parametrize(
    ("user", "case", "expected"),
    [
        ("alice", "a", 200),
        ("alice", "c", 404),
        ("alice", "d", 404),
        ("carol", "c", 200),
        ("carol", "d", 404),
        ("dave", "d", 200),
        ("erin", "a", 200),
        ("erin", "d", 200),
    ],
)
def test_approval_form_scope(as_user, payouts, user, case, expected):
    pk = getattr(payouts, case).pk
    response = as_user(user).get(reverse("reports:approval_form", args=[pk]))
    assert response.status_code == expected


@pytest.mark.parametrize(
    "url",
    [
        reverse("reports:index"),
        reverse("reports:dashboard"),
        reverse("reports:statement"),
    ],
)
def test_signed_out_goes_to_login(client, payouts, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_index_shows_what_the_role_may_have(as_user):
    page = as_user("erin").get(reverse("reports:index")).content.decode()
    assert 'id="payout-report"' in page and 'id="notice"' in page and 'id="statement"' in page
    page = as_user("alice").get(reverse("reports:index")).content.decode()
    assert 'id="payout-report"' not in page and 'id="ledger"' not in page
    assert 'id="statement"' in page


def test_caseworker_has_no_dashboard(as_user):
    assert as_user("alice").get(reverse("reports:dashboard")).status_code == 404


def test_dashboard_shows_the_same_figures_as_the_pdf(as_user):
    response = as_user("erin").get(reverse("reports:dashboard"), {"unit": "NH", "since": 2022})
    page = response.content.decode()
    summary = response.context["summary"]
    assert (summary.count, summary.persons) == (6, 3)
    assert "32,000.00" in page and "10,000.00" in page
    assert "西樵镇总工会" in page and "大沥镇总工会" in page


@pytest.mark.parametrize(
    ("user", "unit", "offered"),
    [
        ("erin", "NH", ["NH", "XQ", "DL"]),
        ("erin", "XQ", ["NH", "XQ", "XQ-S01", "XQ-E01", "DL"]),
        ("erin", "DL-V01", ["NH", "XQ", "DL", "DL-V01"]),
        ("carol", "XQ", ["XQ", "XQ-S01", "XQ-E01"]),
        ("carol", "XQ-E01", ["XQ", "XQ-S01", "XQ-E01"]),
    ],
)
def test_dashboard_offers_the_towns_and_the_unions_of_the_town_shown(as_user, user, unit, offered):
    """The district's two thousand unions are not one list: the units above the grassroots,
    and the unions of the town shown, in tree order, the unit shown selected."""
    response = as_user(user).get(reverse("reports:dashboard"), {"unit": unit})
    assert [u.code for u in response.context["units"]] == offered
    assert f'<option value="{unit}" selected>' in response.content.decode()


def test_the_reports_page_groups_each_towns_unions_under_it(as_user):
    """The unit pickers read as the tree: the district, then each town followed by an
    <optgroup> of its grassroots unions; the user's own union chosen to begin with."""
    page = as_user("erin").get(reverse("reports:index")).content.decode()
    picker = re.search(r'<select id="pr-unit" name="unit">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'value="([^"]+)"|<optgroup label="([^"]+)">|(</optgroup>)', picker) == [
        ("NH", "", ""),
        ("XQ", "", ""),
        ("", "西樵镇总工会所属基层工会", ""),
        ("XQ-S01", "", ""),
        ("XQ-E01", "", ""),
        ("", "", "</optgroup>"),
        ("DL", "", ""),
        ("", "大沥镇总工会所属基层工会", ""),
        ("DL-V01", "", ""),
        ("", "", "</optgroup>"),
    ]
    assert '<option value="NH" selected>' in picker


def test_short_report_comes_back_directly(as_user):
    response = _payout_report(as_user("carol"), "XQ")
    assert response.status_code == 200
    assert response["Content-Type"] == PDF
    assert response.content.startswith(b"%PDF")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert not ReportJob.objects.exists()


def test_bad_period_is_explained(as_user):
    response = as_user("erin").post(
        reverse("reports:payout_report"), {"unit": "NH", "first_year": 2024, "last_year": 2022}
    )
    assert response.status_code == 400
    assert response.context["payout_form"].errors


@pytest.mark.parametrize(("user", "expected"), [("alice", 302), ("bob", 404), ("erin", 302)])
def test_approval_form_by_reference(as_user, payouts, user, expected):
    url = reverse("reports:approval_form_lookup")
    response = as_user(user).get(url, {"reference": payouts.a.reference.lower()})
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] == reverse("reports:approval_form", args=[payouts.a.pk])


# --- the worker statement is looked up by POST (issue 10: no ID numbers in addresses) -------


def test_the_statement_form_posts(as_user):
    page = as_user("alice").get(reverse("reports:index")).content.decode()
    form = re.search(r'<form method="post" action="/reports/statement/">(.*?)</form>', page, re.S)
    assert form and 'name="csrfmiddlewaretoken"' in form.group(1)
    assert 'name="id_number"' in form.group(1)


def test_the_statement_by_post_is_the_pdf_and_a_get_shows_the_form(as_user, payouts):
    client = as_user("carol")
    response = client.post(reverse("reports:statement"), {"id_number": payouts.w1.id_number})
    assert response.status_code == 200 and response["Content-Type"] == PDF
    assert payouts.w1.id_number not in response["Content-Disposition"]
    response = client.get(reverse("reports:statement"))
    assert response.status_code == 303
    assert response["Location"] == reverse("reports:index") + "#statement"


@pytest.mark.id_in_url
def test_an_old_statement_address_with_an_id_number_is_refused(as_user, payouts):
    client = as_user("carol")
    response = client.get(reverse("reports:statement"), {"id_number": payouts.w1.id_number})
    assert response.status_code == 303 and "id_number" not in response["Location"]
    page = client.get(response["Location"])
    assert "不能把身份证号写在网址中" in " ".join(str(m) for m in page.context["messages"])


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "这个字段是必填项"),
        ("44060519720816", "身份证号码应为 18 位"),
        ("440605197208161997", "校验位"),
    ],
)
def test_statement_errors_are_shown_next_to_the_field_in_chinese(as_user, payouts, typed, error):
    response = as_user("carol").post(reverse("reports:statement"), {"id_number": typed})
    assert response.status_code == 400
    page = response.content.decode()
    field = re.search(r'<section class="card" id="statement">(.*?)</section>', page, re.S)
    assert field and 'id="ws-id-error"' in field.group(1) and error in field.group(1)
    assert 'aria-invalid="true"' in field.group(1)


def test_signed_out_statement_post_goes_to_login_without_the_number(client, payouts):
    response = client.post(reverse("reports:statement"), {"id_number": payouts.w1.id_number})
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/reports/statement/"

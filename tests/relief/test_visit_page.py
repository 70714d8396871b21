"""Issue 13, item 5: the town reviewer's home-visit page (入户核实), made for a phone.

It calls the same service as ever (relief.services.home_visit_record, with the visit's photos
through attachment_add); scope and role are in tests/security/test_url_matrix.py.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relief.idempotency import FIELD, replay_message
from relief.models import Attachment, AuditEntry, HomeVisit
from tests.factories import case_in_state, tiny_png

PNG = tiny_png()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def in_state(people, state):
    return case_in_state(state, caseworker=people.alice, reviewer=people.carol, officer=people.erin)


def visit_url(app, **query):
    url = reverse("relief:visit_new", args=[app.pk])
    return url + ("?back=admin" if query.get("back") == "admin" else "")


def body(client, app, **overrides) -> dict:
    """The form as loaded (its version and one-time key), filled in."""
    form = client.get(visit_url(app)).context["form"]
    data = {
        "version": form["version"].value(),
        FIELD: form[FIELD].value(),
        "visit_date": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "visitors": "梁慧敏、何建华",
        "findings": "母亲卧床，儿子读初中，家中无其他收入。",
        "verified_household_income": "1800",
        "verified_monthly_expenses": "3200.50",
    }
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_page_offers_the_camera_and_the_facts_to_check(client, people):
    app = in_state(people, "submitted")
    client.force_login(people.carol)
    response = client.get(visit_url(app))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert 'enctype="multipart/form-data"' in html
    assert app.worker.masked_id_number in html and app.worker.id_number not in html
    assert response.context["form"]["visitors"].value() == people.carol.get_full_name()


def test_a_visit_with_photos_is_recorded_through_the_service(client, people):
    app = in_state(people, "submitted")
    client.force_login(people.carol)
    data = body(client, app)
    data["camera_photos"] = [SimpleUploadedFile("IMG_0001.png", PNG, content_type="image/png")]
    data["other_files"] = [SimpleUploadedFile("房屋.png", PNG, content_type="image/png")]
    response = client.post(visit_url(app), data)
    assert response.status_code == 302
    assert response.url == reverse("relief:case_detail", args=[app.pk])
    visit = HomeVisit.objects.get(application=app)
    assert (visit.visitors, visit.recorded_by) == ("梁慧敏、何建华", people.carol)
    assert visit.verified_monthly_expenses == Decimal("3200.50")
    photos = Attachment.objects.filter(home_visit=visit)
    assert sorted(photos.values_list("kind", flat=True)) == ["photo", "photo"]
    entry = AuditEntry.objects.filter(application=app, action="home_visit").get()
    assert (entry.actor, entry.source) == (people.carol, "web")
    assert AuditEntry.objects.filter(application=app, action="attach").count() == 2
    # The case page shows it, with its photos, and lets the reviewer go on.
    page = client.get(response.url).content.decode()
    assert "母亲卧床" in page and "IMG_0001.png" in page
    assert reverse("admin:relief_application_change", args=[app.pk]) in page


def test_from_the_admin_the_page_links_back_to_it(client, people):
    app = in_state(people, "verified")
    client.force_login(people.carol)
    admin_page = reverse("admin:relief_application_change", args=[app.pk])
    assert visit_url(app, back="admin") in client.get(admin_page).content.decode()
    html = client.get(visit_url(app, back="admin")).content.decode()
    assert f'href="{admin_page}"' in html and 'name="back" value="admin"' in html


def test_the_site_case_page_offers_the_visit_to_the_town_only(client, people):
    app = in_state(people, "submitted")
    client.force_login(people.carol)
    assert (
        visit_url(app) in client.get(reverse("relief:case_detail", args=[app.pk])).content.decode()
    )
    client.force_login(people.alice)
    page = client.get(reverse("relief:case_detail", args=[app.pk])).content.decode()
    assert visit_url(app) not in page


def test_a_bad_photo_writes_nothing_at_all(client, people):
    app = in_state(people, "submitted")
    client.force_login(people.carol)
    data = body(client, app)
    data["camera_photos"] = [
        SimpleUploadedFile("a.png", PNG, content_type="image/png"),
        SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\nnot really", content_type="image/png"),
    ]
    response = client.post(visit_url(app), data)
    assert response.status_code == 400
    assert not HomeVisit.objects.filter(application=app).exists()
    assert not Attachment.objects.filter(application=app).exists()
    html = response.content.decode()
    assert "母亲卧床" in html  # what was typed stays
    assert "请重新选择" in html


def test_errors_are_shown_in_chinese_next_to_the_fields(client, people):
    app = in_state(people, "submitted")
    client.force_login(people.carol)
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    data = body(client, app, findings="", verified_household_income="-5", visit_date=future)
    response = client.post(visit_url(app), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "这个字段是必填项。" in html
    assert "不能是将来" in html
    assert not HomeVisit.objects.filter(application=app).exists()


def test_sent_twice_it_records_one_visit(client, people):
    app = in_state(people, "submitted")
    client.force_login(people.carol)
    data = body(client, app)
    assert client.post(visit_url(app), data).status_code == 302
    again = client.post(visit_url(app), data)  # the first answer was lost
    assert again.status_code == 302
    assert again.url == reverse("relief:case_detail", args=[app.pk])
    assert str(replay_message()) in messages_of(again)
    assert HomeVisit.objects.filter(application=app).count() == 1


def test_a_case_the_town_no_longer_visits_is_explained(client, people):
    app = in_state(people, "recommended")
    before = HomeVisit.objects.filter(application=app).count()
    client.force_login(people.carol)
    for response in (client.get(visit_url(app)), client.post(visit_url(app), {})):
        assert response.status_code == 302
        assert response.url == reverse("relief:case_detail", args=[app.pk])
        assert "现在已不能" in " ".join(messages_of(response))
    assert HomeVisit.objects.filter(application=app).count() == before


def test_a_stale_form_is_refused_with_who_changed_the_case(client, people):
    app = in_state(people, "submitted")
    client.force_login(people.carol)
    data = body(client, app)
    client.force_login(people.alice)
    client.post(
        reverse("relief:attachment_add", args=[app.pk]),
        {
            "version": app.version,
            "attach-kind": "bill",
            "attach-files": [SimpleUploadedFile("bill.png", PNG, content_type="image/png")],
        },
    )
    client.force_login(people.carol)
    response = client.post(visit_url(app), data)
    assert response.status_code == 400
    assert "母亲卧床" in response.content.decode()
    assert not HomeVisit.objects.filter(application=app).exists()


def test_the_site_case_page_offers_uploads_only_to_whom_may_post_them(client, people):
    """The site's 添加附件 posts to a caseworkers' view: a town reviewer was shown the form and
    got 403 on sending it; the reviewer attaches in the admin or with a visit's photos."""
    app = in_state(people, "submitted")
    page = reverse("relief:case_detail", args=[app.pk])
    add = reverse("relief:attachment_add", args=[app.pk])
    client.force_login(people.carol)
    assert add not in client.get(page).content.decode()
    client.force_login(people.alice)
    assert add in client.get(page).content.decode()

"""Issue 13, item 18, the server's side: a form sent again files nothing twice, the server
tells the page which kept copies it has, and signing out clears the browser's storage.

The browser's side (typing, the network cut, the copy put back) is in
tests/browser/test_phone_forms.py.
"""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from config.security import LAST_SEEN
from relief.form_drafts import SESSION_KEY
from relief.idempotency import FIELD, replay_message
from relief.models import Application, Worker
from tests.factories import case_in_state, caseworker, make_id_number
from tests.relief.test_views import _edit_data, intake_post


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def loaded_key(client, number) -> str:
    """The key the intake's second step carries when it is shown."""
    response = client.post(reverse("relief:case_new"), {"step": "lookup", "id_number": number})
    key = response.context["forms"].key
    assert key and f'name="{FIELD}" value="{key}"' in response.content.decode()
    return key


def test_an_intake_sent_twice_files_one_case_and_answers_with_it(client, people):
    client.force_login(people.alice)
    number = make_id_number(801)
    data = intake_post(number, **{FIELD: loaded_key(client, number)})
    first = client.post(reverse("relief:case_new"), data)
    assert first.status_code == 302
    case = Application.objects.get(worker__id_number=number)
    again = client.post(reverse("relief:case_new"), data)  # the first answer was lost
    assert again.status_code == 302
    assert again.url == reverse("relief:case_detail", args=[case.pk])
    assert str(replay_message()) in messages_of(again)
    assert Application.objects.filter(worker__id_number=number).count() == 1
    assert Worker.objects.filter(id_number=number).count() == 1


def test_the_kept_copy_resumed_at_the_id_step_answers_with_the_case_filed(client, people):
    """The phone kept the copy because the answer was lost; resuming it posts the ID step
    with the copy's key: the server has that case, so it goes there (no 'case in progress')."""
    client.force_login(people.alice)
    number = make_id_number(802)
    key = loaded_key(client, number)
    assert (
        client.post(reverse("relief:case_new"), intake_post(number, **{FIELD: key})).status_code
        == 302
    )
    case = Application.objects.get(worker__id_number=number)
    resumed = client.post(
        reverse("relief:case_new"), {"step": "lookup", "id_number": number, FIELD: key}
    )
    assert resumed.status_code == 302
    assert resumed.url == reverse("relief:case_detail", args=[case.pk])


def test_a_refused_intake_frees_its_key(client, people):
    client.force_login(people.alice)
    number = make_id_number(803)
    key = loaded_key(client, number)
    refused = client.post(
        reverse("relief:case_new"), intake_post(number, narrative="", **{FIELD: key})
    )
    assert refused.status_code == 400
    assert refused.context["forms"].key == key  # the page sends the same key again
    assert (
        client.post(reverse("relief:case_new"), intake_post(number, **{FIELD: key})).status_code
        == 302
    )
    assert Application.objects.filter(worker__id_number=number).count() == 1


def test_another_users_key_is_refused_not_answered_with_their_case(client, people, tree):
    client.force_login(people.alice)
    number = make_id_number(804)
    key = loaded_key(client, number)
    client.post(reverse("relief:case_new"), intake_post(number, **{FIELD: key}))
    other = Client()
    other.force_login(caseworker(tree.xq_s01, username="alice2"))
    theirs = make_id_number(805)
    answer = other.post(reverse("relief:case_new"), intake_post(theirs, **{FIELD: key}))
    assert answer.status_code == 400
    assert "此表单已经提交过" in answer.content.decode()
    assert not Application.objects.filter(worker__id_number=theirs).exists()


def test_a_correction_resubmitted_twice_answers_with_the_case(client, people):
    app = case_in_state(
        "returned", caseworker=people.alice, reviewer=people.carol, officer=people.erin
    )
    client.force_login(people.alice)
    edit = reverse("relief:case_edit", args=[app.pk])
    key = client.get(edit).context["forms"].key
    data = _edit_data(app, narrative="补充了诊断书。", action="resubmit", **{FIELD: key})
    assert client.post(edit, data).status_code == 302
    again = client.post(edit, data)
    assert again.status_code == 302
    assert again.url == reverse("relief:case_detail", args=[app.pk])
    assert str(replay_message()) in messages_of(again)
    app.refresh_from_db()
    assert app.state == "submitted"
    assert app.audit_entries.filter(action="resubmit").count() == 1


def test_the_case_page_names_the_keys_the_server_has_once(client, people):
    client.force_login(people.alice)
    number = make_id_number(806)
    key = loaded_key(client, number)
    response = client.post(reverse("relief:case_new"), intake_post(number, **{FIELD: key}))
    assert client.session[SESSION_KEY] == [key]
    page = client.get(response.url).content.decode()
    assert f'data-drafts-saved="{key}"' in page
    assert "data-drafts-saved" not in client.get(response.url).content.decode()


def test_the_forms_say_what_to_keep_and_for_whom(client, people):
    client.force_login(people.alice)
    number = make_id_number(807)
    html = client.post(
        reverse("relief:case_new"), {"step": "lookup", "id_number": number}
    ).content.decode()
    assert f'data-draft="case-new" data-draft-user="{people.alice.pk}"' in html
    assert f'data-draft-match="{number}"' in html
    assert "data-draft-bound" not in html
    # A bank card number is never copied into the phone's storage.
    assert re.search(r'name="new_bank_card"[^>]*data-draft-skip', html)
    assert "js/form-draft.js" in html


def test_signing_out_clears_the_browsers_storage(client, people):
    client.force_login(people.alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"storage"'
    client.force_login(people.carol)
    assert client.post(reverse("admin:logout"))["Clear-Site-Data"] == '"storage"'


def test_an_idle_sign_out_keeps_the_copies(client, people):
    """Signed out after 30 idle minutes (the signal was lost longer): the copy must survive."""
    client.force_login(people.alice)
    client.get("/")
    session = client.session
    session[LAST_SEEN] -= 31 * 60
    session.save()
    response = client.post(reverse("logout"))
    assert "Clear-Site-Data" not in response
    response = client.get(reverse("relief:case_new"))
    assert "Clear-Site-Data" not in response

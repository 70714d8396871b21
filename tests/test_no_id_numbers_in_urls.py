"""The suite-wide guard of tests/conftest.py fires: no test request may carry an ID number in its
address (path or query string, plain or URL-encoded), nor be redirected to one."""

import pytest
from django.test import RequestFactory

from tests.conftest import IdNumberInUrl

NUMBER = "440605197208161996"


@pytest.mark.parametrize(
    "url",
    [
        f"/cases/?q={NUMBER}",
        f"/reports/statement/?id_number={NUMBER}",
        f"/admin/relief/worker/?q={NUMBER[:17]}X",
        f"/admin/relief/worker/?q={NUMBER[:17]}x",
        f"/admin/autocomplete/?term={NUMBER}",
        f"/login/?next=%2Fcases%2F%3Fq%3D{NUMBER}",  # encoded once
        f"/login/?next=%252Fcases%252F%253Fq%253D{NUMBER}",  # encoded twice
        f"/workers/{NUMBER}/",  # in the path
    ],
)
def test_a_request_with_an_id_number_in_its_address_fails(client, url):
    with pytest.raises(IdNumberInUrl, match="ID number"):
        client.get(url)


def test_query_data_is_checked_too(client):
    with pytest.raises(IdNumberInUrl):
        client.get("/cases/", {"q": NUMBER})
    with pytest.raises(IdNumberInUrl):
        client.post(f"/cases/?q={NUMBER}", {})


def test_request_factory_is_checked(rf):
    with pytest.raises(IdNumberInUrl):
        rf.get("/cases/", {"q": NUMBER})
    with pytest.raises(IdNumberInUrl):
        RequestFactory().get(f"/reports/statement/?id_number={NUMBER}")


def test_a_redirect_to_an_address_with_an_id_number_fails(client):
    # The number is only in the body; the redirect the server answers with would put it in the
    # browser's next request.
    with pytest.raises(IdNumberInUrl, match="redirect"):
        client.post("/i18n/setlang/", {"language": "zh-hans", "next": f"/cases/?q={NUMBER}"})


def test_a_posted_number_and_clean_addresses_pass(client):
    assert client.get("/login/").status_code == 200
    # Only the address counts: a number in a POST body is what the pages are meant to do.
    assert client.post("/i18n/setlang/", {"language": "zh-hans", "q": NUMBER}).status_code == 302
    # Fewer than 18 characters, or separated, is not the pattern.
    assert client.get(f"/login/?next=/cases/%3Fq%3D{NUMBER[:17]}").status_code == 200

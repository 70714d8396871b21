"""Searching the way the pages do it: the term is POSTed, the list is reached with ?s=<token>."""

from relief.admin_search import SEARCH_MARKER


def search(client, url, term, **filters):
    """The case list's search box: POST, then follow the 303 to the list (the response)."""
    response = client.post(url, {"q": term, **filters})
    assert response.status_code == 303, response.status_code
    return client.get(response["Location"])


def admin_search(client, changelist_url, term, **params):
    """An admin changelist's search box (templates/admin/search_form.html)."""
    response = client.post(changelist_url, {SEARCH_MARKER: "1", "q": term, **params})
    assert response.status_code == 303, response.status_code
    return client.get(response["Location"])

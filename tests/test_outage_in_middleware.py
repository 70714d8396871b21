"""A database outage met before any view (the session, the signed-in user) is a 503, not a 500."""

import pytest
from django.db import OperationalError
from django.test import Client


@pytest.mark.parametrize("error", [OperationalError("server closed the connection")])
def test_an_outage_in_the_middleware_is_a_503(people, settings, monkeypatch, error):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(people.alice)

    def down(self, *args, **kwargs):
        raise error

    # The session store is the first thing that reads the database on every request.
    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", down)
    response = client.get("/cases/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "no-store" in response["Cache-Control"]


def test_other_errors_stay_500(people, settings, monkeypatch):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(people.alice)

    def broken(self, *args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", broken)
    response = client.get("/cases/")
    assert response.status_code == 500

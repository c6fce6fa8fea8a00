"""Two browsers (or a double-click) sending the acknowledgement form at the same moment, against
a real server with real threads: one DOI, and no server error. Runs on PostgreSQL and, in the
smoke run, on the SQLite development default (a file database, as ``scripts/serve`` uses)."""

from __future__ import annotations

import threading

import pytest
import requests
from django.test import Client

from doi.models import Doi
from tests.doi.test_owner_generate import form_data, url
from tests.factories import RepoFactory, commit_files

pytestmark = [pytest.mark.smoke, pytest.mark.django_db(transaction=True)]

ROUNDS = 3


def browser_session(live_server, user, form_url: str) -> requests.Session:
    """A logged-in session of its own, with the CSRF token the form page sets."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    response = session.get(live_server.url + form_url, timeout=30)
    assert response.status_code == 200
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def post_together(sessions: list[requests.Session], address: str, data: dict) -> list[int]:
    """POST from every session at once; the status codes, in order."""
    start = threading.Barrier(len(sessions))
    statuses: list[int] = [0] * len(sessions)

    def send(index: int, session: requests.Session) -> None:
        start.wait()
        response = session.post(address, data=data, allow_redirects=False, timeout=60)
        statuses[index] = response.status_code

    threads = [threading.Thread(target=send, args=(i, s)) for i, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_two_browsers_generating_at_once_get_one_doi_and_no_error(live_server, owner, settings):
    settings.DOI_REGISTRAR = "local"
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "---\nlicense: apache-2.0\n---\n# Sentiment\n"})
    # Two logins of the same owner (two browsers), and a double-click in one of them.
    first = browser_session(live_server, owner, url(repo))
    second = browser_session(live_server, owner, url(repo))
    data = form_data({"name": "Alice Liddell"})
    for round_ in range(ROUNDS):
        statuses = post_together([first, second, first], live_server.url + url(repo), data)
        assert all(status < 500 for status in statuses), statuses
        assert 302 in statuses, statuses
        assert Doi.objects.versions().filter(repo=repo).count() == round_ + 1
        commit_files(repo, owner, {"notes.txt": f"round {round_}"})
    assert Doi.objects.concepts().filter(repo=repo).count() == 1

"""Hostile headers and query parameters on every kind of page: a clear 4xx or the page, never a
server error."""

from __future__ import annotations

import io
from wsgiref.util import setup_testing_defaults

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse

from tests.factories import RepoFactory, commit_files, mint_doi

LONG = "x" * 10_001

HEADERS = [
    {"Accept": "text/" + LONG},
    {"Accept": "text/html;q=" + "9" * 5000},
    {"Accept-Language": LONG},
    {"Accept-Encoding": LONG},
    {"Range": "bytes=99999999999999999999999-"},
    {"Range": "bytes=" + LONG},
    {"If-Modified-Since": LONG},
    {"If-None-Match": LONG},
    {"HX-Request": "true", "HX-Current-URL": "http://[" + LONG},
    {"HX-Request": "true", "HX-Target": LONG, "HX-Trigger": LONG},
    {"Cookie": "sessionid=" + LONG + "; csrftoken=²"},
]
QUERIES = [
    "page=²",
    "page=99999999999999999999999",
    "page=" + "9" * 5000,
    "search=" + LONG,
    "search=%ED%A0%80",  # a lone surrogate, percent-encoded
    "format=²",
    "cite=" + LONG,
    "show=all&show=" + LONG,
    "download=" + LONG,
]


@pytest.fixture
def urls(owner, django_capture_on_commit_callbacks) -> list[str]:
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    revision = commit_files(repo, owner, {"README.md": "# Bert\n", "config.json": "{}"})
    with django_capture_on_commit_callbacks(execute=True):
        doi = mint_doi(repo, owner)
    return [
        "/",
        "/models",
        "/datasets",
        repo.url("page"),
        repo.url("commits"),
        repo.url("settings"),
        repo.url("upload"),
        reverse("repos:model-blob", args=["alice", "bert", revision.oid, "config.json"]),
        reverse("doi:resolve", args=[doi.doi]),
        reverse("doi:cite", args=[doi.doi]),
        reverse("support:index"),
        "/alice",
        "/login",
        "/join",
        "/static/css/hub.css",
    ]


@pytest.mark.parametrize("headers", HEADERS, ids=lambda h: ",".join(h))
def test_hostile_headers_never_give_a_server_error(client, owner, urls, headers):
    client.force_login(owner)
    for url in urls:
        response = client.get(url, headers=headers)
        assert response.status_code < 500, (url, headers)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q[:20])
def test_hostile_query_parameters_never_give_a_server_error(client, owner, urls, query):
    client.force_login(owner)
    for url in urls:
        response = client.get(f"{url}?{query}")
        assert response.status_code < 500, (url, query)


def _call_wsgi(content_type: str) -> tuple[str, bytes]:
    """POST /login through the project's WSGI application, as gunicorn would call it."""
    from hubsite.wsgi import application

    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/login", "CONTENT_TYPE": content_type}
    setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO(b"a=1")
    environ["CONTENT_LENGTH"] = "3"
    answer = {}
    body = b"".join(application(environ, lambda status, headers: answer.update(status=status)))
    return answer["status"], body


@pytest.mark.parametrize("content_type", ["text/plain; charset=" + LONG, "x/" + LONG])
def test_a_content_type_too_long_to_read_is_a_clear_400(db, content_type):
    # Django parses Content-Type while building the request, before any middleware could turn
    # its BadRequest into a response: the WSGI server answered with a bare 500.
    status, body = _call_wsgi(content_type)
    assert status.startswith("400 ")
    assert b"Content-Type header is too long" in body


def test_an_ordinary_content_type_reaches_the_site(db):
    status, _ = _call_wsgi("application/x-www-form-urlencoded")
    assert status.startswith("403 ")  # the login form, refused for want of a CSRF token


def test_a_content_type_too_long_to_read_is_a_clear_400_under_asgi_too(db):
    from asgiref.testing import ApplicationCommunicator

    from hubsite.asgi import application

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/login",
        "query_string": b"",
        "headers": [(b"content-type", b"text/plain; charset=" + LONG.encode())],
    }

    async def call() -> list[dict]:
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b"a=1"})
        return [await communicator.receive_output(5), await communicator.receive_output(5)]

    start, body = async_to_sync(call)()
    assert start["status"] == 400
    assert b"Content-Type header is too long" in body["body"]

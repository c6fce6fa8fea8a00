"""The repository page, cached whole and in pieces (card, file list), and what it costs: every
change is visible on the next request, with each cache backend the site supports, and what
differs by request (who is logged in, messages, CSRF token, "3 hours ago") is each request's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Namespace
from repos.models import Revision
from tests.factories import RepoFactory, UserFactory, commit_files

pytestmark = pytest.mark.usefixtures("cache_backend")


@pytest.fixture
def repo(owner):
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(repo, owner, {"README.md": "# Bert\n\nFirst card.\n", "weights.bin": "abc"})
    return repo


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.text


def test_a_new_commit_shows_on_the_next_request(client, repo, owner):
    assert "First card." in page(client, "/alice/bert")
    commit_files(repo, owner, {"README.md": "# Bert\n\nSecond card.\n", "extra.txt": "x"})
    text = page(client, "/alice/bert")
    assert "Second card." in text and "First card." not in text
    assert "/alice/bert/blob/" in text and "extra.txt" in text and "2 files" not in text


def test_an_older_revision_keeps_its_own_card_and_files(client, repo, owner):
    first = repo.head
    commit_files(repo, owner, {"README.md": "# Bert\n\nSecond card.\n", "extra.txt": "x"})
    assert "Second card." in page(client, "/alice/bert")
    text = page(client, first.get_absolute_url())
    assert "First card." in text and "extra.txt" not in text


def test_a_rename_shows_on_the_next_request(client, repo, owner):
    assert 'href="/alice/bert/blob/' in page(client, "/alice/bert")
    repo.move(namespace=repo.namespace, name="bert-base")
    text = page(client, "/alice/bert-base")
    assert 'href="/alice/bert-base/blob/' in text and 'href="/alice/bert/' not in text


def test_a_move_to_an_organization_shows_on_the_next_request(client, repo, org):
    page(client, "/alice/bert")
    repo.move(namespace=Namespace.objects.get(name="wonderland"), name="bert")
    text = page(client, "/wonderland/bert")
    assert 'href="/wonderland/bert/blob/' in text and 'href="/alice/' not in text


def test_a_visibility_change_shows_on_the_next_request(client, repo, owner):
    page(client, "/alice/bert")
    repo.set_private(True)
    assert client.get("/alice/bert").status_code == 404
    client.force_login(owner)
    assert '<span class="badge private">Private</span>' in page(client, "/alice/bert")
    repo.set_private(False)
    client.logout()
    assert "First card." in page(client, "/alice/bert")


def test_a_visitor_never_gets_the_buttons_a_writer_saw(client, repo, owner):
    client.force_login(owner)
    text = page(client, "/alice/bert")
    assert "Upload files</a>" in text and "Edit model card</a>" in text
    client.logout()
    text = page(client, "/alice/bert")
    assert "Upload files</a>" not in text and "Edit model card</a>" not in text
    client.force_login(owner)
    assert "Upload files</a>" in page(client, "/alice/bert")


def test_a_smaller_card_limit_hides_a_card_shown_before(client, repo, settings):
    assert "First card." in page(client, "/alice/bert")
    settings.CARD_MAX_KB = 0
    assert "First card." not in page(client, "/alice/bert")


def test_a_deletion_shows_on_the_next_request(client, repo, owner):
    page(client, "/alice/bert")
    repo.delete()
    assert client.get("/alice/bert").status_code == 404


def test_logging_in_and_out_shows_on_the_next_request(client, repo, stranger):
    assert 'href="/login"' in page(client, "/alice/bert")
    client.force_login(stranger)
    text = page(client, "/alice/bert")
    assert "<span>mallory</span>" in text and 'href="/login"' not in text
    # Another user with the same rights gets the same page with their own menu.
    other = Client()
    other.force_login(UserFactory(username="grace"))
    text = page(other, "/alice/bert")
    assert "<span>grace</span>" in text and "mallory" not in text
    client.logout()
    text = page(client, "/alice/bert")
    assert 'href="/login"' in text and "mallory" not in text


def csrf_token(text: str) -> str:
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', text))
    tokens |= set(re.findall(r'"X-CSRFToken": "([^"]+)"', text))
    assert len(tokens) == 1  # the log-out form's and htmx's
    return tokens.pop()


def test_each_visitor_gets_a_csrf_token_of_their_own(repo, stranger):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(stranger)
    second.force_login(UserFactory(username="grace"))
    tokens = [csrf_token(page(c, "/alice/bert")) for c in (first, second)]
    assert tokens[0] != tokens[1]
    # Each token is good for its own visitor's log-out form (the page's only POST).
    for c, token in zip((first, second), tokens, strict=True):
        assert c.post("/logout", {"csrfmiddlewaretoken": token}).status_code == 302
    assert "@@hole:" not in page(first, "/alice/bert")


def test_an_anonymous_visitor_gets_no_csrf_token_or_cookie(client, repo):
    for _ in range(2):  # rendered, then from the cache
        response = client.get("/alice/bert")
        assert "csrf" not in response.text.lower() and "csrftoken" not in response.cookies


def test_a_message_shows_once_on_a_cached_page(client, repo, owner):
    client.force_login(owner)
    page(client, "/alice/bert")
    response = client.post(
        "/new", {"namespace": owner.namespace.pk, "name": "gpt", "visibility": "public"}
    )
    assert response.status_code == 302
    assert "Created alice/gpt." in page(client, "/alice/bert")
    assert "Created alice/gpt." not in page(client, "/alice/bert")


def test_the_time_since_the_revision_is_each_requests(client, repo):
    assert "days ago</time>" not in page(client, "/alice/bert")
    # Not what the cache is keyed on: only the time passing.
    three_days_ago = repo.head.created_at - timedelta(days=3)
    Revision.objects.filter(pk=repo.head_id).update(created_at=three_days_ago)
    assert ">3\xa0days ago</time>" in page(client, "/alice/bert")


def test_htmx_and_plain_requests_each_get_the_whole_page(client, repo):
    htmx = client.get("/alice/bert", headers={"HX-Request": "true"}).text
    plain = page(client, "/alice/bert")
    assert htmx.startswith("<!doctype html>") and plain.startswith("<!doctype html>")


# What the page costs -----------------------------------------------------------------------


def queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in captured]


def test_a_cached_page_reads_only_the_repository(client, repo, owner):
    cold = queries(client, "/alice/bert")
    warm = queries(client, "/alice/bert")
    # The repository (with its owner, head, and what the other apps' slots read with it, such
    # as which DOIs it has); the files only when not cached.
    assert len(warm) == 1
    assert len(cold) == 2 and any("repos_revisionfile" in q for q in cold)
    assert not any("repos_revisionfile" in q for q in warm)


def test_a_cached_page_adds_only_the_session_and_user_for_a_member(client, repo, owner):
    client.force_login(owner)
    queries(client, "/alice/bert")
    # The session and the user, then what a visitor costs.
    assert len(queries(client, "/alice/bert")) == 3

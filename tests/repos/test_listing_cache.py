"""The listings (/models, /datasets), cached whole per set of rows shown: every change to what
a row shows is visible on the next request, with each cache backend the site supports, and the
rows' ages ("3 hours ago") are each request's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from repos.models import Repo
from tests.factories import RepoFactory, commit_files

pytestmark = pytest.mark.usefixtures("cache_backend")


@pytest.fixture
def repos(owner):
    made = []
    for name in ["bert", "gpt", "t5"]:
        repo = RepoFactory(namespace=owner.namespace, name=name)
        commit_files(repo, owner, {"README.md": "---\nlicense: mit\n---\n# Card\n"})
        made.append(repo)
    return made


def names(client, **params) -> list[str]:
    """The repositories the listing shows, in its order."""
    response = client.get(reverse("repos:models"), params)
    assert response.status_code == 200
    return re.findall(r'class="repo-name" href="[^"]*">([^<]*)</a>', response.text)


def test_a_new_repository_shows_on_the_next_request(client, repos, owner):
    assert names(client) == ["alice/t5", "alice/gpt", "alice/bert"]
    RepoFactory(namespace=owner.namespace, name="llama")
    assert names(client) == ["alice/llama", "alice/t5", "alice/gpt", "alice/bert"]
    assert "4 models" in client.get(reverse("repos:models")).text


def test_a_new_commit_moves_its_repository_up_on_the_next_request(client, repos, owner):
    assert names(client)[0] == "alice/t5"
    commit_files(repos[0], owner, {"README.md": "---\nlicense: apache-2.0\n---\n# Card\n"})
    assert names(client) == ["alice/bert", "alice/t5", "alice/gpt"]
    item = client.get(reverse("repos:models")).text.split('class="repo-item"')[1]
    assert "alice/bert" in item and "apache-2.0" in item


def test_a_rename_shows_on_the_next_request(client, repos):
    names(client)
    repos[1].move(namespace=repos[1].namespace, name="gpt-2")
    text = client.get(reverse("repos:models")).text
    assert 'href="/alice/gpt-2">alice/gpt-2</a>' in text and "alice/gpt<" not in text
    # Even without a new updated_at (a bulk update)
    Repo.objects.filter(pk=repos[0].pk).update(name="bert-base")
    assert "alice/bert-base" in names(client)


def test_a_visibility_change_shows_on_the_next_request(client, repos, owner, stranger):
    client.force_login(owner)
    names(client)
    repos[2].set_private(True)
    text = client.get(reverse("repos:models")).text
    assert text.count('class="badge private"') == 1
    client.force_login(stranger)
    assert names(client) == ["alice/gpt", "alice/bert"]
    repos[2].set_private(False)
    assert names(client) == ["alice/t5", "alice/gpt", "alice/bert"]


def test_a_deletion_shows_on_the_next_request(client, repos):
    names(client)
    repos[1].delete()
    assert names(client) == ["alice/t5", "alice/bert"]
    assert "2 models" in client.get(reverse("repos:models")).text


def test_a_search_and_a_page_are_cached_apart(client, repos):
    assert names(client, search="gp") == ["alice/gpt"]
    assert names(client, search="t5") == ["alice/t5"]
    assert 'value="t5"' in client.get(reverse("repos:models"), {"search": "t5"}).text
    assert names(client) == ["alice/t5", "alice/gpt", "alice/bert"]


def test_the_ages_are_each_requests(client, repos):
    assert "Updated <time" in client.get(reverse("repos:models")).text
    Repo.objects.filter(pk=repos[2].pk).update(updated_at=timezone.now() - timedelta(hours=3))
    assert "3\xa0hours ago" in client.get(reverse("repos:models")).text
    # The same rows an hour later: the page is the cached one, its ages are not.
    later = timezone.now() + timedelta(hours=1)
    with pytest.MonkeyPatch.context() as patch:
        # The clock naturaltime reads, and the one its answers are kept by (for a second).
        patch.setattr("django.contrib.humanize.templatetags.humanize.datetime", _frozen(later))
        patch.setattr("hubsite.page_cache.time.time", later.timestamp)
        text = client.get(reverse("repos:models")).text
    assert "4\xa0hours ago" in text and "3\xa0hours ago" not in text


def _frozen(moment):
    import datetime

    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    return Frozen


def test_the_listing_takes_its_queries_cached_or_not(
    client, repos, owner, monkeypatch, django_assert_num_queries
):
    for _ in range(2):  # rendered, then from the cache
        with django_assert_num_queries(1):  # the first page, each row with the count
            assert names(client) == ["alice/t5", "alice/gpt", "alice/bert"]
    monkeypatch.setattr("repos.views.LISTING_PAGE_SIZE", 2)
    for _ in range(2):
        with django_assert_num_queries(2):  # count, page
            assert names(client, page=2) == ["alice/bert"]
    client.force_login(owner)
    for _ in range(2):  # session, user, the first page with its count
        with django_assert_num_queries(3):
            assert names(client) == ["alice/t5", "alice/gpt"]
    for _ in range(2):  # session, user, count, page
        with django_assert_num_queries(4):
            assert names(client, search="gp") == ["alice/gpt"]
        with django_assert_num_queries(4):  # through SQLite's trigram index
            assert names(client, search="bert") == ["alice/bert"]

from __future__ import annotations

import pytest
from django.urls import reverse

from repos.models import RepoType
from tests.factories import RepoFactory, commit_files


@pytest.mark.smoke
def test_home_shows_recent_public_repositories(client, repo, private_repo, dataset):
    response = client.get("/")
    assert response.status_code == 200
    assert b"alice/bert" in response.content
    assert b"alice/squad" in response.content
    assert b"alice/secret" not in response.content


def test_home_hides_private_repositories_even_from_their_owner(client, owner, private_repo):
    client.force_login(owner)
    assert b"alice/secret" not in client.get("/").content


def test_home_rejects_post(client, db):
    assert client.post("/").status_code == 405


def test_home_query_count_does_not_grow_with_repositories(
    client, owner, django_assert_max_num_queries
):
    for i in range(12):
        repo = RepoFactory(namespace=owner.namespace, type=RepoType.MODEL if i % 2 else "dataset")
        commit_files(repo, owner, {"README.md": f"---\nlicense: mit\n---\n# {i}"})
    client.force_login(owner)
    with django_assert_max_num_queries(5):
        response = client.get("/")
    assert response.status_code == 200


def test_listing_shows_models_only(client, repo, dataset):
    response = client.get(reverse("repos:models"))
    assert b"alice/bert" in response.content
    assert b"alice/squad" not in response.content
    response = client.get(reverse("repos:datasets"))
    assert b"alice/squad" in response.content
    assert b"alice/bert" not in response.content


def test_listing_searches_by_name(client, repo, owner):
    RepoFactory(namespace=owner.namespace, name="gpt-tiny")
    response = client.get(reverse("repos:models"), {"search": "GPT"})
    assert b"alice/gpt-tiny" in response.content
    assert b"alice/bert" not in response.content
    assert "1 model matching “GPT”" in response.text


def test_listing_hides_private_repositories_from_strangers(client, private_repo, stranger):
    assert b"alice/secret" not in client.get(reverse("repos:models")).content
    client.force_login(stranger)
    assert b"alice/secret" not in client.get(reverse("repos:models")).content


def test_listing_shows_private_repositories_to_those_who_can_see_them(
    client, private_repo, org_repo, reader
):
    client.force_login(reader)
    content = client.get(reverse("repos:models")).content
    assert b"wonderland/rabbit" in content
    assert b"alice/secret" not in content


def test_an_empty_listing_says_so(client, repo):
    assert "0 datasets" in client.get(reverse("repos:datasets")).text
    assert "0 datasets" in client.get(reverse("repos:datasets"), {"page": 3}).text


def test_listing_paginates(client, owner):
    for i in range(35):
        RepoFactory(namespace=owner.namespace, name=f"m{i:02d}")
    first = client.get(reverse("repos:models"))
    assert "Page 1 of 2" in first.text
    second = client.get(reverse("repos:models"), {"page": 2})
    assert second.content.count(b'class="repo-item"') == 5
    assert client.get(reverse("repos:models"), {"page": "junk"}).status_code == 200


def test_search_finds_the_repositories_of_the_owner_named_exactly(client, repo, org, org_repo):
    RepoFactory(namespace=org.namespace, name="hatter")
    response = client.get(reverse("repos:models"), {"search": "Wonderland"})
    assert b"wonderland/hatter" in response.content
    assert b"alice/bert" not in response.content
    assert b"wonderland/rabbit" not in response.content  # private


def test_search_matches_part_of_an_owner_name_only_with_a_slash(client, repo):
    assert b"alice/bert" not in client.get(reverse("repos:models"), {"search": "alic"}).content
    response = client.get(reverse("repos:models"), {"search": "alic/er"})
    assert b"alice/bert" in response.content


def test_listing_counts_repositories_up_to_its_limit(client, owner, monkeypatch):
    monkeypatch.setattr("repos.views.LISTING_COUNT_LIMIT", 5)
    monkeypatch.setattr("repos.views.LISTING_PAGE_SIZE", 2)
    for i in range(8):
        RepoFactory(namespace=owner.namespace, name=f"m{i}")
    response = client.get(reverse("repos:models"))
    assert "More than 5 models; search to narrow them down" in response.text
    assert "Page 1</span>" in response.text
    assert response.content.count(b'class="repo-item"') == 2
    few = client.get(reverse("repos:models"), {"search": "m1"})
    assert "1 model matching “m1”" in few.text


def test_the_last_page_of_a_capped_listing_ends_where_its_count_does(client, owner, monkeypatch):
    monkeypatch.setattr("repos.views.LISTING_COUNT_LIMIT", 4)
    monkeypatch.setattr("repos.views.LISTING_PAGE_SIZE", 3)
    for i in range(8):
        RepoFactory(namespace=owner.namespace, name=f"m{i}")
    response = client.get(reverse("repos:models"), {"page": "2"})
    assert "Page 2</span>" in response.text
    # The 4th and 5th of the 5 counted (up to 4 + 1), as a search's last page; not 3 more.
    assert response.content.count(b'class="repo-item"') == 2


def test_a_search_counts_its_matches_up_to_a_lower_limit(client, owner, monkeypatch):
    monkeypatch.setattr("repos.views.SEARCH_COUNT_LIMIT", 3)
    for i in range(5):
        RepoFactory(namespace=owner.namespace, name=f"bert-{i}")
    assert "5 models" in client.get(reverse("repos:models")).text
    response = client.get(reverse("repos:models"), {"search": "bert"})
    assert "More than 3 models matching “bert”; search to narrow them down" in response.text
    assert response.content.count(b'class="repo-item"') == 4  # the first page, up to 3 + 1


def test_listing_htmx_search_renders_only_the_results(client, repo):
    response = client.get(
        reverse("repos:models"), {"search": "bert"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b"alice/bert" in response.content
    assert b'id="results"' in response.content
    assert b"<html" not in response.content


def test_listing_rejects_post(client, db):
    assert client.post(reverse("repos:models")).status_code == 405


def test_listing_query_count_does_not_grow_with_repositories(
    client, owner, reader, org, django_assert_max_num_queries
):
    for i in range(15):
        repo = RepoFactory(
            namespace=org.namespace if i % 2 else owner.namespace, private=i % 3 == 0
        )
        commit_files(repo, owner, {"README.md": "---\ntags: [a, b]\nlicense: mit\n---\n"})
    client.force_login(reader)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("repos:models"))
    assert response.status_code == 200


@pytest.mark.parametrize("search", ["model", "wonderland", "wonder/mod"])
def test_search_query_count_does_not_grow_with_repositories(
    client, owner, reader, org, search, django_assert_max_num_queries
):
    for i in range(15):
        repo = RepoFactory(
            namespace=org.namespace if i % 2 else owner.namespace,
            name=f"model-{i}",
            private=i % 3 == 0,
        )
        commit_files(repo, owner, {"README.md": "---\nlicense: mit\n---\n"})
    client.force_login(reader)
    # session, user, count, page (the owner named as searched is a subquery of both)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("repos:models"), {"search": search})
    assert response.status_code == 200
    assert response.text.count('class="repo-item"') >= 5

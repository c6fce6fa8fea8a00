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


def test_listing_paginates(client, owner):
    for i in range(35):
        RepoFactory(namespace=owner.namespace, name=f"m{i:02d}")
    first = client.get(reverse("repos:models"))
    assert "Page 1 of 2" in first.text
    second = client.get(reverse("repos:models"), {"page": 2})
    assert second.content.count(b'class="repo-item"') == 5
    assert client.get(reverse("repos:models"), {"page": "junk"}).status_code == 200


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

from __future__ import annotations

import pytest

from repos.models import RepoType
from tests.factories import RepoFactory


@pytest.fixture
def repos(owner, org):
    return {
        "public_model": RepoFactory(namespace=owner.namespace, name="rabbit-hole"),
        "private_model": RepoFactory(namespace=owner.namespace, name="secret-tea", private=True),
        "dataset": RepoFactory(namespace=owner.namespace, name="cards", type=RepoType.DATASET),
        "org_public": RepoFactory(namespace=org.namespace, name="croquet"),
        "org_private": RepoFactory(namespace=org.namespace, name="tarts", private=True),
    }


@pytest.mark.smoke
def test_a_user_page_shows_name_and_public_repositories(client, owner, repos):
    response = client.get("/alice")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Alice Liddell" in html
    assert repos["public_model"].get_absolute_url() in html
    assert repos["dataset"].get_absolute_url() in html
    assert "secret-tea" not in html
    assert [r.name for r in response.context["models"]] == ["rabbit-hole"]
    assert [r.name for r in response.context["datasets"]] == ["cards"]


def test_the_owner_sees_private_repositories_with_a_badge(client, owner, repos):
    client.force_login(owner)

    html = client.get("/alice").content.decode()

    assert repos["private_model"].get_absolute_url() in html
    assert ">Private</span>" in html


def test_a_stranger_does_not_see_private_repositories(client, stranger, repos):
    client.force_login(stranger)

    html = client.get("/alice").content.decode()

    assert "secret-tea" not in html
    assert "Private" not in html


def test_an_organization_page_lists_members_with_roles(client, org, writer, reader, repos):
    response = client.get("/wonderland")

    html = response.content.decode()
    assert org.display_name in html
    for name in ("alice", "bob", "carol"):
        assert f"/{name}" in html
    assert ">Admin</span>" in html
    assert ">Write</span>" in html
    assert ">Read</span>" in html
    assert "croquet" in html
    assert "tarts" not in html
    assert "/organizations/wonderland/settings" not in html


def test_a_read_member_sees_private_organization_repositories(client, reader, repos):
    client.force_login(reader)

    html = client.get("/wonderland").content.decode()

    assert repos["org_private"].get_absolute_url() in html
    assert "/organizations/wonderland/settings" not in html


def test_an_admin_gets_a_settings_link(client, owner, org):
    client.force_login(owner)

    html = client.get("/wonderland").content.decode()

    assert "/organizations/wonderland/settings" in html


def test_a_user_page_lists_their_organizations(client, reader):
    html = client.get("/carol").content.decode()

    assert 'href="/wonderland"' in html


def test_an_unknown_name_is_404(client, db):
    assert client.get("/nobody-here").status_code == 404


def test_another_case_redirects_to_the_canonical_name(client, owner):
    response = client.get("/ALICE")

    assert response.status_code == 301
    assert response.url == "/alice"


def test_it_rejects_post(client, owner):
    assert client.post("/alice").status_code == 405


def test_the_page_takes_a_bounded_number_of_queries(
    client, owner, org, writer, reader, django_assert_max_num_queries
):
    for i in range(10):
        RepoFactory(namespace=org.namespace, name=f"model-{i}", private=i % 2 == 0)
        RepoFactory(namespace=owner.namespace, name=f"data-{i}", type=RepoType.DATASET)
    client.force_login(reader)

    # session, user, namespace, repositories, and members or organizations
    with django_assert_max_num_queries(5):
        assert client.get("/wonderland").status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get("/alice").status_code == 200

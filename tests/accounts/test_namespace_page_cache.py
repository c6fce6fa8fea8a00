"""A user's or organization's page, cached whole per set of rows shown: every change to what it
shows is visible on the next request, with each cache backend the site supports, and what
differs by visitor (private repositories, the edit and settings links) is never shared."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from accounts.models import Membership
from repos.models import Repo, RepoType
from tests.factories import MembershipFactory, OrganizationFactory, RepoFactory, commit_files

pytestmark = pytest.mark.usefixtures("cache_backend")


@pytest.fixture
def repos(owner, org):
    return {
        "bert": RepoFactory(namespace=owner.namespace, name="bert"),
        "cards": RepoFactory(namespace=owner.namespace, name="cards", type=RepoType.DATASET),
        "croquet": RepoFactory(namespace=org.namespace, name="croquet"),
    }


def text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.text


def names(client, url: str) -> list[str]:
    """The repositories the page shows, in its order."""
    return re.findall(r'class="repo-name" href="[^"]*">([^<]*)</a>', text(client, url))


def test_a_new_repository_shows_on_the_next_request(client, repos, owner, org):
    assert names(client, "/alice") == ["alice/bert", "alice/cards"]
    assert names(client, "/wonderland") == ["wonderland/croquet"]
    RepoFactory(namespace=owner.namespace, name="llama")
    RepoFactory(namespace=org.namespace, name="tarts", type=RepoType.DATASET)
    assert names(client, "/alice") == ["alice/llama", "alice/bert", "alice/cards"]
    assert names(client, "/wonderland") == [
        "wonderland/croquet",
        "wonderland/tarts",
    ]  # models first
    assert 'Models <span class="count">2</span>' in text(client, "/alice")


def test_a_rename_shows_on_the_next_request(client, repos):
    names(client, "/alice")
    repos["bert"].move(namespace=repos["bert"].namespace, name="bert-base")
    page = text(client, "/alice")
    assert 'href="/alice/bert-base">alice/bert-base</a>' in page and "alice/bert<" not in page
    # Even without a new updated_at (a bulk update)
    Repo.objects.filter(pk=repos["cards"].pk).update(name="deck")
    assert "alice/deck" in names(client, "/alice")


def test_a_move_to_another_namespace_shows_on_both_pages(client, repos, org):
    names(client, "/alice")
    names(client, "/wonderland")
    repos["bert"].move(namespace=org.namespace, name="bert")
    assert names(client, "/alice") == ["alice/cards"]
    assert names(client, "/wonderland") == ["wonderland/bert", "wonderland/croquet"]


def test_a_visibility_change_shows_on_the_next_request(client, repos, owner):
    client.force_login(owner)
    assert ">Private</span>" not in text(client, "/alice")
    repos["bert"].set_private(True)
    assert text(client, "/alice").count(">Private</span>") == 1
    client.logout()
    assert names(client, "/alice") == ["alice/cards"]
    repos["bert"].set_private(False)
    assert names(client, "/alice") == ["alice/bert", "alice/cards"]


def test_a_deletion_shows_on_the_next_request(client, repos):
    names(client, "/alice")
    repos["bert"].delete()
    assert names(client, "/alice") == ["alice/cards"]
    repos["cards"].remove(reason="Spam")
    assert "No datasets yet." in text(client, "/alice")


def test_a_new_commit_shows_its_date_on_the_next_request(client, repos, owner):
    old = datetime(2020, 1, 1, 12, tzinfo=UTC)
    Repo.objects.filter(pk=repos["bert"].pk).update(updated_at=old)
    assert "Updated 1 Jan 2020" in text(client, "/alice")
    commit_files(repos["bert"], owner, {"README.md": "# Bert\n"})
    assert "Updated 1 Jan 2020" not in text(client, "/alice")


def test_a_new_name_or_description_shows_on_the_next_request(client, owner, org):
    assert "Alice Liddell" in text(client, "/alice")
    owner.full_name = "Alice P. Liddell"
    owner.save()
    assert "Alice P. Liddell" in text(client, "/alice")
    text(client, "/wonderland")
    org.display_name, org.description = "Wonderland Inc.", "Tea at six."
    org.save()
    page = text(client, "/wonderland")
    assert "Wonderland Inc." in page and "Tea at six." in page


def test_a_membership_change_shows_on_the_next_request(client, org, writer, reader):
    assert ">Read</span>" in text(client, "/wonderland")
    assert 'href="/wonderland"' in text(client, "/carol")
    membership = Membership.objects.get(organization=org, user=reader)
    org.set_role(membership, Membership.Role.WRITE)
    page = text(client, "/wonderland")
    assert ">Read</span>" not in page and page.count(">Write</span>") == 2
    org.remove_member(membership)
    assert "/carol" not in text(client, "/wonderland")
    assert 'href="/wonderland"' not in text(client, "/carol")
    MembershipFactory(
        organization=OrganizationFactory(namespace__name="looking-glass"), user=reader
    )
    assert 'href="/looking-glass"' in text(client, "/carol")


def test_what_the_owner_sees_is_not_shown_to_others(client, owner, stranger, repos):
    client.force_login(owner)
    assert "Edit profile" in text(client, "/alice")
    client.force_login(stranger)  # shown the same repositories
    assert "Edit profile" not in text(client, "/alice")
    RepoFactory(namespace=owner.namespace, name="secret-tea", private=True)
    client.force_login(owner)
    assert "alice/secret-tea" in text(client, "/alice")
    client.force_login(stranger)
    assert "secret-tea" not in text(client, "/alice")
    client.logout()
    page = text(client, "/alice")
    assert "secret-tea" not in page and "Edit profile" not in page


def test_the_settings_link_is_only_for_admins(client, owner, reader, org):
    # Both see the same repositories (members see private ones), only the admin the link.
    RepoFactory(namespace=org.namespace, name="tarts", private=True)
    client.force_login(owner)
    assert "/organizations/wonderland/settings" in text(client, "/wonderland")
    client.force_login(reader)
    page = text(client, "/wonderland")
    assert "wonderland/tarts" in page and "/organizations/wonderland/settings" not in page


def test_the_page_takes_its_three_queries_cached_or_not(
    client, repos, owner, reader, django_assert_num_queries
):
    for url in ["/alice", "/wonderland"]:
        for _ in range(2):  # rendered, then from the cache
            with django_assert_num_queries(3):  # namespace, repositories, organizations or members
                text(client, url)
    client.force_login(reader)
    for url in ["/alice", "/wonderland"]:
        for _ in range(2):  # and the session and its user
            with django_assert_num_queries(5):
                text(client, url)

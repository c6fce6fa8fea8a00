from __future__ import annotations

import pytest

from repos.models import Repo, RepoLock, RepoRedirect
from tests.factories import RepoFactory


@pytest.mark.smoke
def test_the_owner_sees_every_section(client, repo, owner):
    client.force_login(owner)
    response = client.get("/alice/bert/settings")
    assert response.status_code == 200
    text = response.text
    for heading in ("Rename or move", "Change visibility", "Danger zone", "Delete this repository"):
        assert heading in text
    assert "Make private" in text
    assert text.index("Change visibility") < text.index("Danger zone")


def test_organization_admins_can_open_settings(client, org_repo, owner):
    client.force_login(owner)
    assert client.get("/wonderland/rabbit/settings").status_code == 200


def test_writers_and_readers_get_403(client, org_repo, writer, reader):
    for user in (writer, reader):
        client.force_login(user)
        assert client.get("/wonderland/rabbit/settings").status_code == 403
        for action in ("rename", "visibility", "delete"):
            response = client.post(f"/wonderland/rabbit/settings/{action}", {})
            assert response.status_code == 403


def test_strangers_get_403_on_public_and_404_on_private(client, repo, private_repo, stranger):
    client.force_login(stranger)
    assert client.get("/alice/bert/settings").status_code == 403
    assert client.get("/alice/secret/settings").status_code == 404
    for action in ("rename", "visibility", "delete"):
        assert client.post(f"/alice/bert/settings/{action}", {}).status_code == 403
        assert client.post(f"/alice/secret/settings/{action}", {}).status_code == 404


def test_anonymous_users_are_sent_to_log_in(client, repo):
    for url in ("/alice/bert/settings", "/alice/bert/settings/rename"):
        response = client.get(url) if url.endswith("settings") else client.post(url)
        assert response.status_code == 302
        assert response.url.startswith("/login")


def test_wrong_methods(client, repo, owner):
    client.force_login(owner)
    assert client.post("/alice/bert/settings").status_code == 405
    for action in ("rename", "visibility", "delete"):
        assert client.get(f"/alice/bert/settings/{action}").status_code == 405


# Rename ----------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_rename_moves_and_old_urls_redirect(client, repo, owner, org):
    client.force_login(owner)
    response = client.post(
        "/alice/bert/settings/rename", {"namespace": org.namespace_id, "name": "bert-large"}
    )
    assert response.status_code == 302
    assert response.url == "/wonderland/bert-large/settings"
    repo.refresh_from_db()
    assert repo.full_name == "wonderland/bert-large"
    assert "Renamed alice/bert to wonderland/bert-large" in client.get(response.url).text
    old = client.get("/alice/bert/commits")
    assert old.status_code == 301 and old.url == "/wonderland/bert-large/commits"


def test_rename_offers_only_administered_namespaces(client, org_repo, owner, writer):
    client.force_login(owner)
    form = client.get("/wonderland/rabbit/settings").context["rename_form"]
    assert [label for _, label in form.fields["namespace"].choices] == ["alice", "wonderland"]
    personal = RepoFactory(namespace=writer.namespace, name="mine")
    client.force_login(writer)
    response = client.post(
        "/bob/mine/settings/rename", {"namespace": org_repo.namespace_id, "name": "mine"}
    )
    assert response.status_code == 200
    assert response.context["rename_form"].errors["namespace"]
    personal.refresh_from_db()
    assert personal.full_name == "bob/mine"


def test_rename_explains_invalid_and_taken_names(client, repo, owner):
    RepoFactory(namespace=owner.namespace, name="Taken")
    client.force_login(owner)
    bad = client.post(
        "/alice/bert/settings/rename", {"namespace": owner.namespace_id, "name": "bad--name"}
    )
    assert "'--' and '..' are not allowed" in bad.context["rename_form"].errors["name"][0]
    taken = client.post(
        "/alice/bert/settings/rename", {"namespace": owner.namespace_id, "name": "taken"}
    )
    assert taken.status_code == 200
    assert "already has a model named" in taken.text
    repo.refresh_from_db()
    assert repo.name == "bert"
    assert not RepoRedirect.objects.exists()


def test_rename_changes_only_the_case(client, repo, owner):
    client.force_login(owner)
    response = client.post(
        "/alice/bert/settings/rename", {"namespace": owner.namespace_id, "name": "BERT"}
    )
    assert response.url == "/alice/BERT/settings"
    assert client.get("/alice/BERT").status_code == 200


# Visibility ------------------------------------------------------------------------------------


def test_make_private_and_public_again(client, repo, owner, stranger):
    client.force_login(owner)
    response = client.post("/alice/bert/settings/visibility", {"visibility": "private"})
    assert response.url == "/alice/bert/settings"
    repo.refresh_from_db()
    assert repo.private
    page = client.get(response.url).text
    assert "alice/bert is now private" in page and "Make public" in page
    client.force_login(stranger)
    assert client.get("/alice/bert").status_code == 404
    client.force_login(owner)
    client.post("/alice/bert/settings/visibility", {"visibility": "public"})
    repo.refresh_from_db()
    assert not repo.private


def test_visibility_needs_a_choice(client, repo, owner):
    client.force_login(owner)
    response = client.post("/alice/bert/settings/visibility", {"visibility": "secret"})
    assert response.status_code == 200
    assert "Choose public or private." in response.text
    repo.refresh_from_db()
    assert not repo.private


# Delete ----------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_delete_with_the_full_name(client, repo, owner):
    client.force_login(owner)
    response = client.post("/alice/bert/settings/delete", {"confirm": "alice/bert"})
    assert response.status_code == 302
    assert response.url == owner.namespace.get_absolute_url()
    assert not Repo.objects.filter(pk=repo.pk).exists()
    assert client.get("/alice/bert").status_code == 404


@pytest.mark.parametrize("typed", ["bert", "alice/Bert", "", "wonderland/bert"])
def test_delete_refuses_anything_but_the_full_name(client, repo, owner, typed):
    client.force_login(owner)
    response = client.post("/alice/bert/settings/delete", {"confirm": typed})
    assert response.status_code == 200
    assert response.context["delete_form"].errors["confirm"]
    assert Repo.objects.filter(pk=repo.pk).exists()


def test_delete_says_what_to_type(client, repo, owner):
    client.force_login(owner)
    assert "Type “alice/bert” to confirm" in client.get("/alice/bert/settings").text


# Locked repositories ---------------------------------------------------------------------------


@pytest.fixture
def locked(repo):
    RepoLock.objects.create(repo=repo, reason="DOI", holder="doi:10.5072/hub/0001")
    return repo


def test_a_locked_repository_explains_why_it_cannot_be_renamed(client, locked, owner):
    client.force_login(owner)
    response = client.post(
        "/alice/bert/settings/rename", {"namespace": owner.namespace_id, "name": "other"}
    )
    assert response.status_code == 200
    assert "locked by DOI" in response.text
    locked.refresh_from_db()
    assert locked.name == "bert"
    assert not RepoRedirect.objects.exists()


def test_a_locked_repository_explains_why_its_visibility_stays(client, locked, owner):
    client.force_login(owner)
    response = client.post("/alice/bert/settings/visibility", {"visibility": "private"})
    assert response.status_code == 200
    assert "locked by DOI" in response.text
    locked.refresh_from_db()
    assert not locked.private


def test_a_locked_repository_explains_why_it_cannot_be_deleted(client, locked, owner):
    client.force_login(owner)
    response = client.post("/alice/bert/settings/delete", {"confirm": "alice/bert"})
    assert response.status_code == 200
    assert "locked by DOI" in response.text
    assert Repo.objects.filter(pk=locked.pk).exists()


def test_a_locked_repository_shows_why_instead_of_the_forms(client, locked, owner):
    client.force_login(owner)
    text = client.get("/alice/bert/settings").text
    assert text.count("locked by DOI") == 3
    assert "it cannot be made private by its owner" in text
    assert f'href="/support/new?repo={locked.pk}&amp;action=delete"' in text
    assert "Delete this repository</button>" not in text and 'name="confirm"' not in text

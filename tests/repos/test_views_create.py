from __future__ import annotations

import pytest
from django.urls import reverse

from repos.models import Repo, RepoType
from tests.factories import RepoFactory

NEW = "/new"


@pytest.mark.smoke
def test_it_creates_an_empty_model_and_redirects_to_it(client, owner):
    client.force_login(owner)
    response = client.post(
        NEW, {"namespace": owner.namespace_id, "name": "bert", "visibility": "public"}
    )
    repo = Repo.objects.get(name="bert")
    assert response.status_code == 302
    assert response.url == "/alice/bert"
    assert repo.type == RepoType.MODEL and repo.private is False and repo.head is None
    page = client.get(response.url)
    assert "This model repository is empty" in page.text
    assert "Upload files" in page.text


def test_it_creates_a_private_dataset(client, owner):
    client.force_login(owner)
    response = client.post(
        "/new-dataset", {"namespace": owner.namespace_id, "name": "squad", "visibility": "private"}
    )
    assert response.url == "/datasets/alice/squad"
    repo = Repo.objects.get(name="squad")
    assert repo.type == RepoType.DATASET and repo.private


def test_the_form_has_labelled_fields(client, owner):
    client.force_login(owner)
    response = client.get(NEW)
    assert response.status_code == 200
    for label in ("Owner", "Name", "Visibility", "Public", "Private"):
        assert label in response.text
    assert response.context["form"]["namespace"].initial == owner.namespace_id


def test_it_offers_organizations_where_the_user_can_write(client, org, writer, reader):
    client.force_login(writer)
    choices = [label for _, label in client.get(NEW).context["form"].fields["namespace"].choices]
    assert choices == ["bob", "wonderland"]
    client.force_login(reader)
    choices = [label for _, label in client.get(NEW).context["form"].fields["namespace"].choices]
    assert choices == ["carol"]


def test_a_writer_creates_in_the_organization(client, org, writer):
    client.force_login(writer)
    response = client.post(
        NEW, {"namespace": org.namespace_id, "name": "rabbit", "visibility": "public"}
    )
    assert response.url == "/wonderland/rabbit"


def test_a_reader_cannot_create_in_the_organization(client, org, reader):
    client.force_login(reader)
    response = client.post(
        NEW, {"namespace": org.namespace_id, "name": "rabbit", "visibility": "public"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["namespace"]
    assert not Repo.objects.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a--b", "'--' and '..' are not allowed"),
        ("-ab", "cannot start or end"),
        ("has space", "Use only letters"),
        ("x" * 97, "at most 96"),
    ],
)
def test_it_explains_invalid_names(client, owner, name, message):
    client.force_login(owner)
    response = client.post(
        NEW, {"namespace": owner.namespace_id, "name": name, "visibility": "public"}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["name"])
    assert not Repo.objects.exists()


def test_it_refuses_a_name_taken_in_another_case(client, owner):
    RepoFactory(namespace=owner.namespace, name="Bert")
    client.force_login(owner)
    response = client.post(
        NEW, {"namespace": owner.namespace_id, "name": "bert", "visibility": "public"}
    )
    assert "already has a model named" in response.context["form"].errors["name"][0]
    assert Repo.objects.count() == 1


def test_the_same_name_can_be_a_model_and_a_dataset(client, owner):
    RepoFactory(namespace=owner.namespace, name="bert", type=RepoType.DATASET)
    client.force_login(owner)
    response = client.post(
        NEW, {"namespace": owner.namespace_id, "name": "bert", "visibility": "public"}
    )
    assert response.status_code == 302


def test_it_requires_login(client, db):
    response = client.get(NEW)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_it_rejects_put(client, owner):
    client.force_login(owner)
    assert client.put(NEW).status_code == 405


def test_an_empty_post_shows_what_is_missing(client, owner):
    client.force_login(owner)
    response = client.post(NEW, {})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]

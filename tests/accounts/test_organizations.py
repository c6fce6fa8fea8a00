from __future__ import annotations

import pytest

from accounts.models import Membership, Namespace, Organization

URL = "/organizations/new"


def test_it_requires_login(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url == "/login?next=/organizations/new"


def test_it_rejects_other_methods(client, owner):
    client.force_login(owner)

    assert client.put(URL).status_code == 405


def test_it_shows_labelled_fields(client, owner):
    client.force_login(owner)

    html = client.get(URL).content.decode()

    assert ">Name</label>" in html
    assert ">Full name</label>" in html


@pytest.mark.smoke
def test_it_creates_the_organization_with_the_creator_as_admin(client, owner):
    client.force_login(owner)

    response = client.post(URL, {"name": "Looking-Glass", "display_name": "Looking Glass Lab"})

    assert response.status_code == 302
    assert response.url == "/Looking-Glass"
    organization = Organization.objects.get(namespace__name="Looking-Glass")
    assert organization.display_name == "Looking Glass Lab"
    assert organization.namespace.kind == Namespace.Kind.ORGANIZATION
    assert organization.role_of(owner) == Membership.Role.ADMIN


def test_it_rejects_a_username_in_another_case(client, owner, stranger):
    client.force_login(owner)

    response = client.post(URL, {"name": "MALLORY", "display_name": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["That name is taken."]
    assert not Organization.objects.exists()


def test_it_rejects_reserved_and_malformed_names(client, owner):
    client.force_login(owner)

    reserved = client.post(URL, {"name": "models"}).context["form"].errors["name"]
    malformed = client.post(URL, {"name": "a/b"}).context["form"].errors["name"]

    assert reserved == ["'models' is reserved. Choose another name."]
    assert malformed == ["Use only letters, digits, '-', '_' and '.'."]

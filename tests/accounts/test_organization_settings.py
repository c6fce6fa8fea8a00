from __future__ import annotations

import pytest

from accounts.models import Membership
from tests.factories import UserFactory

URL = "/organizations/wonderland/settings"
MEMBERS = "/organizations/wonderland/settings/members"
HTMX = {"HTTP_HX_REQUEST": "true"}


def roles(org) -> dict[str, str]:
    return {m.user.username: m.role for m in org.memberships.select_related("user")}


# The settings page -----------------------------------------------------------------------------


@pytest.mark.smoke
def test_an_admin_sees_profile_and_members(client, owner, org, writer):
    client.force_login(owner)

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert ">Full name</label>" in html
    assert ">Description</label>" in html
    assert 'id="members"' in html
    assert f'action="{MEMBERS}/bob/role"' in html
    assert f'hx-post="{MEMBERS}/bob/remove"' in html


def test_an_admin_saves_the_profile(client, owner, org):
    client.force_login(owner)

    response = client.post(URL, {"display_name": "Wonderland Lab", "description": "Tea."})

    assert response.status_code == 302
    assert response.url == URL
    org.refresh_from_db()
    assert org.display_name == "Wonderland Lab"
    assert org.description == "Tea."


def test_it_requires_login(client, org):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith("/login?next=")


def test_it_rejects_other_methods(client, owner, org):
    client.force_login(owner)

    assert client.delete(URL).status_code == 405


@pytest.mark.parametrize("who", ["stranger", "writer", "reader"])
def test_it_refuses_non_admins(client, org, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"display_name": "Hacked"}).status_code == 403
    org.refresh_from_db()
    assert org.display_name != "Hacked"


def test_an_unknown_organization_is_404(client, owner):
    client.force_login(owner)

    assert client.get("/organizations/nowhere/settings").status_code == 404


def test_a_user_namespace_is_not_an_organization(client, owner, stranger):
    client.force_login(owner)

    assert client.get("/organizations/mallory/settings").status_code == 404


# Adding members ---------------------------------------------------------------------------------


def test_add_member_without_htmx_redirects_with_a_message(client, owner, org, stranger):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/add", {"username": "MALLORY", "role": "write"})

    assert response.status_code == 302
    assert response.url == URL
    assert roles(org)["mallory"] == "write"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Added mallory as write."]


def test_add_member_with_htmx_renders_the_members_section(client, owner, org, stranger):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/add", {"username": "mallory", "role": "read"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="settings-section" id="members"')
    assert "<html" not in html
    assert "Added mallory as read." in html
    assert f'action="{MEMBERS}/mallory/role"' in html
    assert roles(org)["mallory"] == "read"


@pytest.mark.parametrize("htmx", [False, True])
def test_add_member_reports_an_unknown_user(client, owner, org, htmx):
    client.force_login(owner)

    response = client.post(
        f"{MEMBERS}/add", {"username": "ghost", "role": "read"}, **(HTMX if htmx else {})
    )

    assert response.status_code == 200
    assert "There is no user named “ghost”." in response.content.decode()
    assert ("<html" in response.content.decode()) is not htmx


def test_add_member_reports_an_existing_member(client, owner, org, writer):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/add", {"username": "bob", "role": "admin"})

    assert "bob is already a member." in response.content.decode()
    assert roles(org)["bob"] == "write"


def test_add_member_rejects_an_unknown_role(client, owner, org, stranger):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/add", {"username": "mallory", "role": "owner"})

    assert "role" in response.context["add_form"].errors
    assert "mallory" not in roles(org)


def test_add_member_rejects_get(client, owner, org):
    client.force_login(owner)

    assert client.get(f"{MEMBERS}/add").status_code == 405


def test_add_member_requires_login(client, org):
    response = client.post(f"{MEMBERS}/add", {"username": "mallory", "role": "admin"})

    assert response.status_code == 302
    assert response.url.startswith("/login?next=")


@pytest.mark.parametrize("who", ["stranger", "writer", "reader"])
def test_add_member_refuses_non_admins(client, org, stranger, who, request):
    client.force_login(request.getfixturevalue(who))

    response = client.post(f"{MEMBERS}/add", {"username": "mallory", "role": "admin"})

    assert response.status_code == 403
    assert roles(org).get("mallory") is None


# Changing roles ---------------------------------------------------------------------------------


def test_change_role_without_htmx(client, owner, org, writer):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/bob/role", {"role": "admin"})

    assert response.status_code == 302
    assert response.url == URL
    assert roles(org)["bob"] == "admin"


def test_change_role_with_htmx(client, owner, org, writer):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/bob/role", {"role": "read"}, **HTMX)

    assert response.status_code == 200
    assert "bob is now read." in response.content.decode()
    assert roles(org)["bob"] == "read"


@pytest.mark.parametrize("htmx", [False, True])
def test_it_refuses_to_demote_the_last_admin(client, owner, org, writer, htmx):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/alice/role", {"role": "write"}, **(HTMX if htmx else {}))

    assert response.status_code == 200
    assert "alice is the only admin. Make someone else admin first." in (response.content.decode())
    assert roles(org)["alice"] == "admin"


def test_an_admin_may_step_down_when_another_admin_remains(client, owner, org, writer):
    org.set_role(org.memberships.get(user=writer), Membership.Role.ADMIN)
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/alice/role", {"role": "read"}, **HTMX)

    # No longer an admin: sent to the organization page rather than a settings page they lost.
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/wonderland"
    assert roles(org) == {"alice": "read", "bob": "admin"}


def test_change_role_rejects_an_unknown_role(client, owner, org, writer):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/bob/role", {"role": "owner"}, **HTMX)

    assert "Choose admin, write or read." in response.content.decode()
    assert roles(org)["bob"] == "write"


def test_change_role_of_a_non_member_is_404(client, owner, org, stranger):
    client.force_login(owner)

    assert client.post(f"{MEMBERS}/mallory/role", {"role": "read"}).status_code == 404


def test_change_role_rejects_get(client, owner, org, writer):
    client.force_login(owner)

    assert client.get(f"{MEMBERS}/bob/role").status_code == 405


def test_change_role_requires_login(client, org, writer):
    assert client.post(f"{MEMBERS}/bob/role", {"role": "admin"}).status_code == 302
    assert roles(org)["bob"] == "write"


@pytest.mark.parametrize("who", ["stranger", "writer", "reader"])
def test_change_role_refuses_non_admins(client, org, writer, reader, stranger, who, request):
    client.force_login(request.getfixturevalue(who))

    response = client.post(f"{MEMBERS}/bob/role", {"role": "admin"}, **HTMX)

    assert response.status_code == 403
    assert roles(org)["bob"] == "write"


# Removing members -------------------------------------------------------------------------------


def test_remove_member_without_htmx(client, owner, org, writer):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/bob/remove")

    assert response.status_code == 302
    assert response.url == URL
    assert "bob" not in roles(org)


def test_remove_member_with_htmx(client, owner, org, writer, reader):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/carol/remove", **HTMX)

    html = response.content.decode()
    assert "Removed carol from wonderland." in html
    assert f"{MEMBERS}/carol/role" not in html
    assert f"{MEMBERS}/bob/role" in html
    assert roles(org) == {"alice": "admin", "bob": "write"}


@pytest.mark.parametrize("htmx", [False, True])
def test_it_refuses_to_remove_the_last_admin(client, owner, org, writer, htmx):
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/alice/remove", **(HTMX if htmx else {}))

    assert response.status_code == 200
    assert "alice is the only admin and cannot be removed." in response.content.decode()
    assert roles(org)["alice"] == "admin"


def test_an_admin_leaving_without_htmx_goes_to_the_organization_page(client, owner, org):
    second = UserFactory(username="hatter")
    org.add_member(second, Membership.Role.ADMIN)
    client.force_login(owner)

    response = client.post(f"{MEMBERS}/alice/remove")

    assert response.url == "/wonderland"
    assert roles(org) == {"hatter": "admin"}


def test_remove_member_rejects_get(client, owner, org, writer):
    client.force_login(owner)

    assert client.get(f"{MEMBERS}/bob/remove").status_code == 405


def test_remove_member_requires_login(client, org, writer):
    assert client.post(f"{MEMBERS}/bob/remove").status_code == 302
    assert "bob" in roles(org)


@pytest.mark.parametrize("who", ["stranger", "writer", "reader"])
def test_remove_member_refuses_non_admins(client, org, writer, reader, stranger, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.post(f"{MEMBERS}/carol/remove").status_code == 403
    assert "carol" in roles(org)

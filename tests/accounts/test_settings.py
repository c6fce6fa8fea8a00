from __future__ import annotations

import pytest

from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "a brand new passphrase 42"


def test_profile_requires_login(client, db):
    response = client.get("/settings/profile")

    assert response.status_code == 302
    assert response.url == "/login?next=/settings/profile"


def test_profile_shows_the_form_and_the_doi_explanation(client, owner):
    client.force_login(owner)

    response = client.get("/settings/profile")

    html = response.content.decode()
    assert ">Full name</label>" in html
    assert ">Email</label>" in html
    assert "DataCite" in html
    assert 'aria-current="page">Profile</a>' in html
    assert 'href="/settings/password"' in html


@pytest.mark.smoke
def test_profile_saves_full_name_and_email(client, owner):
    client.force_login(owner)

    response = client.post(
        "/settings/profile", {"full_name": "Alice P. Liddell", "email": "alice@wonder.land"}
    )

    assert response.status_code == 302
    assert response.url == "/settings/profile"
    owner.refresh_from_db()
    assert owner.full_name == "Alice P. Liddell"
    assert owner.email == "alice@wonder.land"


def test_profile_rejects_an_email_of_another_user_in_any_case(client, owner):
    UserFactory(username="dodo", email="dodo@example.org")
    client.force_login(owner)

    response = client.post("/settings/profile", {"full_name": "Alice", "email": "DODO@example.org"})

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["That email is already registered."]
    owner.refresh_from_db()
    assert owner.full_name == "Alice Liddell"


def test_profile_keeps_own_email(client, owner):
    client.force_login(owner)

    response = client.post("/settings/profile", {"full_name": "Alice", "email": owner.email})

    assert response.status_code == 302


def test_profile_rejects_an_invalid_email(client, owner):
    client.force_login(owner)

    response = client.post("/settings/profile", {"full_name": "Alice", "email": "not-an-email"})

    assert "email" in response.context["form"].errors


def test_password_requires_login(client, db):
    assert client.post("/settings/password").url == "/login?next=/settings/password"


def test_password_changes_and_keeps_the_session(client, owner):
    client.force_login(owner)

    response = client.post(
        "/settings/password",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    # Still logged in: the session hash was updated.
    assert client.get("/settings/password").status_code == 200


def test_password_rejects_a_wrong_old_password(client, owner):
    client.force_login(owner)

    response = client.post(
        "/settings/password",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert "old_password" in response.context["form"].errors
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_password_rejects_a_mismatch(client, owner):
    client.force_login(owner)

    response = client.post(
        "/settings/password",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": "other"},
    )

    assert "new_password2" in response.context["form"].errors


def test_password_page_has_labelled_fields(client, owner):
    client.force_login(owner)

    html = client.get("/settings/password").content.decode()

    assert ">Old password</label>" in html
    assert 'aria-current="page">Password</a>' in html


@pytest.mark.parametrize("url", ["/settings/profile", "/settings/password"])
def test_settings_reject_other_methods(client, owner, url):
    client.force_login(owner)

    assert client.delete(url).status_code == 405

from __future__ import annotations

import pytest

from tests.factories import PASSWORD


@pytest.mark.smoke
def test_it_logs_in_and_goes_home(client, owner):
    response = client.post("/login", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == "/"
    assert int(client.session["_auth_user_id"]) == owner.pk


def test_it_shows_labelled_fields_and_a_sign_up_link(client, db):
    html = client.get("/login").content.decode()

    assert ">Username</label>" in html
    assert ">Password</label>" in html
    assert 'href="/join"' in html


def test_it_follows_next(client, owner):
    response = client.post(
        "/login?next=/settings/profile", {"username": "alice", "password": PASSWORD}
    )

    assert response.url == "/settings/profile"


def test_it_rejects_a_wrong_password(client, owner):
    response = client.post("/login", {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_redirects_logged_in_users(client, owner):
    client.force_login(owner)

    assert client.get("/login").url == "/"


def test_logout_logs_out_on_post(client, owner):
    client.force_login(owner)

    response = client.post("/logout")

    assert response.status_code == 302
    assert response.url == "/"
    assert "_auth_user_id" not in client.session


def test_logout_rejects_get(client, owner):
    client.force_login(owner)

    assert client.get("/logout").status_code == 405
    assert "_auth_user_id" in client.session


def test_the_header_menu_has_a_log_out_form(client, owner, settings):
    client.force_login(owner)

    html = client.get("/settings/profile").content.decode()

    assert '<form method="post" action="/logout">' in html


def test_the_username_is_case_insensitive(client, owner):
    client.post("/login", {"username": "ALICE", "password": PASSWORD})

    assert int(client.session["_auth_user_id"]) == owner.pk

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from accounts.models import Namespace, NamespaceTaken, Signup, User
from hubsite.quotas import try_again
from tests.factories import PASSWORD, OrganizationFactory

URL = "/join"


def _data(**overrides) -> dict[str, str]:
    data = {
        "username": "newbie",
        "email": "newbie@example.org",
        "full_name": "New Bie",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    return {**data, **overrides}


@pytest.mark.smoke
def test_it_creates_the_user_logs_in_and_goes_home(client, db):
    response = client.post(URL, _data())

    assert response.status_code == 302
    assert response.url == "/"
    user = User.objects.get(username="newbie")
    assert user.full_name == "New Bie"
    assert user.check_password(PASSWORD)
    assert user.namespace.name == "newbie"
    assert user.namespace.kind == Namespace.Kind.USER
    assert int(client.session["_auth_user_id"]) == user.pk
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Welcome, New Bie! Your account is ready."]


def test_it_shows_the_form_with_labels(client, db):
    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Username", "Email", "Full name", "Password", "Password (again)"):
        assert f">{label}</label>" in html
    assert 'href="/login"' in html


def test_it_redirects_logged_in_users_home(client, owner):
    client.force_login(owner)

    assert client.get(URL).url == "/"
    assert client.post(URL, _data()).url == "/"
    assert not User.objects.filter(username="newbie").exists()


def test_it_rejects_a_username_taken_in_another_case(client, owner):
    response = client.post(URL, _data(username="ALICE"))

    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["That name is taken."]
    assert not User.objects.filter(email="newbie@example.org").exists()


def test_it_rejects_an_organization_name(client, db):
    OrganizationFactory(namespace__name="Wonderland")

    response = client.post(URL, _data(username="wonderland"))

    assert response.context["form"].errors["username"] == ["That name is taken."]


def test_it_rejects_a_reserved_name(client, db):
    response = client.post(URL, _data(username="Settings"))

    assert response.context["form"].errors["username"] == [
        "'Settings' is reserved. Choose another name."
    ]


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("has space", "Use only letters, digits, '-', '_' and '.'."),
        ("a--b", "'--' and '..' are not allowed in a name."),
        ("-edge", "A name cannot start or end with '-' or '.'."),
    ],
)
def test_it_rejects_bad_names(client, db, username, message):
    response = client.post(URL, _data(username=username))

    assert message in response.context["form"].errors["username"]
    assert escape(message) in response.content.decode()


def test_it_rejects_mismatched_passwords(client, db):
    response = client.post(URL, _data(password2="something else entirely"))

    assert response.context["form"].errors["password2"] == [
        "The two password fields didn\u2019t match."
    ]
    assert not User.objects.exists()


def test_it_rejects_a_weak_password(client, db):
    response = client.post(URL, _data(password1="12345678", password2="12345678"))

    assert "This password is entirely numeric." in response.context["form"].errors["password2"]


def test_it_rejects_an_email_registered_in_another_case(client, owner):
    response = client.post(URL, _data(email=owner.email.upper()))

    assert response.context["form"].errors["email"] == ["That email is already registered."]


def test_it_reports_a_lost_race_for_the_name_as_a_field_error(client, db, monkeypatch):
    def lose_race(*args, **kwargs):
        raise NamespaceTaken("newbie")

    monkeypatch.setattr(Namespace, "claim", lose_race)

    response = client.post(URL, _data())

    assert response.status_code == 200
    assert response.context["form"].errors["username"] == ["That name is taken."]
    assert "_auth_user_id" not in client.session


def test_it_rejects_other_methods(client, db):
    assert client.put(URL).status_code == 405


# Sign-up throttle ---------------------------------------------------------------------------------


def test_it_pauses_sign_ups_from_an_address_that_created_many_and_says_when(client, db, settings):
    settings.SIGNUPS_PER_IP_PER_HOUR = 2
    for n in range(2):
        other = client.__class__()
        response = other.post(URL, _data(username=f"bot{n}", email=f"bot{n}@example.org"))
        assert response.status_code == 302
    response = client.post(URL, _data())
    assert response.status_code == 429
    html = response.content.decode()
    first = Signup.objects.order_by("created_at").first().created_at
    assert "2 accounts were created from your network in the last hour" in html
    assert escape(try_again(first + timedelta(hours=1))) in html
    # Nothing typed is lost but the passwords; no account was made.
    assert 'value="newbie@example.org"' in html and 'value="New Bie"' in html
    assert not User.objects.filter(username="newbie").exists()
    # Another address may still sign up.
    response = client.post(URL, _data(), REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 302


def test_the_pause_ends_an_hour_after_the_sign_ups_and_old_addresses_are_forgotten(
    client, db, settings
):
    settings.SIGNUPS_PER_IP_PER_HOUR = 1
    client.__class__().post(URL, _data(username="bot", email="bot@example.org"))
    Signup.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert client.post(URL, _data()).status_code == 302
    assert list(Signup.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]

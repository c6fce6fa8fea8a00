"""Settings → Access tokens: create (the secret shown once), list and revoke."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection

from accounts.models import AccessToken, InvalidToken, User

URL = "/settings/tokens"
HTMX = {"HTTP_HX_REQUEST": "true"}


def _create(client, name="laptop", scope="read", **extra):
    return client.post(URL, {"name": name, "scope": scope}, **extra)


@pytest.mark.smoke
def test_it_creates_a_token_and_shows_its_secret_once(client, owner):
    client.force_login(owner)

    response = _create(client, scope="write")

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("hub_") and len(secret) > 40
    assert secret in response.content.decode()
    token = AccessToken.objects.get()
    assert (token.user, token.name, token.scope) == (owner, "laptop", "write")
    assert client.get(URL).content.decode().count(secret) == 0
    assert token.prefix in client.get(URL).content.decode()


def test_it_stores_only_a_digest_of_the_secret(client, owner):
    client.force_login(owner)
    secret = _create(client).context["secret"]
    token = AccessToken.objects.get()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AccessToken._meta.db_table}")  # noqa: S608
        assert not any(secret in str(value) for row in cursor.fetchall() for value in row)


def test_with_htmx_it_answers_with_the_tokens_section(client, owner):
    client.force_login(owner)
    response = _create(client, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="settings-section" id="tokens"')
    assert response.context["secret"] in html
    assert "<html" not in html


def test_it_lists_only_the_users_own_tokens(client, owner, stranger):
    AccessToken.issue(user=stranger, name="mallorys", scope="write")
    AccessToken.issue(user=owner, name="alices", scope="read")
    client.force_login(owner)
    html = client.get(URL).content.decode()
    assert "alices" in html and "mallorys" not in html


@pytest.mark.parametrize(
    ("data", "field"),
    [({"name": "", "scope": "read"}, "name"), ({"name": "x", "scope": "admin"}, "scope")],
)
def test_it_refuses_a_bad_form_and_creates_nothing(client, owner, data, field):
    client.force_login(owner)
    response = client.post(URL, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "secret" not in response.context
    assert not AccessToken.objects.exists()


def test_it_requires_login(client, db):
    response = client.post(URL, {"name": "x", "scope": "read"})
    assert response.status_code == 302
    assert response.url.startswith("/login?next=")
    assert not AccessToken.objects.exists()


def test_it_revokes_a_token(client, owner):
    token, _ = AccessToken.issue(user=owner, name="laptop", scope="read")
    client.force_login(owner)

    response = client.post(f"{URL}/{token.pk}/revoke")

    assert response.status_code == 302
    assert response.url == URL
    token.refresh_from_db()
    assert token.revoked_at is not None
    page = client.get(URL).content.decode()
    assert "Revoked laptop" in page  # the message
    assert f'action="{URL}/{token.pk}/revoke"' not in page


def test_with_htmx_revoking_answers_with_the_section(client, owner):
    token, _ = AccessToken.issue(user=owner, name="laptop", scope="read")
    client.force_login(owner)
    response = client.post(f"{URL}/{token.pk}/revoke", **HTMX)
    assert response.status_code == 200
    assert "Revoked laptop" in response.content.decode()
    assert AccessToken.objects.active().count() == 0


def test_nobody_revokes_the_token_of_another(client, owner, stranger):
    token, _ = AccessToken.issue(user=owner, name="laptop", scope="read")
    client.force_login(stranger)
    assert client.post(f"{URL}/{token.pk}/revoke").status_code == 404
    assert AccessToken.objects.active().count() == 1


def test_revoking_takes_a_post(client, owner):
    token, _ = AccessToken.issue(user=owner, name="laptop", scope="read")
    client.force_login(owner)
    assert client.get(f"{URL}/{token.pk}/revoke").status_code == 405


def test_the_page_is_reached_in_few_queries(client, owner, django_assert_max_num_queries):
    for n in range(5):
        AccessToken.issue(user=owner, name=f"token {n}", scope="read")
    client.force_login(owner)
    with django_assert_max_num_queries(4):
        assert client.get(URL).status_code == 200


def test_a_deactivated_users_token_stops_working(owner):
    _, secret = AccessToken.issue(user=owner, name="laptop", scope="read")
    assert AccessToken.objects.authenticate(secret).user == owner
    User.objects.filter(pk=owner.pk).update(is_active=False)
    with pytest.raises(InvalidToken):
        AccessToken.objects.authenticate(secret)

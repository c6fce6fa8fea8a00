"""Bearer tokens open the API and nothing else; the session never opens the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AccessToken

WHOAMI = "/api/whoami-v2"


@pytest.fixture
def secret(owner) -> str:
    return AccessToken.issue(user=owner, name="ci", scope="write")[1]


def test_a_session_does_not_authenticate_the_api(client, owner):
    client.force_login(owner)
    response = client.get(WHOAMI)
    assert response.status_code == 401
    assert response.json() == {"error": response.json()["error"]}
    assert response["X-Error-Message"] == "Invalid credentials in Authorization header"


def test_a_token_does_not_open_site_pages(client, secret):
    response = client.get(reverse("accounts:profile"), HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_api_takes_a_post_without_csrf_token(owner, secret):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/api/no-such-endpoint", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    # Refused for being unknown, not for CSRF (which would be an HTML 403).
    assert response.status_code == 404
    assert response.json() == {"error": "POST /api/no-such-endpoint is not supported by this hub."}


def test_it_refuses_another_scheme_than_bearer(client, secret):
    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Basic {secret}")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["error"]


def test_it_answers_a_wrong_method_in_the_error_shape(client, secret):
    response = client.post(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {"error": "POST is not supported here; use GET, HEAD."}


def test_the_header_spells_the_message_in_ascii(client, owner, secret):
    token = AccessToken.objects.get()
    token.revoke()
    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = response.json()["error"]
    assert "Settings → Access tokens" in body
    assert response["X-Error-Message"] == "Invalid credentials in Authorization header"


def test_the_last_used_time_is_noted_once_a_minute_at_most(
    client, secret, django_assert_num_queries
):
    client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {secret}")
    first = AccessToken.objects.get().last_used_at
    # token, memberships; no update of the time within the minute
    with django_assert_num_queries(2):
        client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert AccessToken.objects.get().last_used_at == first

"""Log-in throttling (django-axes): repeated failures pause log-in from that address and for that
username; the log-in page says until when; staff can lift the pause in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.utils import timezone

from accounts.lockout import client_ip
from hubsite.quotas import try_again
from tests.factories import PASSWORD

LIMIT = 3


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def log_in(client, username="alice", password=PASSWORD, address="127.0.0.1"):
    return client.post("/login", {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.smoke
def test_it_pauses_log_in_after_repeated_failures_and_says_when(client, owner):
    for _ in range(LIMIT - 1):
        assert log_in(client, password="wrong").status_code == 200
    response = log_in(client, password="wrong")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed log-ins" in html
    latest = AccessAttempt.objects.get().attempt_time
    assert try_again(latest + timedelta(minutes=15)) in html
    # The page is the log-in page, the username kept, not a bare error.
    assert "<h1>Log in</h1>" in html and 'value="alice"' in html
    # Even the right password does not get in meanwhile, and does not extend the pause.
    response = log_in(client)
    assert response.status_code == 429
    assert not logged_in(client)
    assert AccessAttempt.objects.get().attempt_time == latest


def test_a_log_in_to_the_attackers_own_account_does_not_reset_the_count(client, owner, stranger):
    for _ in range(LIMIT - 1):
        log_in(client, password="wrong")
    assert log_in(client, "mallory").status_code == 302
    client.logout()
    assert log_in(client, password="wrong").status_code == 429
    assert log_in(client).status_code == 429
    assert not logged_in(client)


def test_a_username_tried_from_many_addresses_is_paused_in_any_case(client, owner):
    for n, name in enumerate(["alice", "Alice", "ALICE"]):
        log_in(client, name, password="wrong", address=f"192.0.2.{n + 1}")
    assert log_in(client, address="198.51.100.7").status_code == 429
    assert not logged_in(client)


def test_other_people_can_still_log_in(client, owner, stranger):
    for _ in range(LIMIT):
        log_in(client, password="wrong")
    assert log_in(client, "mallory", address="203.0.113.9").status_code == 302


def test_the_pause_ends_after_the_cool_off(client, owner):
    for _ in range(LIMIT):
        log_in(client, password="wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(client).status_code == 302
    assert logged_in(client)


def test_support_staff_lift_the_pause_in_the_admin(client, owner, support_staff):
    for _ in range(LIMIT):
        log_in(client, password="wrong")
    attempt = AccessAttempt.objects.get()
    admin = client.__class__()
    admin.force_login(support_staff)
    changelist = admin.get("/admin/axes/accessattempt/")
    assert changelist.status_code == 200
    assert "alice" in changelist.content.decode()
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert log_in(client).status_code == 302
    assert logged_in(client)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.1"),  # no proxy: the header is the client's own word
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "203.0.113.66, 198.51.100.1", "198.51.100.1"),  # a forged entry on the left
        (2, "203.0.113.66, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        (1, "", "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_the_client_address_counts_trusted_proxies_from_the_right(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected

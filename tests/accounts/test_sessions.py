"""accounts.sessions: Django's database sessions, read with SQL compiled once."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.backends import ModelBackend
from accounts.sessions import SessionStore


def test_it_reads_a_stored_session_and_nothing_else(db, django_assert_num_queries):
    stored = SessionStore()
    stored["answer"] = 42
    stored.save()
    with django_assert_num_queries(1):
        assert SessionStore(stored.session_key)["answer"] == 42
    unknown = SessionStore("x" * 32)
    assert unknown.get("answer") is None and unknown.session_key is None


def test_an_expired_session_is_not_read(db):
    stored = SessionStore()
    stored["answer"] = 42
    stored.save()
    past = timezone.now() - timedelta(seconds=1)
    Session.objects.filter(session_key=stored.session_key).update(expire_date=past)
    assert SessionStore(stored.session_key).get("answer") is None


def test_a_logged_in_user_stays_logged_in_until_logging_out(client, owner):
    client.force_login(owner)
    assert "<span>alice</span>" in client.get("/").text
    client.post("/logout")
    assert "<span>alice</span>" not in client.get("/").text


def test_the_backend_reads_the_user_in_one_query_and_refuses_an_inactive_one(
    db, owner, django_assert_num_queries
):
    backend = ModelBackend()
    with django_assert_num_queries(1):
        assert backend.get_user(owner.pk) == owner
    assert backend.get_user(owner.pk + 1000) is None
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert backend.get_user(owner.pk) is None

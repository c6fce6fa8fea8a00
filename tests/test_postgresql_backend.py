"""hubsite.postgresql: Django's health check of a reused connection, made only when the
connection sat unused, and the planner's settings, against the real server (PostgreSQL only)."""

from __future__ import annotations

import psycopg
import pytest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def checks(monkeypatch) -> list[int]:
    """The health checks made, on a connection kept between requests as in production."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's connections")
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()  # the next query connects with these settings
    made = []
    usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: made.append(1) or usable())
    yield made
    connection.close()


def request() -> int:
    """One request's worth of database use, between Django's request signals: the server's
    process id of the connection that served it."""
    request_started.send(sender=None)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    finally:
        request_finished.send(sender=None)


def sit_unused() -> None:
    connection.served_at -= 2  # as if the last request were two seconds ago


def terminate(pid: int) -> None:
    """What a server restart does to a connection: the server ends it."""
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_that_just_served_a_request_is_not_checked(checks):
    first = request()
    assert [request() for _ in range(3)] == [first] * 3
    assert checks == []


def test_a_connection_that_sat_unused_is_checked_first(checks):
    first = request()
    sit_unused()
    assert request() == first
    assert checks == [1]
    assert request() == first and checks == [1]  # used just now: not again


def test_a_connection_that_broke_while_unused_is_replaced_without_failing_the_request(checks):
    first = request()
    terminate(first)
    sit_unused()
    second = request()
    assert second != first and checks == [1]


def test_one_that_broke_just_after_use_fails_one_request_and_is_then_replaced(checks):
    first = request()
    terminate(first)
    with pytest.raises(OperationalError):
        request()
    assert request() not in (first, None)


def test_every_connection_plans_without_memoize(checks):
    pids = set()
    for _ in range(2):  # each connection is set up anew
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_memoize'), pg_backend_pid()")
            setting, pid = cursor.fetchone()
        assert setting == "off"
        pids.add(pid)
        connection.close()
    assert len(pids) == 2

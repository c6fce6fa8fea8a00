"""A Redis (``CACHE_URL``) that stops answering (``hubsite/redis_cache.py``): the pages go on
showing what they show, without the cache; the staff desk says so; and once Redis answers
again the cache is used again."""

from __future__ import annotations

import logging
import socket
import threading

import pytest
from django.core.cache import cache
from django.urls import reverse

from doi.models import DoiUsageDay
from hubsite import redis_cache
from tests import processes
from tests.conftest import start_redis
from tests.doi.test_own_usage import BROWSER
from tests.doi.test_repo_header import page, tag


@pytest.fixture(autouse=True)
def _fresh_outage(monkeypatch):
    monkeypatch.setattr(redis_cache, "_outage", redis_cache._Outage())


@pytest.fixture
def own_redis(tmp_path, settings):
    """The site's cache in a redis-server of this test's own, which it may stop and start."""

    class Server:
        port = processes.free_port()
        process = None

        def start(self):
            self.process = start_redis(tmp_path, self.port)

        def stop(self):
            self.process.terminate()
            self.process.wait(10)

    server = Server()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "hubsite.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
            "KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        }
    }
    yield server
    if server.process.poll() is None:
        server.stop()


def test_the_pages_are_served_without_redis_and_with_it_again(
    client, repo, mint, datacite, own_redis, caplog, monkeypatch
):
    doi = mint(repo)
    html = page(client, repo)
    assert cache.get_many([]) == {} and cache.has_key("any") is False  # Redis answers
    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="hubsite.redis_cache"):
        for _ in range(3):
            assert page(client, repo) == html
        landing = client.get(f"/doi/{doi.doi}", HTTP_USER_AGENT=BROWSER)
        assert landing.status_code == 302
        bibtex = client.get(f"/doi/{doi.doi}", HTTP_ACCEPT="application/x-bibtex")
        assert bibtex.status_code == 200 and doi.doi in bibtex.text
    # One line for the outage, not one for every request, with what went wrong.
    [failed] = [r for r in caplog.records if r.name == "hubsite.redis_cache"]
    assert failed.levelname == "ERROR" and "Redis (CACHE_URL) does not answer" in failed.message
    assert "Connection refused" in failed.message
    # A count that cannot be checked against the double-click memory is not made.
    assert not DoiUsageDay.objects.filter(doi=doi).exists()

    monkeypatch.setattr(redis_cache, "RETRY_SECONDS", 0)
    own_redis.start()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hubsite.redis_cache"):
        page(client, repo)  # the first request after the retry time uses Redis again
    [back] = [r for r in caplog.records if r.name == "hubsite.redis_cache"]
    assert back.levelname == "WARNING" and "answers again" in back.message
    assert tag(page(client, repo)) == tag(html)
    assert client.get(f"/doi/{doi.doi}", HTTP_USER_AGENT=BROWSER).status_code == 302
    assert DoiUsageDay.objects.get(doi=doi).total_investigations == 1


def test_a_redis_that_hangs_costs_one_request_a_timeout_not_every_request(client, repo, settings):
    """A listener that accepts and never answers: the first request waits for the socket's
    timeout and the process then leaves Redis alone until its retry time."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    settings.CACHES = {
        "default": {
            "BACKEND": "hubsite.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{listener.getsockname()[1]}/0",
            "KEY_PREFIX": "hang",
        }
    }
    try:
        for _ in range(4):
            assert client.get(repo.get_absolute_url()).status_code == 200
        assert len(accepted) == 1
        assert "Timeout" in redis_cache._outage.error
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


def test_the_staff_desk_says_when_redis_does_not_answer(admin_client, own_redis, settings):
    desk = reverse("admin:index")
    assert "does not answer" not in admin_client.get(desk).text
    own_redis.stop()
    html = admin_client.get(desk).text
    assert "Redis, the shared cache (<code>CACHE_URL</code>), does not answer" in html
    assert "Connection refused" in html and 'role="alert"' in html
    since, _ = redis_cache.outage()
    assert f">{since:%H:%M} UTC</time> (" in html  # the clock time, then how long ago
    assert "Nothing else is waiting for staff." in html  # the alert is one thing to see to
    own_redis.start()
    assert "does not answer" not in admin_client.get(desk).text


def test_with_each_process_caching_in_its_own_memory_the_desk_says_nothing(admin_client):
    assert redis_cache.outage() is None
    assert "does not answer" not in admin_client.get(reverse("admin:index")).text

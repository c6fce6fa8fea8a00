"""Django's Redis cache (``CACHE_URL``), failing as a cache should: while Redis does not answer,
every read misses and every write is dropped, so that pages are rendered from the database
(more slowly; never wrongly, as every key names what its piece shows: ``hubsite.caching``)
instead of every request answering 500.

A process that met a failure leaves Redis alone for ``RETRY_SECONDS``, so that a Redis that
hangs costs one request of each process a timeout, not every request. The first failure of an
outage is logged; the staff desk says whether Redis answers (``outage``). The usage counts
(``doi.usage``) count nothing meanwhile: their double-click and session memory is in the cache,
and a count that cannot be checked is not made.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import datetime

from django.core.cache import caches
from django.core.cache.backends import redis as django_redis
from django.utils import timezone
from redis import RedisError

logger = logging.getLogger(__name__)

# How long a process serves without Redis after a failure before it tries again.
RETRY_SECONDS = 5.0
# A Redis on the same network answers in a millisecond; past this it counts as not answering.
SOCKET_TIMEOUT_SECONDS = 0.5


class _Outage:
    """This process's view of Redis: since when it has not answered (None: it does), why, and
    when it last failed. One per process, shared by its threads' cache connections."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: datetime | None = None
        self.error = ""
        self._failed_at = 0.0  # time.monotonic() of the latest failure

    def skip(self) -> bool:
        return self.since is not None and time.monotonic() < self._failed_at + RETRY_SECONDS

    def failed(self, error: RedisError) -> None:
        with self._lock:
            first = self.since is None
            if first:
                self.since = timezone.now()
                self.error = str(error).rstrip(".") or type(error).__name__
            self._failed_at = time.monotonic()
        if first:
            logger.error(
                "Redis (CACHE_URL) does not answer (%s): pages are served without the cache "
                "until it does.",
                self.error,
            )

    def answered(self) -> None:
        if self.since is not None:
            with self._lock:
                since, self.since, self.error = self.since, None, ""
            logger.warning("Redis (CACHE_URL) answers again, after failing since %s.", since)


_outage = _Outage()


def _degrading(name: str, fallback):
    """The client's method ``name``, returning ``fallback(*args)`` while Redis fails."""
    method = getattr(django_redis.RedisCacheClient, name)

    def call(self, *args):
        if _outage.skip():
            return fallback(*args)
        try:
            result = method(self, *args)
        except RedisError as error:
            _outage.failed(error)
            return fallback(*args)
        _outage.answered()
        return result

    call.__name__ = name
    return call


def _nothing(*args) -> None:
    return None


def _false(*args) -> bool:
    return False


def _missing(key, delta):
    raise ValueError(f"Key {key!r} not found (Redis does not answer).")


class _Client(django_redis.RedisCacheClient):
    add = _degrading("add", _false)
    get = _degrading("get", lambda key, default: default)
    set = _degrading("set", _nothing)
    touch = _degrading("touch", _false)
    delete = _degrading("delete", _false)
    get_many = _degrading("get_many", lambda keys: {})
    has_key = _degrading("has_key", _false)
    incr = _degrading("incr", _missing)
    set_many = _degrading("set_many", _nothing)
    delete_many = _degrading("delete_many", _nothing)
    clear = _degrading("clear", _false)


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        params = {**params}
        params["OPTIONS"] = {
            "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS,
            "socket_timeout": SOCKET_TIMEOUT_SECONDS,
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, params)
        self._class = _Client

    def ping(self) -> None:
        """Ask Redis for an answer now, whatever this process saw last (``RedisError`` if
        there is none)."""
        try:
            self._cache.get_client(write=True).ping()
        except RedisError as error:
            _outage.failed(error)
            raise
        _outage.answered()


def outage() -> tuple[datetime, str] | None:
    """Since when, and why, the shared cache does not answer, as found by asking it now (None
    when it answers, or when the cache is each process's own memory)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    with contextlib.suppress(RedisError):
        backend.ping()
    return None if _outage.since is None else (_outage.since, _outage.error)

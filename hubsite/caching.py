"""Caching what pages render, correctly without ever deleting an entry.

Every key is made of what the cached piece shows, as read from the database on this request
(a revision's oid, a repository's name and visibility, a DOI row's contents): a change gives a
new key, so the next request renders afresh in every process, whichever cache backend serves
them (each process's local memory by default, Redis with ``CACHE_URL``), and old entries just
age out. Nothing relies on an invalidation reaching the right process.

In Python::

    html = caching.get_or_render("doi-header", (doi.cache_version, show_all), render)

In a template, Django's own tag with the same scheme (``None``: no expiry)::

    {% load cache %}{% cache None repo-files page_key can_write %}…{% endcache %}

A whole page under the same scheme: ``hubsite.page_cache``.

What belongs in the parts: everything the piece shows that can change, and nothing about who
asks unless the piece differs by it (then say so, e.g. ``can_write``). Time-dependent text
("3 hours ago") stays outside cached pieces. The code's own version is in every key already
(``release_digest``, the cache's ``KEY_PREFIX``), so a deploy never serves pieces rendered by
the previous code.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key


def key(name: str, parts: Iterable) -> str:
    """The cache key of piece ``name`` varying on ``parts``: the one ``{% cache %}`` uses."""
    return make_template_fragment_key(name, [str(part) for part in parts])


def get_or_render[T](name: str, parts: Iterable, render: Callable[[], T]) -> T:
    """The cached piece ``name`` for ``parts``, rendered by ``render()`` when not cached yet
    (HTML or text, or anything else that pickles; never None)."""
    cache_key = key(name, parts)
    value = cache.get(cache_key)
    if value is None:
        value = render()
        cache.set(cache_key, value, timeout=None)
    return value


def get_many(keys: Iterable[str]) -> dict[str, object]:
    """Those of the pieces under ``keys`` (each from ``key``) that are cached, read in one go
    (one round trip to Redis): for a page of many pieces, with ``set_many`` for the others."""
    return cache.get_many(keys)


def set_many(pieces: dict[str, object]) -> None:
    """Cache ``pieces`` (by their ``key``), kept as long as ``get_or_render`` keeps one."""
    if pieces:
        cache.set_many(pieces, timeout=None)


# What is not the site's code: data, caches, tests and the virtual environment.
_NOT_CODE = {"var", "staticfiles", "tests", "test-artifacts", "node_modules", "__pycache__"}
_SUFFIXES = {".py", ".html", ".css", ".js", ".svg", ".txt", ".json", ".xml", ".lock"}


def release_digest(base_dir: Path) -> str:
    """A short hash of this checkout's code, templates, static files and ``uv.lock`` (the
    library versions): the cache's key prefix, so that processes of different releases sharing
    one cache (Redis, during a rolling deploy) never use each other's pieces."""
    digest = hashlib.sha256()
    for folder, subfolders, names in os.walk(base_dir):
        subfolders[:] = sorted(d for d in subfolders if d not in _NOT_CODE and d[0] != ".")
        for name in sorted(names):
            path = Path(folder, name)
            if path.suffix in _SUFFIXES:
                digest.update(f"{path.relative_to(base_dir)}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]

"""Places on repository pages where other apps add their own HTML, without `repos` importing them.

`repos` never imports `doi`; instead `doi` (or any app) registers a callable for a slot, usually in
its ``AppConfig.ready()``::

    from repos import slots

    def doi_tag(request, repo, revision) -> str:
        return render_to_string("doi/_tag.html", {...}, request=request)

    slots.register("header", doi_tag)

The contract:

- ``fn(request, repo, revision) -> str``. ``repo`` is the `Repo` the page shows (the user may view
  it; check ``repo.can_admin(request.user)`` yourself where that matters). ``revision`` is the
  `Revision` shown — the current one, or an older one on ``/tree/<rev>`` — or ``None`` when the
  repository has no revision yet.
- Return HTML as a safe string (``render_to_string``, ``format_html``), or ``""`` for nothing.
  A plain ``str`` is escaped, so text is shown as text, never interpreted as markup.
- Slots, each wrapped by `repos` so it sits well on the page:

  ``header``   in the repository header after the licence and tags, inline (the DOI citation tag);
               wrapped in ``<div class="repo-ext repo-ext-header">``.
  ``banner``   above the content of every repository page (e.g. "this DOI is outdated");
               wrapped in ``<div class="repo-ext repo-ext-banner">``.
  ``settings`` a section of the settings page between "Change visibility" and the danger zone
               (the DOI section); wrapped in
               ``<section class="settings-section repo-ext-settings">``, so start with an ``<h2>``.
  ``head``     inside ``<head>`` of the repository's own page (its card, at the current or an
               older revision): what machines read about it (JSON-LD, ``<meta>``); not wrapped.
  ``link``     not HTML: the value of a ``Link`` header (RFC 8288) for the repository's own page,
               or ""; the pieces are joined with ", " (``link_header``).
  ``cache_key`` not HTML: a short text that changes whenever what the app's slots show on the
               repository's own page changes beyond the repository and revision
               (``pages.page_key``) and the request's path — rows read by this request, the
               query parameters the slots honour — or "". The page is cached whole under a key
               holding it (``cache_key``); read what it needs without building what only a
               render needs, as a cached page renders no slot.

- ``column(name, expression)`` (not a slot): a value read with the repository itself, in the
  query that finds it by its URL (``pages.repo_view``), and set on the `Repo` as ``name``; the
  expression may use ``OuterRef("pk")`` and ``OuterRef("head_id")`` of the repository. For
  what a slot needs on every request (``cache_key``'s rows), so that a page costs no query of
  its own for it. Register it in ``AppConfig.ready()``: the lookup is compiled at first use.
  A `Repo` loaded some other way does not have it: read it with ``getattr(repo, name, None)``.

- On the repository's own page, ``revision.files.all()`` is prefetched (with each file's blob),
  so a slot may list the files without a query.

- Callables run in registration order; registering the same callable twice has no effect.
  ``unregister(slot, fn)`` removes one (tests use it to clean up).

Templates render a slot with ``{% load repo_tags %}{% repo_slot "header" %}``; the context
must hold ``request``, ``repo`` and ``revision``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from django.db.models.expressions import BaseExpression
from django.http import HttpRequest
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from repos.models import Repo, Revision

    SlotCallable = Callable[[HttpRequest, Repo, Revision | None], str]

# Each slot's wrapper: an opening tag with a {} for the slot's HTML, and its closing tag.
_WRAPPERS = {
    "header": '<div class="repo-ext repo-ext-header">{}</div>',
    "banner": '<div class="repo-ext repo-ext-banner">{}</div>',
    "settings": '<section class="settings-section repo-ext-settings">{}</section>',
    "head": "{}",
}
SLOTS = frozenset({*_WRAPPERS, "link", "cache_key"})

_registry: dict[str, list[SlotCallable]] = {slot: [] for slot in SLOTS}
_columns: dict[str, BaseExpression] = {}


def register(slot: str, fn: SlotCallable) -> SlotCallable:
    """Add ``fn`` to ``slot``; returns ``fn`` so it can be used as a decorator argument."""
    if slot not in SLOTS:
        raise ValueError(f"Unknown slot {slot!r}; use one of {', '.join(sorted(SLOTS))}.")
    if fn not in _registry[slot]:
        _registry[slot].append(fn)
        _names.cache_clear()
    return fn


def unregister(slot: str, fn: SlotCallable) -> None:
    if fn in _registry.get(slot, []):
        _registry[slot].remove(fn)
        _names.cache_clear()


def column(name: str, expression: BaseExpression) -> None:
    """Read ``expression`` with the repository a page shows, as its attribute ``name``."""
    _columns[name] = expression


def columns() -> dict[str, BaseExpression]:
    """What ``column`` registered: annotations for the repository's lookup."""
    return dict(_columns)


def render(slot: str, request: HttpRequest, repo: Repo, revision: Revision | None) -> SafeString:
    """Everything registered for ``slot``, each piece wrapped; "" when nothing has output."""
    pieces = []
    for fn in _registry[slot]:
        html = fn(request, repo, revision)
        if html:
            pieces.append(format_html(_WRAPPERS[slot], conditional_escape(html)))
    return mark_safe("".join(pieces))  # noqa: S308 - each piece is built by format_html


def link_header(request: HttpRequest, repo: Repo, revision: Revision | None) -> str:
    """The ``Link`` header value of what is registered for the ``link`` slot; "" for none."""
    return ", ".join(v for fn in _registry["link"] if (v := fn(request, repo, revision)))


def cache_key(request: HttpRequest, repo: Repo, revision: Revision | None) -> tuple[str, ...]:
    """What is registered for the ``cache_key`` slot, one text per callable, after the names
    of all that is registered (the same in every process of a release)."""
    return (_names(), *(fn(request, repo, revision) for fn in _registry["cache_key"]))


@cache
def _names() -> str:
    return ",".join(
        f"{fn.__module__}.{fn.__qualname__}" for fns in _registry.values() for fn in fns
    )

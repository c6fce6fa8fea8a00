"""The History section of a DOI's page: the DOI's own events and what other apps record about
its repository (support requests), in time order, without `doi` importing those apps.

An app adds its events by registering a source, usually in its ``AppConfig.ready()``::

    from doi import history

    history.register(RequestEvent.objects.for_doi_page)

The contract:

- ``source(repo, *, can_view_repo) -> iterable of events``, oldest first. ``can_view_repo`` says
  whether the reader may see the repository; the source decides what a reader who may not sees.
- An event has ``created_at``, ``get_kind_display()``, ``actor`` (a user or None) and
  ``message``, like `doi.models.Event`.
- Registering the same source twice has no effect; ``unregister(source)`` removes one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from operator import attrgetter

from doi.models import Doi, Event

# source(repo, *, can_view_repo) -> events, oldest first
Source = Callable[..., Iterable]

_sources: list[Source] = []


def register(source: Source) -> Source:
    if source not in _sources:
        _sources.append(source)
    return source


def unregister(source: Source) -> None:
    if source in _sources:
        _sources.remove(source)


def for_doi_page(doi: Doi, *, can_view_repo: bool) -> list:
    """The DOI's events and the registered sources' events about its repository."""
    own = Event.objects.filter(doi=doi).select_related("actor").order_by("created_at", "pk")
    others = (source(doi.repo, can_view_repo=can_view_repo) for source in _sources)
    return in_time_order(own, *others)


def in_time_order(*trails: Iterable) -> list:
    """Several audit trails, each oldest first, as one (on equal times, in the order given)."""
    return sorted(chain(*trails), key=attrgetter("created_at"))

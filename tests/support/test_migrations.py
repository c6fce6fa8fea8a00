"""The data migration that moved support requests' events out of doi's Event table."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps

from doi.models import Event
from support.models import RequestEvent, SupportRequest

migration = importlib.import_module("support.migrations.0003_move_request_events_out_of_doi")


@pytest.fixture
def request_in_doi_events(locked, owner, staff):
    """A request carried out before the move: its events in doi's table, none in support's."""
    request = SupportRequest.file(repo=locked, requester=owner, action="delete", reason="Why.")
    RequestEvent.objects.all().delete()
    opened = Event.objects.create(
        kind="request_opened",
        repo=locked,
        actor=owner,
        message=f"Request #{request.pk}: Delete alice/bert.",
    )
    Event.objects.create(
        kind="request_carried_out",
        repo=locked,
        actor=staff,
        created_at=opened.created_at + timedelta(minutes=5),
        message=f"Request #{request.pk}: Removed alice/bert, keeping a tombstone.",
    )
    return request


def test_it_moves_request_events_to_their_request(request_in_doi_events, owner, staff):
    doi_events = set(Event.objects.exclude(kind__startswith="request").values_list("pk"))
    migration.move_out_of_doi(apps, None)
    moved = request_in_doi_events.events.order_by("created_at")
    assert [(e.kind, e.actor, e.message) for e in moved] == [
        ("opened", owner, f"Request #{request_in_doi_events.pk}: Delete alice/bert."),
        (
            "carried_out",
            staff,
            f"Request #{request_in_doi_events.pk}: Removed alice/bert, keeping a tombstone.",
        ),
    ]
    assert set(Event.objects.values_list("pk")) == doi_events


def test_it_moves_them_back_when_reversed(request_in_doi_events):
    before = sorted(
        Event.objects.filter(kind__startswith="request").values_list(
            "kind", "repo", "actor", "message", "created_at"
        )
    )
    migration.move_out_of_doi(apps, None)
    migration.move_back_into_doi(apps, None)
    after = sorted(
        Event.objects.filter(kind__startswith="request").values_list(
            "kind", "repo", "actor", "message", "created_at"
        )
    )
    assert after == before
    assert not RequestEvent.objects.exists()


def test_it_refuses_events_that_name_no_request(request_in_doi_events, locked, owner):
    stray = Event.objects.create(
        kind="request_opened", repo=locked, actor=owner, message="Request #999: Delete it."
    )
    with pytest.raises(ValueError, match=rf"doi_event rows \[{stray.pk}\] .* nothing was moved"):
        migration.move_out_of_doi(apps, None)
    assert Event.objects.filter(kind__startswith="request").count() == 3
    assert not RequestEvent.objects.exists()

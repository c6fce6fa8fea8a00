"""Support requests' events lived in doi's Event table, found by "Request #<id>:" at the start of
their message. Move them into support's own RequestEvent, joined to their request by its key."""

import re

from django.db import migrations

# doi.Event's kinds for support requests → RequestEvent's.
KINDS = {
    "request_opened": "opened",
    "request_approved": "approved",
    "request_rejected": "rejected",
    "request_carried_out": "carried_out",
}
NAMES_REQUEST = re.compile(r"Request #(\d+):")


def move_out_of_doi(apps, schema_editor) -> None:
    Event = apps.get_model("doi", "Event")
    RequestEvent = apps.get_model("support", "RequestEvent")
    SupportRequest = apps.get_model("support", "SupportRequest")
    events = Event.objects.filter(kind__in=KINDS).order_by("pk")
    known = set(SupportRequest.objects.values_list("pk", flat=True))
    moved, unmatched = [], []
    for event in events:
        match = NAMES_REQUEST.match(event.message)
        if match is None or int(match[1]) not in known:
            unmatched.append(event.pk)
            continue
        moved.append(
            RequestEvent(
                request_id=int(match[1]),
                kind=KINDS[event.kind],
                actor_id=event.actor_id,
                message=event.message,
                created_at=event.created_at,
            )
        )
    if unmatched:
        raise ValueError(
            f"doi_event rows {unmatched} are support request events that name no support "
            "request (their message must start with 'Request #<id>:'). Correct or delete them, "
            "then migrate again; nothing was moved."
        )
    RequestEvent.objects.bulk_create(moved)
    events.delete()


def move_back_into_doi(apps, schema_editor) -> None:
    Event = apps.get_model("doi", "Event")
    RequestEvent = apps.get_model("support", "RequestEvent")
    back = {new: old for old, new in KINDS.items()}
    events = RequestEvent.objects.select_related("request").order_by("pk")
    Event.objects.bulk_create(
        Event(
            kind=back[event.kind],
            repo_id=event.request.repo_id,
            actor_id=event.actor_id,
            message=event.message,
            created_at=event.created_at,
        )
        for event in events
    )
    events.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("doi", "0001_initial"),
        ("support", "0002_request_events"),
    ]

    operations = [migrations.RunPython(move_out_of_doi, move_back_into_doi)]

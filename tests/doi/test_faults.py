"""DataCite failing in every way it can: what is stored, what the owner sees, and that once
DataCite recovers exactly one DOI exists there, findable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from doi.models import Doi, Event
from doi.tasks import sync_doi

# fault → (state the owner sees, permanent?, what happened, as stored)
FAULTS = {
    "refused": ("pending", False, "DataCite could not be reached"),
    "drop": ("pending", False, "DataCite could not be reached"),
    "timeout": ("pending", False, "DataCite did not answer in time"),
    "500": ("pending", False, "DataCite is not working properly right now (HTTP 500)"),
    "502": ("pending", False, "DataCite is not working properly right now (HTTP 502)"),
    "503": ("pending", False, "DataCite is not working properly right now (HTTP 503)"),
    "429": ("pending", False, "DataCite asked the hub to send fewer requests"),
    "malformed": ("pending", False, "DataCite answered with something the hub could not read"),
    "401": (
        "failed",
        True,
        "DataCite did not accept the hub's credentials (staff must correct the DataCite "
        "account settings)",
    ),
    "422": ("failed", True, "DataCite rejected the metadata (metadata — Is invalid)"),
}


@pytest.fixture(autouse=True)
def _one_doi_per_mint(settings):
    settings.DOI_CONCEPT_DOIS = False  # so that "exactly one DOI at DataCite" is literal


def _inject(datacite, fault):
    if fault == "refused":
        datacite.go_down()
    else:
        datacite.fail(fault)


def _time_passes():
    Doi.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.parametrize("fault", FAULTS)
def test_what_a_fault_leaves_behind(repo, mint, datacite, fault):
    state, permanent, message = FAULTS[fault]
    _inject(datacite, fault)
    doi = mint(repo)
    doi.refresh_from_db()
    assert doi.state == state
    assert doi.state_label == Doi.State(state).label
    assert doi.remote_state == "none"  # never claimed before DataCite confirmed
    assert doi.pending_action == "publish"
    assert doi.attempts == 1
    assert doi.error_is_permanent is permanent
    assert doi.last_error == message
    assert doi.registered_at is None
    if permanent:
        assert doi.next_attempt_at is None
        assert doi.problem == f"{message}, so the hub has stopped trying until someone retries."
    else:
        assert doi.next_attempt_at > timezone.now()
        at = timezone.localtime(doi.next_attempt_at)
        assert doi.problem.startswith(f"{message}, so the hub will try again automatically at ")
        assert f" at {at:%H:%M} UTC" in doi.problem
    event = Event.objects.filter(doi=doi).first()
    assert event.kind == ("failed" if permanent else "retrying")
    assert event.message == doi.problem


@pytest.mark.parametrize("fault", FAULTS)
def test_after_datacite_recovers_exactly_one_doi_is_findable(repo, mint, datacite, fault):
    _state, permanent, _message = FAULTS[fault]
    _inject(datacite, fault)
    doi = mint(repo)
    datacite.recover()
    _time_passes()
    call_command("doi_sync", "--quiet")
    doi.refresh_from_db()
    if permanent:
        # A permanent failure waits for a person: the cron job leaves it alone.
        assert doi.state == "failed"
        call_command("doi_sync", "--all", "--quiet")
        doi.refresh_from_db()
    assert doi.state == "findable"
    assert (doi.attempts, doi.last_error, doi.pending_action) == (0, "", "")
    assert list(datacite.records) == [doi.doi.upper()]
    assert datacite.state(doi.doi) == "findable"
    assert Event.objects.filter(doi=doi, kind="minted").count() == 1


def test_retry_after_is_honoured(repo, mint, datacite):
    datacite.retry_after = "120"
    datacite.fail("429")
    doi = mint(repo)
    doi.refresh_from_db()
    wait = (doi.next_attempt_at - timezone.now()).total_seconds()
    assert 110 < wait <= 120


def test_backoff_grows_with_each_attempt(repo, mint, datacite):
    datacite.fail("503", "503", "503")
    doi = mint(repo)
    waits = []
    for _ in range(3):
        doi.refresh_from_db()
        if waits or doi.attempts:
            waits.append((doi.next_attempt_at - timezone.now()).total_seconds())
        if len(waits) == 3:
            break
        _time_passes()
        call_command("doi_sync", "--quiet")
    assert [round(w / 30) for w in waits] == [1, 2, 4]


def test_immediate_backend_retries_inline_a_few_times(repo, mint, datacite, settings):
    settings.DOI_INLINE_RETRIES = 2
    datacite.fail("503", "timeout")
    doi = mint(repo)
    doi.refresh_from_db()
    assert doi.state == "findable"
    assert len(datacite.requests_for(doi.doi)) == 3
    kinds = list(Event.objects.filter(doi=doi).values_list("kind", flat=True))
    assert kinds == ["minted", "retrying", "retrying", "reserved"]


def test_immediate_backend_gives_up_inline_and_leaves_it_to_doi_sync(
    repo, mint, datacite, settings
):
    settings.DOI_INLINE_RETRIES = 2
    datacite.fail("503", "503", "503", "503")
    doi = mint(repo)
    doi.refresh_from_db()
    assert doi.state == "pending"
    assert doi.attempts == 3
    assert len(datacite.requests_for(doi.doi)) == 3


def test_inline_retries_never_wait_less_than_datacite_asks(repo, mint, datacite, settings):
    settings.DOI_INLINE_RETRIES = 2
    datacite.retry_after = "60"
    datacite.fail("429")
    doi = mint(repo)
    assert len(datacite.requests_for(doi.doi)) == 1


def test_a_worker_backend_defers_the_retry(repo, mint, datacite, settings):
    from django_tasks_db.models import DBTaskResult

    datacite.fail("503")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    doi = mint(repo)  # queued, not run
    assert DBTaskResult.objects.count() == 1
    sync_doi.call(doi.pk)  # what the worker does
    doi.refresh_from_db()
    assert doi.state == "pending"
    retry = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert DBTaskResult.objects.count() == 2
    assert retry.run_after == doi.next_attempt_at


def test_two_workers_never_push_the_same_doi_at_once(repo, owner, alice, datacite):
    from doi.models import Push

    doi = Doi.objects.mint(repo=repo, user=owner, creators=[alice], consent_text="x",
                              consent_version="1")  # fmt: skip
    seen = []
    original = datacite.handle

    def during_the_request(*request):
        # Meanwhile a second worker tries the same DOI in another connection.
        seen.append(_push_elsewhere(doi.pk))
        return original(*request)

    datacite.handle = during_the_request
    assert Doi.objects.push(doi.pk).outcome == Push.DONE
    assert seen == [Push.SKIPPED]


def _push_elsewhere(pk):
    import threading

    from django.db import connections

    from doi.models import Doi as Model

    outcome = []

    def run():
        try:
            outcome.append(Model.objects.push(pk).outcome)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    return outcome[0]


def test_a_metadata_problem_found_when_pushing_is_stored_as_permanent(repo, mint, datacite):
    doi = mint(repo)
    doi.refresh_from_db()
    Doi.objects.filter(pk=doi.pk).update(creators=[], pending_action="update")
    call_command("doi_sync", "--quiet")
    doi.refresh_from_db()
    assert doi.update_failed
    assert doi.state == "findable"
    assert doi.state_label == "Findable — update failed"
    assert doi.last_error == "The DOI's details are not valid (Add at least one author)"

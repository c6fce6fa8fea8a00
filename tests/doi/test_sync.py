"""``manage.py doi_sync``: the cron job that pushes what no worker did."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from doi.models import Doi
from tests.doi.conftest import CONSENT
from tests.factories import RepoFactory, commit_files


def _sync(*args):
    out, err = StringIO(), StringIO()
    call_command("doi_sync", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def stuck(repo, owner, alice):
    """A DOI reserved two minutes ago whose worker died before pushing it."""
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    Doi.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    return version


def test_a_push_costs_the_same_few_queries_whatever_the_versions(
    repo, owner, alice, datacite, django_assert_max_num_queries
):
    """doi_sync pushes thousands: the row, its repository, revision and concept come in one
    query with the lock; then the live versions, the README, the save and the event (six,
    plus the savepoint and its release inside the test's transaction)."""
    for n in range(3):
        commit_files(repo, owner, {"weights.bin": str(n)})
        Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    version = Doi.objects.versions().order_by("number").last()
    with django_assert_max_num_queries(8):
        assert Doi.objects.push(version.pk).outcome == "done"
    with django_assert_max_num_queries(8):
        assert Doi.objects.push(version.concept_id).outcome == "done"


@pytest.mark.smoke
def test_it_pushes_dois_a_dead_worker_left_behind(stuck, datacite):
    out, err = _sync()
    stuck.refresh_from_db()
    assert stuck.state == stuck.concept.state == "findable"
    assert "2 DOI(s) due: 2 confirmed by the registrar" in out
    assert err == ""
    assert len(datacite.records) == 2


def test_it_leaves_fresh_dois_to_their_worker(repo, owner, alice, datacite):
    Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    out, _ = _sync()
    assert "0 DOI(s) due" in out
    assert datacite.requests == []


def test_it_leaves_retries_that_are_not_due(stuck, datacite):
    Doi.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    _sync()
    assert datacite.requests == []


def test_dry_run_lists_and_sends_nothing(stuck, datacite):
    out, _ = _sync("--dry-run")
    assert f"{stuck.doi}  publish  alice/sentiment-model  attempts=0" in out
    assert "2 DOI(s) due; nothing was sent (dry run)." in out
    assert datacite.requests == []
    stuck.refresh_from_db()
    assert stuck.state == "pending"


def test_it_reports_failures_on_stderr(stuck, datacite):
    datacite.fail("503", "422")
    out, err = _sync("--quiet")
    assert (
        f"{stuck.concept.doi}: DataCite is not working properly right now (HTTP 503), "
        "so the hub will try again automatically at "
    ) in err
    assert (
        f"{stuck.doi}: DataCite rejected the metadata (metadata — Is invalid), "
        "so the hub has stopped trying until someone retries."
    ) in err
    assert "1 failed for now (will retry), 1 failed permanently" in out


def test_permanent_failures_wait_for_all(stuck, datacite):
    Doi.objects.update(error_is_permanent=True, last_error="DataCite rejected the metadata")
    out, _ = _sync()
    assert "0 DOI(s) due" in out
    out, _ = _sync("--all")
    assert "2 confirmed by the registrar" in out
    stuck.refresh_from_db()
    assert stuck.state == "findable"


def test_discarded_dois_are_never_pushed(stuck, datacite):
    Doi.objects.update(discarded_at=timezone.now())
    out, _ = _sync("--all")
    assert "0 DOI(s) due" in out


def test_the_help_says_how_to_run_it_from_cron():
    from doi.management.commands.doi_sync import Command

    assert "cron" in Command.help
    assert "manage.py doi_sync" in Command.help


@pytest.fixture
def waiting(stuck, datacite):
    """Both DOIs failed for now (HTTP 503); their next attempt is five minutes away."""
    datacite.fail("503", "503")
    _sync("--quiet")
    assert (
        Doi.objects.filter(next_attempt_at__gt=timezone.now() + timedelta(seconds=20)).count() == 2
    )
    Doi.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    return stuck


def test_now_pushes_dois_whose_retry_is_not_due(waiting, datacite):
    out, _ = _sync()
    assert "0 DOI(s) due" in out
    out, err = _sync("--now")
    assert "2 DOI(s) due: 2 confirmed by the registrar" in out
    assert err == ""
    waiting.refresh_from_db()
    assert waiting.state == waiting.concept.state == "findable"


def test_now_leaves_permanent_failures_unless_all(waiting, datacite):
    Doi.objects.filter(pk=waiting.pk).update(error_is_permanent=True)
    out, _ = _sync("--now")
    assert "1 DOI(s) due: 1 confirmed by the registrar" in out
    waiting.refresh_from_db()
    assert waiting.state == "failed"


def test_it_waits_as_long_as_datacite_asks_and_carries_on(waiting, datacite):
    datacite.fail("429")
    puts = len(datacite.requests)
    out, err = _sync("--now")
    assert "DataCite asked the hub to wait 1 s; waiting." in out
    assert "2 DOI(s) due: 2 confirmed by the registrar" in out
    assert err == ""
    assert len(datacite.requests) == puts + 3
    # The refused DOI went again only once the second had passed.
    refused, _other, again = datacite.requests[puts:]
    assert again["doi"] == refused["doi"]
    assert again["at"] - refused["at"] >= 1.0
    waiting.refresh_from_db()
    assert waiting.state == waiting.concept.state == "findable"


def test_it_stops_when_datacite_asks_for_a_long_wait(waiting, datacite):
    datacite.retry_after = "3600"
    datacite.fail("429")
    puts = len(datacite.requests)
    out, err = _sync("--now")
    assert "DataCite asked the hub to wait 3600 s; 1 DOI(s) left for a later run." in err
    assert "2 DOI(s) due: 0 confirmed by the registrar, 1 failed for now (will retry)" in out
    assert len(datacite.requests) == puts + 1
    waiting.refresh_from_db()
    assert waiting.state == "pending" and waiting.attempts == 1


def test_it_leaves_a_doi_refused_again_and_again_for_a_later_run(waiting, datacite):
    datacite.retry_after = "0"
    datacite.fail("429", "429", "429", "429", "429")  # concept, version, each again, concept
    out, err = _sync("--now", "--quiet")
    assert "DataCite asked the hub to wait 0 s; 1 DOI(s) left for a later run." in err
    assert "1 failed for now (will retry)" in out


@pytest.fixture
def many_due(owner, alice):
    """Six repositories whose concept and version DOIs (twelve) are due."""
    for n in range(6):
        repo = RepoFactory(namespace=owner.namespace, name=f"model-{n}")
        commit_files(repo, owner, {"README.md": "# Model\n"})
        Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    Doi.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))


def test_it_keeps_to_the_rate_and_earns_no_429(many_due, datacite, settings):
    datacite.limit(8, per=1.0)
    settings.DATACITE_REQUESTS_PER_MINUTE = 240  # four at once, then one every 0.25 s
    out, err = _sync("--quiet")
    assert out == err == ""
    assert datacite.statuses == {201: 12}
    assert Doi.objects.findable().count() == 12
    # Four at once, then one every 0.25 s at the most: never ahead of that schedule.
    first, *later = [r["at"] for r in datacite.requests]
    assert all(at - first >= (n - 3) * 0.25 - 0.05 for n, at in enumerate(later, start=1))


def test_it_reuses_one_connection(many_due, datacite):
    _sync("--quiet")
    assert datacite.statuses == {201: 12}
    assert datacite.connections == 1


@pytest.mark.django_db(transaction=True)
def test_workers_push_side_by_side_each_doi_once(datacite, owner, alice, settings):
    """Outside a test transaction, where the workers' own connections see the rows."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    for n in range(6):
        repo = RepoFactory(namespace=owner.namespace, name=f"model-{n}")
        commit_files(repo, owner, {"README.md": "# Model\n"})
        Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    Doi.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    datacite.latency = 0.2
    out, err = _sync("--workers", "4")
    assert "12 DOI(s) due: 12 confirmed by the registrar" in out
    assert err == ""
    assert sorted(r["doi"] for r in datacite.requests) == sorted(
        Doi.objects.values_list("doi", flat=True)
    )
    assert 2 <= datacite.connections <= 4
    assert Doi.objects.findable().count() == 12


@pytest.mark.django_db(transaction=True)
def test_every_keeps_syncing_until_stopped(datacite, settings, repo, owner, alice, monkeypatch):
    """What scripts/serve runs alongside the site. (Outside a test transaction: between passes
    the command closes a connection the database may have dropped.)"""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    stuck = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    Doi.objects.update(next_attempt_at=timezone.now())
    passes = []

    def sleep(seconds):
        # Between passes: the version's retry comes due; after the second pass, Ctrl-C.
        passes.append(seconds)
        if len(passes) == 2:
            raise KeyboardInterrupt
        Doi.objects.filter(pk=stuck.pk).update(next_attempt_at=timezone.now())

    datacite.fail("ok", "503")
    monkeypatch.setattr("doi.management.commands.doi_sync.sleep", sleep)
    out, err = _sync("--every", "30", "--workers", "1")  # in order: the faults are in order
    assert passes == [30, 30]
    assert f"{stuck.doi}: DataCite is not working properly right now (HTTP 503)" in err
    assert out.count("DOI(s) due") == 2
    stuck.refresh_from_db()
    assert stuck.state == "findable"


# --compare: metadata that differs at DataCite --------------------------------------------------


@pytest.fixture
def registered(repo, mint, datacite):
    version = mint(repo)
    version.refresh_from_db()
    assert version.state == "findable"
    return version


def test_compare_finds_nothing_when_datacite_holds_what_the_hub_sent(registered, datacite):
    out, err = _sync("--compare")
    assert "2 DOI(s) compared: 0 differ at DataCite, 0 could not be compared." in out
    assert err == ""
    assert not Doi.objects.differing().exists()


def test_compare_notes_what_was_changed_at_datacite(registered, datacite):
    datacite.attributes(registered.doi)["titles"] = [{"title": "Renamed in Fabrica"}]
    datacite.attributes(registered.doi)["publicationYear"] = int(
        registered.metadata["publicationYear"]  # DataCite writes a number: not a difference
    )
    out, err = _sync("--compare", "--quiet")
    assert f"{registered.doi}: DataCite holds different titles; Re-send metadata" in err
    assert "1 differ at DataCite" in out
    registered.refresh_from_db()
    assert registered.remote_differences == "titles"
    assert registered.differs_since is not None
    assert list(Doi.objects.differing()) == [registered]

    # Re-sending the metadata puts the hub's back, and the note goes.
    registered.resend_metadata()
    Doi.objects.push(registered.pk)
    registered.refresh_from_db()
    assert registered.remote_differences == "" and registered.differs_since is None
    assert datacite.attributes(registered.doi)["titles"] == registered.metadata["titles"]


def test_compare_reports_a_doi_it_could_not_ask_about(registered, datacite):
    datacite.fail("503", "503")
    _out, err = _sync("--compare", "--quiet")
    assert "not compared: DataCite is not working properly right now (HTTP 503)" in err
    registered.refresh_from_db()
    assert registered.remote_differences == ""

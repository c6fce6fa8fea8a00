"""Reserving DOIs, registering them, new versions, and the domain API the views call."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from doi.models import (
    Consent,
    Doi,
    DoiCounter,
    DoiMetadataError,
    DoiNotAllowed,
    Event,
    Push,
)
from doi.registrars import LocalRegistrar
from repos.models import Repo, lock_override
from tests.doi.conftest import CONSENT
from tests.factories import RepoFactory, commit_files


def _kinds(repo):
    return sorted(Doi.objects.for_repo(repo).values_list("kind", flat=True))


@pytest.mark.smoke
def test_it_reserves_a_concept_and_a_version_doi(repo, owner, alice):
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    concept = version.concept
    assert (concept.doi, version.doi) == ("10.5072/hub/0001", "10.5072/hub/0002")
    assert (concept.kind, version.kind) == ("concept", "version")
    assert version.revision == repo.head
    assert version.revision_oid == repo.head.oid
    assert version.state == concept.state == "pending"
    assert version.pending_action == concept.pending_action == "publish"
    assert version.created_by == owner
    assert version.creators[0]["orcid"] == "0000-0002-1825-0097"
    assert DoiCounter.objects.get(prefix="10.5072").last_number == 2


def test_it_stores_the_consent_with_the_exact_payload(repo, owner, alice):
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    consent = Consent.objects.get()
    assert consent.doi == version
    assert (consent.user, consent.repo, consent.revision_oid) == (owner, repo, repo.head.oid)
    assert (consent.text, consent.text_version) == ("I acknowledge that …", "2026-11")
    assert consent.payload == version.metadata
    assert consent.payload["creators"][0]["name"] == "Liddell, Alice"


def test_it_writes_audit_events(repo, owner, alice):
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    events = Event.objects.filter(kind="reserved")
    assert {e.doi for e in events} == {version, version.concept}
    assert all(e.actor == owner and e.repo == repo for e in events)


def test_registration_runs_after_commit_and_makes_it_findable(repo, mint):
    version = mint(repo)
    version.refresh_from_db()
    assert version.state == "findable"
    assert version.concept.state == "findable"
    assert version.pending_action == ""
    assert version.registered_at is not None
    assert version.last_synced_at is not None
    assert Event.objects.filter(doi=version, kind="minted").count() == 1


def test_an_org_admin_may_mint(org, owner, alice, mint):
    repo = RepoFactory(namespace=org.namespace, name="org-model")
    commit_files(repo, owner, {"README.md": "# Hi"})
    assert mint(repo).doi == "10.5072/hub/0002"


@pytest.mark.parametrize("who", ["stranger", "writer", "reader"])
def test_it_refuses_users_who_cannot_admin_the_repo(request, org, owner, alice, who):
    repo = RepoFactory(namespace=org.namespace, name="org-model")
    commit_files(repo, owner, {"README.md": "# Hi"})
    user = request.getfixturevalue(who)
    with pytest.raises(DoiNotAllowed, match="owner or an organization admin"):
        Doi.objects.mint(repo=repo, user=user, creators=[alice], **CONSENT)
    assert not Doi.objects.exists()


def test_it_refuses_private_repos(repo, owner, alice):
    Repo.objects.filter(pk=repo.pk).update(private=True)
    with pytest.raises(DoiNotAllowed, match="private repository cannot get a registered DOI"):
        Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    assert not Doi.objects.exists()


def test_it_refuses_repos_without_a_revision(owner, alice):
    repo = RepoFactory(namespace=owner.namespace)
    with pytest.raises(DoiNotAllowed, match="no revision yet"):
        Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)


def test_it_refuses_a_second_doi_for_the_same_revision(repo, owner, alice):
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    with pytest.raises(DoiNotAllowed) as caught:
        Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    assert caught.value.message == f"The current revision already has a DOI: {version.doi}."
    assert Doi.objects.count() == 2


def test_a_metadata_problem_creates_nothing(repo, owner, alice, settings):
    settings.DOI_SUFFIX_PATTERN = "hub {number}"
    with pytest.raises(DoiMetadataError) as caught:
        Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    assert caught.value.field == "doi"
    assert "10.5072/hub 1" in caught.value.message
    assert not Doi.objects.exists()
    assert not Consent.objects.exists()
    assert not DoiCounter.objects.filter(last_number__gt=0).exists()


@pytest.mark.parametrize(
    ("creators", "field", "message"),
    [
        ([], "creators", "Add at least one author."),
        ([{"name": "  "}], "creators[1].name", "Author 1: Enter the author's full name."),
        (
            [{"name": "Ann Bee"}, {"name": "Cy Dee", "orcid": "0000-0002-1825-0098"}],
            "creators[2].orcid",
            "check digit",
        ),
    ],
)
def test_bad_authors_are_refused_naming_the_field(repo, owner, creators, field, message):
    with pytest.raises(DoiMetadataError) as caught:
        Doi.objects.mint(repo=repo, user=owner, creators=creators, **CONSENT)
    assert caught.value.field == field
    assert message in caught.value.message
    assert not Doi.objects.exists()


def test_preview_is_what_mint_sends_and_allocates_nothing(repo, owner, alice):
    preview = Doi.objects.preview(repo=repo, user=owner, creators=[alice])
    assert not DoiCounter.objects.exists() or DoiCounter.objects.get().last_number == 0
    assert not Doi.objects.exists()
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    assert preview == version.metadata
    assert preview["doi"] == "10.5072/hub/0002"


def test_preview_refuses_like_mint(repo, stranger, alice):
    with pytest.raises(DoiNotAllowed):
        Doi.objects.preview(repo=repo, user=stranger, creators=[alice])


def test_concept_dois_can_be_turned_off(repo, owner, alice, settings, mint):
    settings.DOI_CONCEPT_DOIS = False
    version = mint(repo)
    assert version.concept is None
    assert version.doi == "10.5072/hub/0001"
    assert _kinds(repo) == ["version"]
    assert version.metadata["relatedIdentifiers"] == []


def test_numbers_only_go_up_and_are_shared_across_repos(owner, alice, mint):
    first = RepoFactory(namespace=owner.namespace, name="one")
    second = RepoFactory(namespace=owner.namespace, name="two")
    for repo in (first, second):
        commit_files(repo, owner, {"README.md": "# x"})
    assert mint(first).doi == "10.5072/hub/0002"
    assert mint(second).doi == "10.5072/hub/0004"


def test_a_taken_name_is_skipped_not_reused(repo, owner, alice, settings, mint):
    other = RepoFactory(namespace=owner.namespace, name="old")
    commit_files(other, owner, {"README.md": "# x"})
    mint(other)  # 0001, 0002
    settings.DOI_SUFFIX_PATTERN = "hub/{number:04d}"
    DoiCounter.objects.update(last_number=0)  # as if the counter were reset by mistake
    assert mint(repo).doi == "10.5072/hub/0004"


# New versions ------------------------------------------------------------------------------


def _relations(doi):
    return {(r["relationType"], r["relatedIdentifier"]) for r in doi.metadata["relatedIdentifiers"]}


def _second_version(repo, owner, mint):
    first = mint(repo)
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    second = mint(repo)
    first.refresh_from_db()
    second.refresh_from_db()
    return first, second


def test_a_new_version_is_linked_to_the_previous_one(repo, owner, mint):
    first, second = _second_version(repo, owner, mint)
    concept = second.concept
    assert concept == first.concept
    related = {
        (r["relationType"], r["relatedIdentifier"]) for r in second.metadata["relatedIdentifiers"]
    }
    assert related == {("IsVersionOf", concept.doi), ("IsNewVersionOf", first.doi)}
    previous = {
        (r["relationType"], r["relatedIdentifier"]) for r in first.metadata["relatedIdentifiers"]
    }
    assert ("IsPreviousVersionOf", second.doi) in previous


def test_a_new_version_updates_the_previous_one_and_the_concept_at_datacite(
    repo, owner, mint, datacite
):
    first, second = _second_version(repo, owner, mint)
    concept = second.concept
    concept.refresh_from_db()
    assert len(datacite.records) == 3
    assert {datacite.state(d.doi) for d in (first, second, concept)} == {"findable"}
    at_datacite = datacite.attributes(first.doi)["relatedIdentifiers"]
    assert {"relatedIdentifier": second.doi, "relatedIdentifierType": "DOI",
            "relationType": "IsPreviousVersionOf"} in at_datacite  # fmt: skip
    has_version = [
        r["relatedIdentifier"]
        for r in datacite.attributes(concept.doi)["relatedIdentifiers"]
        if r["relationType"] == "HasVersion"
    ]
    assert has_version == [first.doi, second.doi]
    assert datacite.attributes(concept.doi)["creators"] == second.metadata["creators"]
    assert first.pending_action == concept.pending_action == ""
    assert Event.objects.filter(doi=first, kind="updated").count() == 1
    assert Event.objects.filter(doi=concept, kind="updated").count() == 1


def test_a_third_version_updates_the_second_at_datacite_not_the_first(repo, owner, mint, datacite):
    first, second = _second_version(repo, owner, mint)
    commit_files(repo, owner, {"weights.bin": "v3"}, "Retrain again")
    third = mint(repo)

    def relations(doi):
        return {
            (r["relationType"], r["relatedIdentifier"])
            for r in datacite.attributes(doi.doi)["relatedIdentifiers"]
        }

    assert ("IsPreviousVersionOf", third.doi) in relations(second)
    assert ("IsNewVersionOf", second.doi) in relations(third)
    assert ("IsPreviousVersionOf", second.doi) in relations(first)
    assert ("IsPreviousVersionOf", third.doi) not in relations(first)
    assert Event.objects.filter(doi=first, kind="updated").count() == 1
    assert Event.objects.filter(doi=second, kind="updated").count() == 1


def test_the_version_is_pushed_before_its_concept(repo, mint, datacite):
    version = mint(repo)
    assert [r["doi"] for r in datacite.requests] == [version.doi, version.concept.doi]


def test_a_new_version_is_pushed_before_its_neighbours_updates(repo, owner, mint, datacite):
    first, second = _second_version(repo, owner, mint)
    pushed = [r["doi"] for r in datacite.requests[2:]]
    assert pushed[0] == second.doi
    assert sorted(pushed[1:]) == sorted([first.doi, second.concept.doi])


def _arrivals(datacite) -> dict[str, float]:
    return {r["doi"]: r["at"] for r in datacite.requests}


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_first_doi_and_its_concept_go_side_by_side(
    repo, owner, alice, datacite
):
    """What the owner's request does after its commit (on PostgreSQL): each push in a thread of
    its own, so that it waits for one DataCite answer, not two in turn."""
    if connection.vendor != "postgresql":
        pytest.skip("side by side on PostgreSQL only")
    datacite.latency = 0.25  # within the tests' read timeout (0.5 s)
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    version.refresh_from_db()
    assert version.state == version.concept.state == "findable"
    arrived = _arrivals(datacite)
    # The second PUT arrived before the first could have been answered.
    assert abs(arrived[version.doi] - arrived[version.concept.doi]) < 0.25


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_new_version_and_its_neighbours_go_side_by_side(
    repo, owner, alice, datacite
):
    if connection.vendor != "postgresql":
        pytest.skip("side by side on PostgreSQL only")
    first = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    datacite.requests.clear()
    datacite.latency = 0.25
    second = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    first.refresh_from_db()
    second.refresh_from_db()
    concept = second.concept
    concept.refresh_from_db()
    assert {d.state for d in (first, second, concept)} == {"findable"}
    assert first.pending_action == concept.pending_action == ""
    arrived = _arrivals(datacite)
    assert max(arrived.values()) - min(arrived.values()) < 0.25
    assert ("IsPreviousVersionOf", second.doi) in {
        (r["relationType"], r["relatedIdentifier"])
        for r in datacite.attributes(first.doi)["relatedIdentifiers"]
    }


def test_a_version_minted_after_the_prefix_changed_is_still_the_latest(
    repo, owner, alice, mint, settings
):
    first = mint(repo)
    settings.DOI_PREFIX = "10.1234"  # e.g. from DataCite's test prefix to the real one
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    preview = Doi.objects.preview(repo=repo, user=owner, creators=[alice])
    second = mint(repo)
    first.refresh_from_db()
    assert preview["doi"] == second.doi
    assert second.number > first.number
    assert Doi.objects.latest_version_for(repo) == second
    assert first.is_outdated and not second.is_outdated
    assert ("IsNewVersionOf", first.doi) in _relations(second)
    assert ("IsPreviousVersionOf", second.doi) in _relations(first)


def test_the_old_version_is_outdated(repo, owner, mint):
    first, second = _second_version(repo, owner, mint)
    assert first.is_outdated
    assert not second.is_outdated
    assert not second.concept.is_outdated
    assert Doi.objects.latest_version_for(repo) == second
    annotated = {d.pk: d.is_outdated for d in Doi.objects.with_outdated()}
    assert annotated == {first.pk: True, second.pk: False, second.concept_id: False}


def test_with_outdated_costs_one_query(repo, owner, mint, django_assert_num_queries):
    _second_version(repo, owner, mint)
    with django_assert_num_queries(1):
        assert [d.is_outdated for d in Doi.objects.for_repo(repo).versions().with_outdated()] == [
            False,
            True,
        ]


def test_querysets(repo, owner, mint):
    first, second = _second_version(repo, owner, mint)
    assert list(Doi.objects.for_repo(repo).versions()) == [second, first]
    assert list(Doi.objects.concepts()) == [second.concept]
    assert Doi.objects.concept_for(repo) == second.concept
    assert Doi.objects.live().count() == 3


def test_display_properties(repo, mint):
    version = mint(repo)
    version.refresh_from_db()
    assert (version.state, version.state_label) == ("findable", "Findable")
    Doi.objects.filter(pk=version.pk).update(pending_action="update")
    version.refresh_from_db()
    assert version.update_pending
    assert version.state_label == "Findable — update pending"


def test_each_state_filter_follows_the_state_property(owner, alice):
    for i in range(5):
        other = RepoFactory(namespace=owner.namespace, name=f"model-{i}")
        commit_files(other, owner, {"README.md": "# x"})
        Doi.objects.mint(repo=other, user=owner, creators=[alice], **CONSENT)
    changes = [
        {},
        {"error_is_permanent": True},
        {"remote_state": Doi.RemoteState.FINDABLE},
        {"remote_state": Doi.RemoteState.FINDABLE, "error_is_permanent": True},
        {"remote_state": Doi.RemoteState.REGISTERED},
        {"remote_state": Doi.RemoteState.REGISTERED, "error_is_permanent": True},
        {"discarded_at": timezone.now()},
        {"discarded_at": timezone.now(), "error_is_permanent": True},
        {"remote_state": Doi.RemoteState.DRAFT},
        {"remote_state": Doi.RemoteState.DRAFT, "error_is_permanent": True},
    ]
    for doi, fields in zip(Doi.objects.order_by("number"), changes, strict=True):
        Doi.objects.filter(pk=doi.pk).update(**fields)
    dois = list(Doi.objects.all())
    assert {d.state for d in dois} == set(Doi.State)
    for state in Doi.State:
        assert set(Doi.objects.in_state(state)) == {d for d in dois if d.state == state}, state


# Later changes ---------------------------------------------------------------------------------


def test_retry_requeues_a_failed_doi(
    repo, mint, datacite, owner, django_capture_on_commit_callbacks
):
    datacite.fail("401", "401")
    version = mint(repo)
    version.refresh_from_db()
    assert version.state == "failed"
    with django_capture_on_commit_callbacks(execute=True):
        version.retry(actor=owner)
    version.refresh_from_db()
    assert version.state == "findable"
    assert version.last_error == ""
    retried = Event.objects.get(doi=version, kind="retried")
    assert retried.actor == owner
    assert "credentials" in retried.message


def test_resend_metadata_pushes_current_data(
    repo, mint, datacite, staff, django_capture_on_commit_callbacks
):
    version = mint(repo)
    with lock_override(actor=staff, reason="A support request"):
        Repo.objects.filter(pk=repo.pk).update(name="renamed-model")
    with django_capture_on_commit_callbacks(execute=True):
        version.resend_metadata()
    version.refresh_from_db()
    assert version.pending_action == ""
    assert datacite.attributes(version.doi)["titles"] == [{"title": "renamed-model"}]
    assert Event.objects.filter(doi=version, kind="updated").count() == 1


def test_hide_and_show(repo, mint, datacite, django_capture_on_commit_callbacks):
    version = mint(repo)
    with django_capture_on_commit_callbacks(execute=True):
        version.hide()
    version.refresh_from_db()
    assert version.state == "hidden"
    assert datacite.state(version.doi) == "registered"
    with django_capture_on_commit_callbacks(execute=True):
        version.show()
    version.refresh_from_db()
    assert version.state == "findable"
    assert datacite.state(version.doi) == "findable"
    kinds = list(Event.objects.filter(doi=version).values_list("kind", flat=True))
    assert kinds[:2] == ["shown", "hidden"]


def test_hiding_a_doi_datacite_never_got_registers_it_hidden(
    repo, owner, alice, datacite, django_capture_on_commit_callbacks
):
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    with django_capture_on_commit_callbacks(execute=True):
        version.hide()
    version.refresh_from_db()
    assert datacite.state(version.doi) == "registered"
    assert version.state == "hidden"


def test_discard_only_for_dois_datacite_does_not_have(repo, owner, alice, mint, datacite):
    datacite.fail("503")
    version = mint(repo)  # the version (pushed first) was not registered, the concept was
    version.refresh_from_db()
    assert version.state == "pending"
    version.discard(owner)
    assert version.state == "discarded"
    assert version.pending_action == ""
    assert Event.objects.filter(doi=version, kind="discarded", actor=owner).exists()
    concept = version.concept
    concept.refresh_from_db()
    with pytest.raises(DoiNotAllowed, match="permanent"):
        concept.discard(owner)
    # A new DOI can now be made for the same revision.
    assert mint(repo).doi == "10.5072/hub/0003"


def test_versions_stop_naming_a_discarded_concept_and_join_the_new_one(
    repo, owner, mint, datacite, staff, django_capture_on_commit_callbacks
):
    datacite.fail("ok", "422")  # the version (pushed first) is registered, the concept refused
    version = mint(repo)
    old_concept = version.concept
    with django_capture_on_commit_callbacks(execute=True):
        old_concept.discard(staff)

    def at_datacite(doi):
        return {
            (r["relationType"], r["relatedIdentifier"])
            for r in datacite.attributes(doi.doi)["relatedIdentifiers"]
        }

    assert ("IsVersionOf", old_concept.doi) not in at_datacite(version)
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    second = mint(repo)
    version.refresh_from_db()
    new_concept = second.concept
    assert new_concept != old_concept
    assert version.concept == new_concept
    assert ("IsVersionOf", new_concept.doi) in at_datacite(version)
    assert ("IsVersionOf", old_concept.doi) not in at_datacite(version)


def test_versions_minted_before_concept_dois_were_turned_on_join_the_concept(
    repo, owner, mint, settings
):
    settings.DOI_CONCEPT_DOIS = False
    first = mint(repo)
    settings.DOI_CONCEPT_DOIS = True
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    second = mint(repo)
    first.refresh_from_db()
    assert first.concept == second.concept is not None
    assert ("IsVersionOf", second.concept.doi) in _relations(first)


def test_a_concept_whose_only_version_was_discarded_can_still_be_updated(
    repo, owner, mint, datacite, staff, django_capture_on_commit_callbacks
):
    datacite.fail("422")  # the version (pushed first) is refused, the concept registered
    version = mint(repo)
    concept = version.concept
    creators = datacite.attributes(concept.doi)["creators"]
    with django_capture_on_commit_callbacks(execute=True):
        version.discard(staff)
    concept.refresh_from_db()
    assert concept.state == "findable" and not concept.error_is_permanent, concept.last_error
    assert datacite.attributes(concept.doi)["relatedIdentifiers"] == []
    assert datacite.attributes(concept.doi)["creators"] == creators
    assert datacite.attributes(concept.doi)["rightsList"] != []
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    second = mint(repo)
    has_version = [
        r["relatedIdentifier"] for r in datacite.attributes(concept.doi)["relatedIdentifiers"]
    ]
    assert has_version == [second.doi]


def test_discard_asks_datacite_first(repo, owner, alice, datacite):
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    datacite.records[version.doi.upper()] = {"state": "findable", "attributes": {}}
    with pytest.raises(DoiNotAllowed, match="does have this DOI"):
        version.discard(owner)
    version.refresh_from_db()
    assert version.discarded_at is None
    assert version.remote_state == "findable"


# Concurrency ------------------------------------------------------------------------------------


def _in_threads(count, target):
    barrier = threading.Barrier(count)
    results = []

    def run(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:  # collected for the assertions
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_make_one_doi(repo, owner, alice):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    results = _in_threads(
        8, lambda i: Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    )
    made = [r for r in results if isinstance(r, Doi)]
    refused = [r for r in results if isinstance(r, DoiNotAllowed)]
    assert len(made) == 1, results
    assert len(refused) == 7, results
    assert _kinds(repo) == ["concept", "version"]
    assert Consent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_for_different_repos_get_unique_numbers(owner, alice):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    repos = []
    for i in range(8):
        repo = RepoFactory(namespace=owner.namespace, name=f"model-{i}")
        commit_files(repo, owner, {"README.md": "# x"})
        repos.append(repo)
    results = _in_threads(
        8, lambda i: Doi.objects.mint(repo=repos[i], user=owner, creators=[alice], **CONSENT)
    )
    assert all(isinstance(r, Doi) for r in results), results
    numbers = list(Doi.objects.values_list("number", flat=True))
    assert sorted(numbers) == list(range(1, 17))
    assert DoiCounter.objects.get().last_number == 16


class _HeldRegistrar(LocalRegistrar):
    """The sandbox registrar, but each upsert waits until the test releases it: a push caught
    in the middle of its request to DataCite."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def upsert(self, doi, attributes, event=None):
        self.started.set()
        self.release.wait(10)
        return super().upsert(doi, attributes, event)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("pushing", ["concept", "previous version"])
def test_a_new_version_minted_while_a_neighbour_is_being_pushed_still_reaches_it(
    repo, owner, alice, pushing
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    first = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    target = first.concept if pushing == "concept" else first
    Doi.objects.filter(pk=target.pk).update(pending_action=Doi.Action.UPDATE)
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    held = _HeldRegistrar()
    results = {}

    def run(name, call):
        try:
            results[name] = call()
        except Exception as exc:  # collected for the assertions
            results[name] = exc
        finally:
            connections.close_all()

    push = threading.Thread(
        target=run, args=("push", lambda: Doi.objects.push(target.pk, registrar=held))
    )
    push.start()
    assert held.started.wait(10)
    mint = threading.Thread(
        target=run,
        args=(
            "mint",
            lambda: Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT),
        ),
    )
    mint.start()
    time.sleep(0.5)  # the new version is being reserved while the push is in flight
    held.release.set()
    push.join(30)
    mint.join(30)

    assert isinstance(results["push"], Push), results
    second = results["mint"]
    assert isinstance(second, Doi), results
    target.refresh_from_db()
    relation = "HasVersion" if pushing == "concept" else "IsPreviousVersionOf"
    assert (relation, second.doi) in _relations(target)
    assert target.pending_action == ""


@pytest.mark.django_db(transaction=True)
def test_a_version_discarded_while_the_concept_is_being_pushed_leaves_the_concept(
    repo, owner, alice, staff
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    concept = version.concept
    # The new version never reached DataCite; the concept did, and has an update to push.
    Doi.objects.filter(pk=version.pk).update(
        remote_state=Doi.RemoteState.NONE, pending_action=Doi.Action.PUBLISH
    )
    Doi.objects.filter(pk=concept.pk).update(pending_action=Doi.Action.UPDATE)
    held = _HeldRegistrar()
    results = {}

    def run(name, call):
        try:
            results[name] = call()
        except Exception as exc:  # collected for the assertions
            results[name] = exc
        finally:
            connections.close_all()

    push = threading.Thread(
        target=run, args=("push", lambda: Doi.objects.push(concept.pk, registrar=held))
    )
    push.start()
    assert held.started.wait(10)
    discard = threading.Thread(target=run, args=("discard", lambda: version.discard(staff)))
    discard.start()
    time.sleep(0.5)  # discarded while the concept's push, built with the version, is in flight
    held.release.set()
    push.join(30)
    discard.join(30)

    assert isinstance(results["push"], Push), results
    assert results["discard"] is None, results
    concept.refresh_from_db()
    assert ("HasVersion", version.doi) not in _relations(concept)
    assert concept.pending_action == ""


# Settings checked at startup ---------------------------------------------------------------------


def _check_ids():
    from doi.checks import check_doi_settings

    return [e.id for e in check_doi_settings(None)]


@pytest.mark.smoke
def test_the_default_settings_pass_the_checks():
    assert _check_ids() == []


@pytest.mark.parametrize(
    ("setting", "value", "error"),
    [
        ("DOI_PREFIX", "10.12", "doi.E001"),
        ("DOI_SUFFIX_PATTERN", "hub/{id}", "doi.E002"),
        ("DOI_SUFFIX_PATTERN", "hub/{number:q}", "doi.E002"),
        ("DOI_SUFFIX_PATTERN", "hub/fixed", "doi.E003"),
        ("DOI_SUFFIX_PATTERN", "hub {number}", "doi.E004"),
        ("DOI_SUFFIX_PATTERN", "hüb/{number}", "doi.E004"),
        ("DOI_REGISTRAR", "nowhere", "doi.E005"),
    ],
)
def test_bad_doi_settings_stop_the_site(settings, setting, value, error):
    setattr(settings, setting, value)
    assert error in _check_ids()


def test_datacite_needs_credentials(settings):
    settings.DOI_REGISTRAR = "datacite"
    settings.DATACITE_REPOSITORY_ID = "HUB.TEST"
    settings.DATACITE_PASSWORD = ""
    assert _check_ids() == ["doi.E006"]


# The repository lock ---------------------------------------------------------------------------


def test_each_reserved_doi_locks_the_repository(repo, owner, alice):
    from repos.models import RepoLocked

    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    holders = set(repo.locks.values_list("holder", "reason"))
    assert holders == {(f"doi:{version.doi}", "DOI"), (f"doi:{version.concept.doi}", "DOI")}
    with pytest.raises(RepoLocked, match="locked by DOI"):
        repo.set_private(True)


def test_a_refused_reservation_takes_no_lock(repo, stranger, alice):
    with pytest.raises(DoiNotAllowed):
        Doi.objects.mint(repo=repo, user=stranger, creators=[alice], **CONSENT)
    assert not repo.is_locked


def test_discarding_releases_only_that_dois_lock(repo, owner, alice, staff):
    version = Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    version.discard(staff)
    assert set(repo.locks.values_list("holder", flat=True)) == {f"doi:{version.concept.doi}"}

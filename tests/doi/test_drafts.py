"""Reserve DOI: a private repository's DOI as a draft at DataCite, published when the repository
goes public, deleted when it is deleted; against the DataCite-like server."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from doi.forms import RESERVE_CONSENT_TEXT
from doi.models import Doi, DoiNotAllowed, Event
from doi.tasks import sync_doi
from repos.models import Repo, RepoLocked
from tests.doi.conftest import CONSENT
from tests.factories import MembershipFactory, RepoFactory, UserFactory, commit_files


@pytest.fixture(autouse=True)
def _one_doi_per_mint(settings):
    settings.DOI_CONCEPT_DOIS = False


@pytest.fixture
def private(repo):
    repo.set_private(True)
    return repo


def sent(datacite, doi, method="PUT") -> list[dict]:
    return [json.loads(r["body"])["data"]["attributes"] for r in datacite.requests_for(doi, method)]


def _time_passes():
    Doi.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_reserve_creates_a_draft_without_event_or_url(private, reserve, datacite):
    doi = reserve(private)
    doi.refresh_from_db()
    (payload,) = sent(datacite, doi.doi)
    assert "event" not in payload and "url" not in payload
    assert payload["creators"][0]["name"] == "Liddell, Alice"
    assert datacite.state(doi.doi) == "draft"
    assert doi.state == Doi.State.RESERVED and doi.remote_state == "draft"
    assert doi.pending_action == "" and doi.registered_at is None
    assert not doi.at_datacite  # not resolvable
    assert list(doi.events.values_list("kind", flat=True)) == ["drafted", "reserved"]
    assert doi.consents.get().text == CONSENT["consent_text"]


def test_a_draft_only_repository_is_not_locked(private, reserve, datacite):
    reserve(private)
    private.refresh_from_db()
    assert private.lock_reasons == []
    private.name = "renamed-model"
    private.save()  # a rename is allowed


def test_reserve_is_refused_for_a_public_repository(repo, owner, alice):
    with pytest.raises(DoiNotAllowed, match="Only a private repository"):
        Doi.objects.mint(repo=repo, user=owner, creators=[alice], draft=True, **CONSENT)


def test_going_public_publishes_the_draft_with_its_url_and_locks(
    private, reserve, datacite, django_capture_on_commit_callbacks
):
    doi = reserve(private)
    private.name = "renamed-model"
    private.save()
    with django_capture_on_commit_callbacks(execute=True):
        private.set_private(False)
    doi.refresh_from_db()
    reserve_payload, publish_payload = sent(datacite, doi.doi)
    assert publish_payload["event"] == "publish"
    assert publish_payload["url"] == f"https://hub.example.org/doi/{doi.doi}"
    # The rename reaches DataCite with the publication: the metadata is rebuilt then.
    assert reserve_payload["titles"] == [{"title": "sentiment-model"}]
    assert publish_payload["titles"] == [{"title": "renamed-model"}]
    assert datacite.state(doi.doi) == "findable"
    assert doi.state == Doi.State.FINDABLE and doi.registered_at is not None
    assert doi.events.filter(kind=Event.Kind.MINTED).exists()
    private.refresh_from_db()
    assert private.lock_reasons == ["DOI"]
    with pytest.raises(RepoLocked):
        private.set_private(True)


def test_a_failed_publish_is_stored_and_retried(
    private, reserve, datacite, django_capture_on_commit_callbacks
):
    doi = reserve(private)
    datacite.fail("503")
    with django_capture_on_commit_callbacks(execute=True):
        private.set_private(False)
    doi.refresh_from_db()
    assert doi.pending_action == "publish" and doi.remote_state == "draft"
    assert "HTTP 503" in doi.last_error and not doi.error_is_permanent
    assert doi.next_attempt_at is not None
    _time_passes()
    sync_doi.call(doi.pk)
    doi.refresh_from_db()
    assert doi.state == Doi.State.FINDABLE and doi.last_error == ""
    assert datacite.state(doi.doi) == "findable"


def test_a_failed_reserve_is_stored_and_retried(private, reserve, datacite):
    datacite.fail("503")
    doi = reserve(private)
    doi.refresh_from_db()
    assert doi.state == Doi.State.PENDING and doi.pending_action == "reserve"
    assert "HTTP 503" in doi.last_error
    assert datacite.state(doi.doi) is None
    _time_passes()
    sync_doi.call(doi.pk)
    doi.refresh_from_db()
    assert doi.state == Doi.State.RESERVED
    assert datacite.state(doi.doi) == "draft"
    assert all("event" not in p for p in sent(datacite, doi.doi))


def test_deleting_the_repository_deletes_the_draft(
    private, reserve, datacite, django_capture_on_commit_callbacks
):
    doi = reserve(private)
    with django_capture_on_commit_callbacks(execute=True):
        private.delete()
    assert len(datacite.requests_for(doi.doi, "DELETE")) == 1
    assert datacite.state(doi.doi) is None
    doi.refresh_from_db()
    assert doi.state == Doi.State.DISCARDED and doi.remote_state == "none"
    assert doi.events.filter(kind=Event.Kind.DELETED).exists()
    private = Repo.objects.get(pk=private.pk)
    assert private.is_removed  # a tombstone, as the DOI row names it
    assert doi.doi in private.removal_reason


def test_a_failed_delete_is_stored_and_retried(
    private, reserve, datacite, django_capture_on_commit_callbacks
):
    doi = reserve(private)
    datacite.fail("500")
    with django_capture_on_commit_callbacks(execute=True):
        private.delete()
    doi.refresh_from_db()
    assert doi.pending_action == "delete" and "HTTP 500" in doi.last_error
    assert doi.state == Doi.State.RESERVED and datacite.state(doi.doi) == "draft"
    _time_passes()
    sync_doi.call(doi.pk)
    doi.refresh_from_db()
    assert doi.state == Doi.State.DISCARDED
    assert datacite.state(doi.doi) is None


def test_the_state_filters(private, reserve, datacite):
    doi = reserve(private)
    doi.refresh_from_db()
    assert list(Doi.objects.reserved()) == [doi]
    assert list(Doi.objects.in_state(Doi.State.RESERVED)) == [doi]
    assert list(Doi.objects.drafts()) == [doi]
    assert not Doi.objects.pending().exists() and not Doi.objects.findable().exists()
    for state in Doi.State:
        assert list(Doi.objects.in_state(state)) == ([doi] if state == doi.state else [])


def test_a_reservation_not_yet_confirmed_counts_as_a_draft(private, owner, alice):
    doi = Doi.objects.mint(repo=private, user=owner, creators=[alice], draft=True, **CONSENT)
    assert doi.state == Doi.State.PENDING
    assert list(Doi.objects.drafts()) == [doi]
    assert not Doi.objects.reserved().exists()


# The form behind Reserve DOI ----------------------------------------------------------------


def url(repo) -> str:
    return reverse(f"doi-owner:{repo.type}-generate", args=[repo.namespace.name, repo.name])


def form_data(name="Jane Doe") -> dict:
    row = {"type": "Personal", "name": name, "given_name": "", "family_name": ""}
    row |= {"orcid": "", "affiliation": ""}
    data = {"authors-TOTAL_FORMS": "1", "authors-INITIAL_FORMS": "0"}
    data |= {f"authors-0-{k}": v for k, v in row.items()}
    return data | {"acknowledge": "on", "action": "generate"}


def test_the_section_offers_reserve_and_says_what_it_means(client, owner, private):
    client.force_login(owner)
    html = client.get(private.url("settings")).content.decode()
    assert "Reserve DOI</a>" in html and "Generate DOI</a>" not in html
    assert "does not resolve yet" in html and "Making the repository public publishes it" in html


def test_the_form_reserves_a_draft(
    client, owner, private, datacite, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    page = client.get(url(private)).content.decode()
    assert ">Reserve DOI</button>" in page and "does not resolve yet" in page
    assert "&quot;url&quot;" not in page  # the preview shows what is sent: no URL
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(private), form_data(), follow=True)
    doi = Doi.objects.get()
    assert doi.state == Doi.State.RESERVED
    assert "is reserved as a draft" in response.content.decode()
    assert doi.consents.get().text == RESERVE_CONSENT_TEXT
    private.refresh_from_db()
    assert private.lock_reasons == []


def test_an_org_admin_may_reserve(client, owner, org, datacite, django_capture_on_commit_callbacks):
    admin = UserFactory(username="ada", full_name="Ada Admin")
    MembershipFactory(organization=org, user=admin, role="admin")
    repo = RepoFactory(namespace=org.namespace, name="shared", private=True)
    commit_files(repo, owner, {"README.md": "# Shared\n"})
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(repo), form_data("Ada Admin"))
    assert Doi.objects.get().state == Doi.State.RESERVED


def test_a_write_member_gets_403_and_a_stranger_404(client, owner, org, writer, stranger):
    repo = RepoFactory(namespace=org.namespace, name="shared", private=True)
    commit_files(repo, owner, {"README.md": "# Shared\n"})
    client.force_login(writer)
    assert client.get(url(repo)).status_code == 403
    assert client.post(url(repo), form_data()).status_code == 403
    client.force_login(stranger)
    assert client.get(url(repo)).status_code == 404
    assert client.post(url(repo), form_data()).status_code == 404
    assert not Doi.objects.exists()


def delete_as_owner(client, owner, repo) -> str:
    """Delete as the owner, the DELETE at DataCite running when the delete commits, as it does
    on a hub (so the message can say what DataCite answered)."""
    client.force_login(owner)
    response = client.post(repo.url("delete"), {"confirm": repo.full_name}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_delete_message_says_the_draft_was_deleted(client, owner, private, reserve, datacite):
    doi = reserve(private)
    html = delete_as_owner(client, owner, private)
    assert (
        f"Deleted {private.full_name}. The reserved DOI {doi.doi} was deleted at DataCite; it "
        "never resolved."
    ) in html
    assert len(datacite.requests_for(doi.doi, "DELETE")) == 1


def test_the_delete_message_says_a_queued_delete_is_under_way(
    client, owner, private, reserve, datacite
):
    doi = reserve(private)
    client.force_login(owner)
    # Without running the queued push (a worker does it later).
    response = client.post(private.url("delete"), {"confirm": private.full_name}, follow=True)
    assert (
        f"The reserved DOI {doi.doi} is being deleted at DataCite; it never resolved."
    ) in response.content.decode()


# The settings page names the drafts that making public publishes and deleting deletes ---------


def test_the_settings_page_names_the_drafts_each_action_changes(client, owner, private, reserve):
    client.force_login(owner)
    assert (
        'class="notice info foreseen"' not in client.get(private.url("settings")).content.decode()
    )
    doi = reserve(private)
    html = client.get(private.url("settings")).content.decode()
    assert (
        f"Making it public also publishes the reserved DOI {doi.doi} at DataCite, with the "
        "acknowledgement given when reserving: from then on it resolves at doi.org"
    ) in html
    assert (
        f"Deleting it also deletes the reserved DOI {doi.doi} at DataCite. It never resolved, "
        "and will be unknown from then on: take it out of any paper you put it in."
    ) in html


def test_the_settings_page_names_a_concept_draft_too(client, owner, private, reserve, settings):
    settings.DOI_CONCEPT_DOIS = True
    version = reserve(private)
    client.force_login(owner)
    html = client.get(private.url("settings")).content.decode()
    names = f"the reserved DOIs {version.concept.doi} and {version.doi}"
    assert f"publishes {names} at DataCite" in html and f"deletes {names} at DataCite" in html
    assert "They never resolved" in html and "take them out of any paper you put them in" in html


@pytest.mark.django_db(transaction=True)
def test_a_transient_refusal_to_delete_says_when_the_hub_tries_again(
    client, owner, private, reserve, datacite
):
    doi = reserve(private)
    datacite.fail("500", "500", doi=doi.doi)  # the inline retry too
    html = delete_as_owner(client, owner, private)
    assert (
        f"DataCite has not deleted the reserved DOI {doi.doi} yet: DataCite is not working "
        "properly right now (HTTP 500), so the hub will try again automatically at"
    ) in html
    assert "nothing else is needed from you" in html
    doi.refresh_from_db()
    assert doi.pending_action == Doi.Action.DELETE and not doi.error_is_permanent


@pytest.mark.django_db(transaction=True)
def test_a_refusal_to_delete_a_draft_published_elsewhere_is_kept_for_staff(
    client, owner, private, reserve, datacite
):
    doi = reserve(private)
    datacite.records[doi.doi.upper()]["state"] = "findable"  # published in Fabrica, say
    html = delete_as_owner(client, owner, private)
    assert (
        f"DataCite refused to delete the reserved DOI {doi.doi}: DataCite deletes only drafts, "
        "and this DOI is no longer a draft there (HTTP 405)"
    ) in html
    assert "kept on record for staff to settle; write to support@localhost" in html
    doi.refresh_from_db()
    assert doi.error_is_permanent and "no longer a draft there" in doi.last_error
    assert doi.pending_action == Doi.Action.DELETE and doi.discarded_at is None
    # The owner finds it again on the DOI's page; a stranger does not.
    page = client.get(reverse("doi:resolve", args=[doi.doi])).content.decode()
    assert "DataCite has not deleted it yet." in page and "no longer a draft there" in page
    client.logout()
    page = client.get(reverse("doi:resolve", args=[doi.doi])).content.decode()
    assert "its reservation is being withdrawn" in page and "no longer a draft" not in page

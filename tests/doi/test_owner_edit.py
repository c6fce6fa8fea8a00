"""Edit metadata: the owner changes a live DOI's authors and description after minting; the
hub PUTs the same DOI without an event to the DataCite-like server, and keeps the edit."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from doi import citations, history
from doi.forms import EDIT_CONSENT_VERSION
from doi.metadata import clean_creator
from doi.models import Consent, Doi, Event
from repos.models import lock_override
from tests.factories import MembershipFactory, RepoFactory, UserFactory, commit_files

from .conftest import CARD

ALICE = {"type": "Personal", "name": "Alice Liddell", "orcid": "0000-0002-1825-0097"}
ALICE_ROW = ALICE | {"affiliation": "Wonderland University"}
JANE = {"type": "Personal", "given_name": "Jane", "family_name": "Doe", "affiliation": "Oxford"}


def url(doi: Doi) -> str:
    repo = doi.repo
    return reverse(f"doi-owner:{repo.type}-edit", args=[repo.namespace.name, repo.name, doi.pk])


def form_data(*authors: dict, description: str | None = None, action="save", ack=False) -> dict:
    data = {"authors-TOTAL_FORMS": str(len(authors)), "authors-INITIAL_FORMS": "0"}
    for i, author in enumerate(authors):
        row = {"type": "Personal", "name": "", "given_name": "", "family_name": ""}
        row |= {"orcid": "", "affiliation": ""} | author
        data |= {f"authors-{i}-{k}": v for k, v in row.items()}
    if description is not None:
        data["description"] = description
    if ack:
        data["acknowledge"] = "on"
    return data | {"action": action}


def put_bodies(datacite, doi: Doi) -> list[dict]:
    return [json.loads(r["body"])["data"]["attributes"] for r in datacite.requests_for(doi.doi)]


def save(client, doi, *authors, capture, **kwargs):
    with capture(execute=True):
        return client.post(url(doi), form_data(*authors, **kwargs))


# The form ----------------------------------------------------------------------------------


def test_it_shows_the_record_as_it_stands_and_what_cannot_change(logged_in, minted):
    html = logged_in.get(url(minted)).content.decode()
    assert f'Edit metadata of <span class="mono">doi:{minted.doi}</span>' in html
    assert 'value="Alice Liddell"' in html and 'value="Wonderland University"' in html
    assert re.search(r"<textarea name=\"description\"[^>]*>\s*A small model that tells", html)
    assert "title, version, publisher, year, type and URL" in html
    # The same preview as at generation: the exact attributes, with this DOI's own name.
    assert "What will be sent to DataCite" in html and minted.doi in html
    assert "The next free name" not in html
    assert "New in the record" not in html  # no one new yet


def test_the_section_offers_edit_metadata_for_every_live_doi(logged_in, repo, minted):
    html = logged_in.get(repo.url("settings")).content.decode()
    assert f'href="{url(minted)}"' in html
    assert f'href="{url(minted.concept)}"' in html


def test_the_preview_shows_the_edit_before_anything_is_saved(logged_in, minted, datacite):
    puts = len(datacite.requests)
    headers = {"HX-Request": "true", "HX-Target": "doi-preview"}
    data = form_data(ALICE, JANE, description="New words.", action="preview")
    html = logged_in.post(url(minted), data, headers=headers).content.decode()
    assert 'id="doi-preview"' in html and "Doe, Jane" in html and "New words." in html
    # Jane is new: the acknowledgement comes along, out of band.
    assert 'id="doi-edit-consent" hx-swap-oob="true"' in html and "Jane Doe" in html
    assert "Tick the box" not in html  # asked for on Save, not while typing
    assert len(datacite.requests) == puts
    minted.refresh_from_db()
    assert [c["name"] for c in minted.creators] == ["Alice Liddell"]


def test_row_buttons_keep_the_description(logged_in, minted):
    data = form_data(ALICE, description="Kept words.", action="add")
    html = logged_in.post(url(minted), data).content.decode()
    assert "Kept words.</textarea>" in html
    assert html.count('name="authors-1-name"') == 1


# Saving -------------------------------------------------------------------------------------


def test_it_puts_the_same_doi_without_an_event_and_keeps_its_state(
    logged_in, minted, datacite, django_capture_on_commit_callbacks
):
    before = put_bodies(datacite, minted)
    assert [b.get("event") for b in before] == ["publish"]
    response = save(
        logged_in,
        minted,
        JANE,
        ALICE_ROW,
        description="Tells happy from sad.",
        ack=True,
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    assert response.url == minted.repo.url("settings") + "#doi-section"
    sent = put_bodies(datacite, minted)[-1]
    assert "event" not in sent
    minted.refresh_from_db()
    assert sent == minted.metadata
    assert [c["name"] for c in sent["creators"]] == ["Doe, Jane", "Liddell, Alice"]
    assert sent["creators"][0]["affiliation"] == [{"name": "Oxford"}]
    assert sent["descriptions"] == [
        {"description": "Tells happy from sad.", "descriptionType": "Abstract"}
    ]
    # Everything else is what it was.
    for key in ("titles", "publisher", "publicationYear", "types", "version", "url", "doi"):
        assert sent[key] == before[0][key]
    assert datacite.state(minted.doi) == "findable"
    assert minted.state == Doi.State.FINDABLE and minted.pending_action == ""
    assert Event.objects.filter(doi=minted, kind=Event.Kind.UPDATED).exists()


def test_the_trail_says_who_changed_what_before_and_after(
    logged_in, owner, minted, django_capture_on_commit_callbacks
):
    save(
        logged_in,
        minted,
        ALICE_ROW | {"affiliation": "Looking-Glass College"},
        description="New words.",
        capture=django_capture_on_commit_callbacks,
    )
    event = Event.objects.get(doi=minted, kind=Event.Kind.EDITED)
    assert event.actor == owner
    assert event.message.splitlines() == [
        "Authors before: 1. Liddell, Alice (ORCID 0000-0002-1825-0097, Wonderland University)",
        "Authors after: 1. Liddell, Alice (ORCID 0000-0002-1825-0097, Looking-Glass College)",
        "Description before: “A small model that tells happy from sad sentences, trained on "
        "reviews.”",
        "Description after: “New words.”",
    ]
    # Readable on the edit page, and in the DOI page's History.
    html = logged_in.get(url(minted)).content.decode()
    assert "Earlier changes" in html and "Authors after: 1. Liddell, Alice" in html
    assert "by alice" in html


def test_the_doi_page_history_and_the_admin_show_the_before_and_after(
    logged_in, admin_client, minted, django_capture_on_commit_callbacks
):
    save(
        logged_in,
        minted,
        ALICE,
        description="New words.",
        capture=django_capture_on_commit_callbacks,
    )
    admin = admin_client.get(reverse("admin:doi_doi_change", args=[minted.pk])).content.decode()
    assert "Metadata edited" in admin and "Description after: “New words.”" in admin
    trail = history.for_doi_page(minted, can_view_repo=True)
    assert any(e.get_kind_display() == "Metadata edited" for e in trail)


def test_nothing_changed_sends_nothing(
    logged_in, minted, datacite, django_capture_on_commit_callbacks
):
    record = minted.record_defaults()
    puts = len(datacite.requests)
    response = save(
        logged_in,
        minted,
        ALICE_ROW,
        description=record["description"],
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    assert len(datacite.requests) == puts
    assert not Event.objects.filter(kind=Event.Kind.EDITED).exists()


# Consent for people new to the record ---------------------------------------------------------


def test_a_new_person_needs_the_acknowledgement(logged_in, minted, datacite):
    puts = len(datacite.requests)
    html = logged_in.post(url(minted), form_data(ALICE_ROW, JANE)).content.decode()
    assert "New in the record" in html
    assert "full names of Jane Doe will be transferred to DataCite" in html
    assert "Tick the box to confirm you have read this." in html
    assert 'value="Jane"' in html  # nothing the owner typed is lost
    assert len(datacite.requests) == puts
    minted.refresh_from_db()
    assert len(minted.creators) == 1 and Consent.objects.filter(doi=minted).count() == 1


def test_the_consent_for_new_names_is_stored_as_at_minting(
    logged_in, owner, minted, django_capture_on_commit_callbacks
):
    save(logged_in, minted, ALICE_ROW, JANE, ack=True, capture=django_capture_on_commit_callbacks)
    minted.refresh_from_db()
    consent = Consent.objects.filter(doi=minted).latest("created_at")
    assert (consent.user, consent.repo, consent.doi) == (owner, minted.repo, minted)
    assert consent.text_version == EDIT_CONSENT_VERSION
    assert "Jane Doe" in consent.text and "DataCite" in consent.text
    assert consent.payload == minted.metadata
    assert consent.payload["creators"][1]["name"] == "Doe, Jane"


def test_reordering_or_renaming_organizations_needs_no_new_acknowledgement(
    logged_in, repo, mint, datacite, django_capture_on_commit_callbacks
):
    version = mint(repo, creators=[ALICE, JANE])
    org = {"type": "Organizational", "name": "Wonderland Lab"}
    save(logged_in, version, JANE, org, ALICE, capture=django_capture_on_commit_callbacks)
    version.refresh_from_db()
    assert [c["name"] for c in version.creators] == ["Jane Doe", "Wonderland Lab", "Alice Liddell"]
    assert Consent.objects.filter(doi=version).count() == 1


def test_a_person_known_by_orcid_is_not_new_when_their_name_is_corrected(minted):
    corrected = {**ALICE, "name": "Alice P. Liddell", "given_name": "", "family_name": ""}
    corrected |= {"affiliation": ""}
    assert minted.new_people([clean_creator(corrected)]) == []


# Kept from then on --------------------------------------------------------------------------


def test_every_citation_format_shows_the_edited_metadata(
    client, logged_in, minted, django_capture_on_commit_callbacks
):
    save(
        logged_in,
        minted,
        {"type": "Personal", "given_name": "Zoë", "family_name": "Quill"},
        description="Edited abstract words.",
        ack=True,
        capture=django_capture_on_commit_callbacks,
    )
    minted.refresh_from_db()
    for name, fmt in citations.FORMATS.items():
        text = fmt.render(minted)
        assert "Quill" in text, name
        assert "Liddell" not in text, name
    page = client.get(reverse("doi:resolve", args=[minted.doi]), {"format": "csl"})
    assert "Quill" in page.content.decode() and "Edited abstract words." in page.content.decode()
    # The Cite panel on the repository page.
    html = client.get(minted.repo.url("page")).content.decode()
    assert "Quill" in html and "Liddell, A" not in html


def test_later_pushes_keep_the_edit(
    logged_in, owner, repo, minted, datacite, mint, django_capture_on_commit_callbacks
):
    save(
        logged_in,
        minted,
        ALICE_ROW,
        description="Our words.",
        capture=django_capture_on_commit_callbacks,
    )
    # A new version links the old one (a rebuild and a push of it) …
    commit_files(repo, owner, {"README.md": CARD + "\nMore.\n"})
    mint(repo)
    # … and staff re-send its metadata.
    with django_capture_on_commit_callbacks(execute=True):
        minted.resend_metadata()
    bodies = put_bodies(datacite, minted)
    assert len(bodies) == 4
    for body in bodies[1:]:
        assert body["descriptions"][0]["description"] == "Our words."
    assert any(r["relationType"] == "IsPreviousVersionOf" for r in bodies[-1]["relatedIdentifiers"])


def test_editing_the_latest_version_updates_the_concept_that_follows_it(
    logged_in, minted, datacite, django_capture_on_commit_callbacks
):
    concept = minted.concept
    save(
        logged_in,
        minted,
        JANE,
        description="Shared words.",
        ack=True,
        capture=django_capture_on_commit_callbacks,
    )
    sent = put_bodies(datacite, concept)[-1]
    assert "event" not in sent
    assert [c["name"] for c in sent["creators"]] == ["Doe, Jane"]
    assert sent["descriptions"][0]["description"] == "Shared words."
    concept.refresh_from_db()
    assert concept.creators == [] and concept.record == {}  # still following the version


def test_a_concept_doi_keeps_its_own_authors_and_follows_the_versions_otherwise(
    logged_in, owner, repo, minted, datacite, mint, django_capture_on_commit_callbacks
):
    concept = minted.concept
    save(logged_in, concept, JANE, ack=True, capture=django_capture_on_commit_callbacks)
    concept.refresh_from_db()
    assert [c["name"] for c in concept.creators] == ["Jane Doe"]
    assert concept.record == {}  # the description was left as the versions have it
    assert "event" not in put_bodies(datacite, concept)[-1]
    commit_files(repo, owner, {"README.md": "---\nsummary: Second.\n---\n# X\n"})
    mint(repo)
    concept.refresh_from_db()
    assert [c["name"] for c in concept.metadata["creators"]] == ["Doe, Jane"]
    assert concept.metadata["descriptions"][0]["description"] == "Second."


# DataCite failing for now ---------------------------------------------------------------------


def test_a_transient_failure_keeps_retrying_and_says_updating_at_datacite(
    logged_in, minted, datacite, django_capture_on_commit_callbacks
):
    datacite.fail("503")
    response = save(
        logged_in,
        minted,
        ALICE_ROW,
        description="Later.",
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    minted.refresh_from_db()
    assert minted.update_pending and minted.pending_action == Doi.Action.UPDATE
    assert not minted.error_is_permanent and minted.next_attempt_at is not None
    assert minted.state == Doi.State.FINDABLE and datacite.state(minted.doi) == "findable"
    section = logged_in.get(minted.repo.url("doi-owner:section"), headers={"HX-Request": "true"})
    assert "Updating at DataCite…" in section.content.decode()
    assert "updating at DataCite" in logged_in.get(url(minted)).content.decode()
    # The edit shows already; once DataCite is back, the retry sends it.
    assert minted.metadata["descriptions"][0]["description"] == "Later."
    Doi.objects.filter(pk=minted.pk).update(next_attempt_at=None)
    Doi.objects.push(minted.pk)
    minted.refresh_from_db()
    assert not minted.update_pending
    assert datacite.attributes(minted.doi)["descriptions"][0]["description"] == "Later."


# Who may ------------------------------------------------------------------------------------


def test_an_org_admin_may_edit(
    client, owner, org, mint, datacite, django_capture_on_commit_callbacks
):
    repo = RepoFactory(namespace=org.namespace, name="shared")
    commit_files(repo, owner, {"README.md": CARD})
    version = mint(repo)
    admin = UserFactory(username="dinah", full_name="Dinah Admin")
    MembershipFactory(organization=org, user=admin, role="admin")
    client.force_login(admin)
    assert client.get(url(version)).status_code == 200
    save(
        client,
        version,
        ALICE,
        description="By the admin.",
        capture=django_capture_on_commit_callbacks,
    )
    event = Event.objects.get(kind=Event.Kind.EDITED)
    assert event.actor == admin


@pytest.mark.parametrize("member", ["writer", "reader"])
def test_org_members_below_admin_get_403(client, request, owner, org, mint, member):
    repo = RepoFactory(namespace=org.namespace, name="shared")
    commit_files(repo, owner, {"README.md": CARD})
    version = mint(repo)
    client.force_login(request.getfixturevalue(member))
    assert client.get(url(version)).status_code == 403
    assert client.post(url(version), form_data(ALICE, description="x")).status_code == 403
    assert not Event.objects.filter(kind=Event.Kind.EDITED).exists()


def test_a_stranger_gets_403_on_a_public_repo_and_404_on_a_private_one(
    client, stranger, staff, minted
):
    client.force_login(stranger)
    assert client.get(url(minted)).status_code == 403
    assert client.post(url(minted), form_data(ALICE)).status_code == 403
    repo = minted.repo
    with lock_override(actor=staff, reason="Approved support request"):
        repo.set_private(True)
    assert client.get(url(minted)).status_code == 404
    assert client.post(url(minted), form_data(ALICE)).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, minted):
    for response in (client.get(url(minted)), client.post(url(minted), form_data(ALICE))):
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_it_refuses_other_methods(logged_in, minted):
    assert logged_in.put(url(minted)).status_code == 405
    assert logged_in.delete(url(minted)).status_code == 405


def test_a_doi_of_another_repository_or_a_discarded_one_is_not_found(logged_in, owner, minted):
    other = RepoFactory(namespace=owner.namespace, name="other")
    commit_files(other, owner, {"README.md": CARD})
    wrong = reverse(
        f"doi-owner:{other.type}-edit", args=[owner.namespace.name, other.name, minted.pk]
    )
    assert logged_in.get(wrong).status_code == 404
    Doi.objects.filter(pk=minted.pk).update(discarded_at=minted.created_at)
    assert logged_in.get(url(minted)).status_code == 404


def test_with_htmx_it_swaps_the_form_and_then_the_section(
    logged_in, minted, django_capture_on_commit_callbacks
):
    headers = {"HX-Request": "true", "HX-Target": "doi-section"}
    form = logged_in.get(url(minted), headers=headers).content.decode()
    assert "<html" not in form and 'id="doi-section"' in form and "Save and update" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(
            url(minted), form_data(ALICE_ROW, description="x"), headers=headers
        )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f"The new details of {minted.doi} are saved" in html


def test_without_htmx_the_notice_comes_after_the_redirect(
    logged_in, minted, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(url(minted), form_data(ALICE_ROW, description="x"), follow=True)
    # (The push runs once the request's transaction commits, so it is under way still.)
    assert f"The new details of {minted.doi} are saved; updating at DataCite." in (
        response.content.decode()
    )

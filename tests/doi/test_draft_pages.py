"""What a reserved DOI (a DataCite draft of a private repository) shows: /doi/<doi> is a 404 for
everyone that names nothing of the repository, in every format; who may see the repository gets
citations that say the DOI does not resolve yet; the badge says "reserved"."""

from __future__ import annotations

import json

import pytest
import yaml
from django.urls import reverse
from lxml import etree

from doi.citations import DRAFT_NOTE, FORMATS, FORMATS_BY_MEDIA_TYPE
from doi.models import Doi
from tests.factories import MembershipFactory, RepoFactory, UserFactory, commit_files

HTMX = {"HX-Request": "true"}
# What the record names: the author, the affiliation, the repository and its owner.
PRIVATE = ("Liddell", "Alice", "Wonderland", "sentiment-model", "alice/")


@pytest.fixture(autouse=True)
def _one_doi_per_mint(settings):
    settings.DOI_CONCEPT_DOIS = False


@pytest.fixture
def draft(repo, reserve, datacite) -> Doi:
    repo.set_private(True)
    doi = reserve(repo)
    doi.refresh_from_db()
    assert doi.state == Doi.State.RESERVED
    return doi


def url(doi: Doi, **query) -> str:
    path = reverse("doi:resolve", args=[doi.doi])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def assert_reserved_page(response, doi: Doi) -> str:
    assert response.status_code == 404
    assert set(response["Cache-Control"].split(", ")) == {"private", "no-store"}
    assert "Cookie" in response["Vary"]
    html = response.content.decode()
    assert "DOI reserved, not yet public" in html and doi.doi in html
    return html


def assert_names_nothing(text: str) -> None:
    for word in PRIVATE:
        assert word not in text


# Strangers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "stranger"])
def test_the_page_is_a_404_that_names_nothing(client, stranger, draft, who):
    if who == "stranger":
        client.force_login(stranger)
    html = assert_reserved_page(client.get(url(draft)), draft)
    assert "resolves once its authors make their work public" in html
    assert_names_nothing(html)
    assert "Settings of" not in html


@pytest.mark.parametrize("name", [*FORMATS, "nonsense"])
def test_no_format_names_anything_to_a_stranger(client, stranger, draft, name):
    client.force_login(stranger)
    response = client.get(url(draft, format=name))
    assert_names_nothing(assert_reserved_page(response, draft))
    assert "Content-Disposition" not in response


@pytest.mark.parametrize("media_type", [*FORMATS_BY_MEDIA_TYPE, "text/x-bibliography; style=x"])
def test_no_negotiated_format_names_anything(client, draft, media_type):
    response = client.get(url(draft), headers={"Accept": media_type})
    assert_names_nothing(assert_reserved_page(response, draft))


def test_the_cite_panel_is_a_404_to_a_stranger(client, stranger, draft):
    client.force_login(stranger)
    path = reverse("doi:cite", args=[draft.doi])
    assert client.get(path, headers=HTMX).status_code == 404
    assert client.get(path).status_code == 404


def test_no_linkset_for_a_draft(client, draft):
    assert client.get(reverse("doi:linkset", args=[draft.doi])).status_code == 404


# The badge (a draft's badge used to be a 500: no caveat for the state "reserved") ------------


def svg_texts(response) -> list[str]:
    root = etree.fromstring(response.content)
    svg = "{http://www.w3.org/2000/svg}"
    return [t.text for t in root.iter(f"{svg}text") if t.get("fill-opacity") is None]


def test_the_badge_says_reserved(client, draft):
    response = client.get(reverse("doi:badge", args=[draft.doi]))
    assert response.status_code == 200
    assert svg_texts(response) == ["DOI", f"{draft.doi} (reserved)"]


def test_the_badge_says_reserved_before_datacite_confirmed(client, repo, reserve, datacite):
    repo.set_private(True)
    datacite.fail("503")
    doi = reserve(repo)
    response = client.get(reverse("doi:badge", args=[doi.doi]))
    assert svg_texts(response) == ["DOI", f"{doi.doi} (reserved)"]


# Who may see the repository ------------------------------------------------------------------


def test_the_owner_gets_the_404_with_a_note_and_the_settings(client, owner, draft, repo):
    client.force_login(owner)
    html = assert_reserved_page(client.get(url(draft)), draft)
    assert "will resolve once the repository is public" in html
    assert f'href="{repo.url("settings")}">Settings of alice/sentiment-model</a>' in html


def test_an_org_admin_gets_the_note_and_a_reader_does_not(client, owner, org, reader, reserve):
    repo = RepoFactory(namespace=org.namespace, name="shared", private=True)
    commit_files(repo, owner, {"README.md": "# Shared\n"})
    doi = reserve(repo)
    admin = UserFactory(username="ada")
    MembershipFactory(organization=org, user=admin, role="admin")
    client.force_login(admin)
    assert "Settings of " in assert_reserved_page(client.get(url(doi)), doi)
    client.force_login(reader)
    assert "Settings of " not in assert_reserved_page(client.get(url(doi)), doi)
    # A reader may see the repository, so the citations too.
    response = client.get(url(doi, format="bibtex"))
    assert response.status_code == 200 and DRAFT_NOTE in response.content.decode()


def test_the_owners_citations_say_it_does_not_resolve_yet(client, owner, draft):
    client.force_login(owner)

    def get(name):
        response = client.get(url(draft, format=name))
        assert response.status_code == 200
        assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]
        return response.content.decode()

    assert f"note = {{{DRAFT_NOTE}}}" in get("bibtex")
    assert f"N1  - {DRAFT_NOTE}\r\n" in get("ris")
    assert json.loads(get("csl"))["note"] == DRAFT_NOTE
    message = yaml.safe_load(get("cff"))["message"]
    assert message.startswith(f"{DRAFT_NOTE}: it resolves once the repository is public.")
    assert DRAFT_NOTE not in get("apa")  # APA has no place for it
    negotiated = client.get(url(draft), headers={"Accept": "application/x-bibtex"})
    assert negotiated.status_code == 200 and DRAFT_NOTE in negotiated.content.decode()


def test_the_owners_cite_panel_says_reserved(client, owner, draft, repo):
    client.force_login(owner)
    panel = client.get(reverse("doi:cite", args=[draft.doi]), headers=HTMX).content.decode()
    assert "Reserved, not yet resolvable" in panel and DRAFT_NOTE in panel
    page = client.get(repo.url("page")).content.decode()
    assert "reserved, does not resolve yet" in page and "Reserved, not yet resolvable" in page
    assert "registration pending" not in page


# Once public, or deleted ---------------------------------------------------------------------


def test_once_published_it_redirects_and_its_citations_have_no_note(
    client, draft, repo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        repo.set_private(False)
    draft.refresh_from_db()
    assert draft.state == Doi.State.FINDABLE
    assert client.get(url(draft)).status_code == 302
    assert DRAFT_NOTE not in client.get(url(draft, format="bibtex")).content.decode()
    response = client.get(reverse("doi:badge", args=[draft.doi]))
    assert svg_texts(response) == ["DOI", draft.doi]


def test_a_deleted_repositorys_draft_is_no_tombstone(
    client, owner, draft, repo, datacite, django_capture_on_commit_callbacks
):
    datacite.fail("500")  # the draft stays while DataCite refuses to delete it
    with django_capture_on_commit_callbacks(execute=True):
        repo.delete()
    draft.refresh_from_db()
    assert draft.pending_action == Doi.Action.DELETE
    client.force_login(owner)
    html = assert_reserved_page(client.get(url(draft)), draft)
    assert "its reservation is being withdrawn" in html
    assert_names_nothing(html)
    assert client.get(url(draft, format="bibtex")).status_code == 404


def test_once_deleted_at_datacite_it_is_unknown(
    client, draft, repo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        repo.delete()
    response = client.get(url(draft))
    assert response.status_code == 404 and "DOI not found" in response.content.decode()

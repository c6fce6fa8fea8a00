"""/doi/<doi>: redirects to the repository, content negotiation, downloads, and the DOI's own
page when the repository cannot be shown."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from doi.models import Doi, Event
from repos.models import lock_override
from tests.factories import commit_files

HTMX = {"HX-Request": "true"}


@pytest.fixture
def version(repo, mint) -> Doi:
    return mint(repo)


def url(doi: Doi | str, **query) -> str:
    name = doi.doi if isinstance(doi, Doi) else doi
    path = reverse("doi:resolve", args=[name])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# Redirects --------------------------------------------------------------------------------


@pytest.mark.smoke
def test_a_version_doi_redirects_to_the_repository_at_its_revision(client, repo, version):
    response = client.get(url(version))
    assert response.status_code == 302
    assert response["Location"] == f"/alice/sentiment-model/tree/{repo.head.oid}"
    assert response["Vary"] == "Accept"


def test_a_concept_doi_redirects_to_the_current_repository_page(client, owner, repo, version):
    commit_files(repo, owner, {"weights.bin": "new"})
    response = client.get(url(version.concept))
    assert response.status_code == 302
    assert response["Location"] == "/alice/sentiment-model"


def test_an_older_version_still_redirects_to_its_own_revision(client, owner, repo, mint):
    first = mint(repo)
    first_oid = repo.head.oid
    commit_files(repo, owner, {"weights.bin": "new"})
    mint(repo)
    assert client.get(url(first))["Location"] == f"/alice/sentiment-model/tree/{first_oid}"


@pytest.mark.parametrize(
    "form",
    [
        "10.5072/HUB/0002",
        "doi:10.5072/hub/0002",
        "DOI:10.5072/HUB/0002",
        "https://doi.org/10.5072/hub/0002",
        "https:/doi.org/10.5072/hub/0002",
        "http://dx.doi.org/10.5072/hub/0002",
    ],
)
def test_other_forms_of_the_doi_redirect_to_the_canonical_url(client, version, form):
    assert version.doi == "10.5072/hub/0002"
    response = client.get(f"/doi/{form}?format=bibtex")
    assert response.status_code == 301
    assert response["Location"] == "/doi/10.5072/hub/0002?format=bibtex"


def test_where_a_doi_leads_is_read_with_its_repository_in_one_query(
    repo, version, django_assert_num_queries
):
    with django_assert_num_queries(1):
        doi = Doi.objects.leading_to("10.5072/HUB/0002")
        assert (doi.pk, doi.doi, doi.kind, doi.state, doi.revision_oid) == (
            version.pk,
            "10.5072/hub/0002",
            Doi.Kind.VERSION,
            Doi.State.FINDABLE,
            repo.head.oid,
        )
        assert (doi.repo.pk, doi.repo.full_name, doi.repo.private, doi.repo.is_removed) == (
            repo.pk,
            "alice/sentiment-model",
            False,
            False,
        )
    # The rest of the row is read when asked for, not left at a default.
    assert doi.concept_id == version.concept_id is not None
    assert Doi.objects.leading_to("10.5072/hub/9999") is None


def test_where_a_doi_leads_follows_a_removal_on_the_next_request(client, repo, version):
    assert client.get(url(version)).status_code == 302
    type(repo).objects.filter(pk=repo.pk).update(removed_at=timezone.now(), head=None)
    assert client.get(url(version)).status_code == 410


def test_it_answers_only_get_and_head(client, version):
    assert client.post(url(version)).status_code == 405
    assert client.post(reverse("doi:cite", args=[version.doi])).status_code == 405


# Not found ----------------------------------------------------------------------------------


@pytest.mark.smoke
def test_an_unknown_doi_gets_a_friendly_404(client, db):
    response = client.get("/doi/10.5072/hub/9999")
    assert response.status_code == 404
    html = response.content.decode()
    assert "DOI not found" in html
    assert "has no DOI named <code>10.5072/hub/9999</code>" in html
    assert 'href="https://doi.org/10.5072/hub/9999"' in html


def test_something_that_is_not_a_doi_gets_the_404_without_a_doi_org_link(client, db):
    response = client.get("/doi/not-a-doi")
    assert response.status_code == 404
    assert "doi.org" not in response.content.decode()


def test_a_discarded_doi_is_unknown(client, version):
    Doi.objects.filter(pk=version.pk).update(discarded_at=timezone.now())
    assert client.get(url(version)).status_code == 404


# Content negotiation and downloads ----------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "content_type", "starts"),
    [
        ("application/x-bibtex", "application/x-bibtex", "@misc{sentiment-model_"),
        ("text/x-bibliography", "text/x-bibliography", "Liddell, A. ("),
        ("text/x-bibliography; style=apa", "text/x-bibliography", "Liddell, A. ("),
        ("application/vnd.citationstyles.csl+json", "application/vnd.citationstyles.csl+json", "{"),
        (
            "application/x-research-info-systems",
            "application/x-research-info-systems",
            "TY  - COMP",
        ),
        ("application/vnd.datacite.datacite+xml", "application/vnd.datacite.datacite+xml", "<?xml"),
        ("application/vnd.datacite.datacite+json", "application/vnd.datacite.datacite+json", "{"),
        ("application/vnd.schemaorg.ld+json", "application/vnd.schemaorg.ld+json", "{"),
    ],
)
def test_content_negotiation_answers_each_format(client, version, accept, content_type, starts):
    response = client.get(url(version), headers={"Accept": accept})
    assert response.status_code == 200
    assert response["Content-Type"] == f"{content_type or accept}; charset=utf-8"
    assert response["Vary"] == "Accept"
    assert "Content-Disposition" not in response
    assert response.content.decode().startswith(starts)


@pytest.mark.smoke
def test_csl_json_by_content_negotiation_names_the_doi(client, version):
    response = client.get(
        url(version), headers={"Accept": "application/vnd.citationstyles.csl+json"}
    )
    item = json.loads(response.content)
    assert item["DOI"] == version.doi
    assert item["type"] == "software"
    assert item["author"] == [{"family": "Liddell", "given": "Alice"}]


def test_the_most_preferred_acceptable_type_wins(client, version):
    accept = "text/html;q=0.5, application/x-research-info-systems"
    response = client.get(url(version), headers={"Accept": accept})
    assert response["Content-Type"].startswith("application/x-research-info-systems")


@pytest.mark.parametrize("accept", ["*/*", "text/html,*/*;q=0.8", "application/pdf", ""])
def test_browsers_and_unknown_types_are_redirected(client, version, accept):
    assert client.get(url(version), headers={"Accept": accept}).status_code == 302


def test_another_bibliography_style_is_not_acceptable(client, version):
    response = client.get(url(version), headers={"Accept": "text/x-bibliography; style=chicago"})
    assert response.status_code == 406
    assert "style=apa" in response.content.decode()


@pytest.mark.parametrize(
    "accept", ["text/" + "x" * 10_001, "text/html, application/x-bibtex; q=0." + "9" * 10_001]
)
def test_an_accept_header_too_long_to_read_is_a_clear_400(client, version, accept):
    response = client.get(url(version), headers={"Accept": accept})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Accept header" in response.content.decode()


@pytest.mark.parametrize(
    ("fmt", "extension", "content_type"),
    [
        ("bibtex", "bib", "application/x-bibtex"),
        ("ris", "ris", "application/x-research-info-systems"),
        ("csl", "json", "application/vnd.citationstyles.csl+json"),
        ("xml", "xml", "application/vnd.datacite.datacite+xml"),
    ],
)
def test_downloads_are_attachments_named_after_the_repository(
    client, repo, version, fmt, extension, content_type
):
    response = client.get(url(version, format=fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == f"{content_type}; charset=utf-8"
    filename = f"sentiment-model-{repo.head.short_oid}.{extension}"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'


def test_a_concept_download_is_named_after_the_repository_alone(client, version):
    response = client.get(url(version.concept, format="bibtex"))
    assert response["Content-Disposition"] == 'attachment; filename="sentiment-model.bib"'


def test_an_unknown_download_format_is_404(client, version):
    assert client.get(url(version, format="docx")).status_code == 404


# The DOI's own page -------------------------------------------------------------------------


@pytest.fixture
def private(repo, version, staff):
    # Making a repository with a DOI private is a staff action (issue 4).
    with lock_override(actor=staff, reason="test: made private by staff"):
        repo.set_private(True)
    return repo


@pytest.mark.smoke
def test_a_private_repository_gets_a_public_page_with_the_citation(client, private, version):
    response = client.get(url(version))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This repository is no longer publicly available." in html
    assert f"doi:{version.doi}" in html
    assert "@misc{sentiment-model_" in html
    assert "<i>sentiment-model</i>" in html
    assert '<script type="application/ld+json">' in html
    assert "Wonderland University" in html
    assert "open alice/sentiment-model" not in html


def test_the_owner_of_the_private_repository_gets_a_link_to_it(client, owner, private, version):
    client.force_login(owner)
    html = client.get(url(version)).content.decode()
    assert 'href="/alice/sentiment-model">open alice/sentiment-model</a>' in html


def test_citations_of_a_private_repository_still_negotiate(client, private, version):
    response = client.get(url(version), headers={"Accept": "application/x-bibtex"})
    assert response.status_code == 200
    assert response.content.decode().startswith("@misc{")


def test_a_pending_doi_resolves_locally_but_is_never_called_registered(client, private, version):
    Doi.objects.filter(pk=version.pk).update(remote_state=Doi.RemoteState.NONE)
    # Nor did DataCite ever confirm it, so the page's History has no registration either.
    Event.objects.filter(doi=version, kind=Event.Kind.MINTED).delete()
    html = client.get(url(version)).content.decode()
    assert "registration pending" in html
    assert "Registration with DataCite is pending" in html
    assert "registered" not in html.replace("not registered", "").lower()


def test_a_version_whose_revision_is_gone_keeps_its_page(client, version):
    Doi.objects.filter(pk=version.pk).update(revision=None)
    response = client.get(url(version))
    assert response.status_code == 200
    assert "The files of this version are no longer available." in response.content.decode()


# The Cite panel's switch --------------------------------------------------------------------


def cite_url(doi: Doi, **query) -> str:
    path = reverse("doi:cite", args=[doi.doi])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_switch_swaps_in_the_concept_doi(client, version):
    response = client.get(cite_url(version, show="all"), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="cite-panel" id="cite-panel">')
    assert f"doi:{version.concept.doi}" in html
    assert "title = {sentiment-model}," in html
    assert 'href="?cite=all#cite"' in html


def test_the_switch_swaps_back_to_the_version(client, version):
    html = client.get(cite_url(version), headers=HTMX).content.decode()
    assert f"doi:{version.doi}" in html
    assert "(Revision " in html


def test_without_htmx_the_switch_leads_to_the_page_with_the_panel_open(client, repo, version):
    response = client.get(cite_url(version, show="all"))
    assert response.status_code == 302
    assert response["Location"] == f"/alice/sentiment-model/tree/{repo.head.oid}?cite=all#cite"


@pytest.mark.parametrize("show", ["", "all"])
def test_without_htmx_the_switch_keeps_a_private_repositorys_place_secret(
    client, stranger, staff, private, version, show
):
    # Moved since the DOI was minted: its current name is what a stranger must not learn.
    with lock_override(actor=staff, reason="test: renamed by staff"):
        private.move(namespace=private.namespace, name="secret-successor")
    for user in (None, stranger):
        if user:
            client.force_login(user)
        response = client.get(cite_url(version, show=show) if show else cite_url(version))
        assert response.status_code == 302
        shown = version.concept if show else version
        assert response["Location"] == reverse("doi:resolve", args=[shown.doi])
        assert "secret-successor" not in response["Location"]


def test_without_htmx_the_switch_still_leads_members_into_the_private_repository(
    client, owner, private, version
):
    client.force_login(owner)
    response = client.get(cite_url(version, show="all"))
    assert response["Location"] == f"{private.url('tree', private.head.oid)}?cite=all#cite"


def test_without_htmx_the_switch_of_a_removed_repository_leads_to_the_tombstone(
    client, repo, version
):
    type(repo).objects.filter(pk=repo.pk).update(removed_at=timezone.now(), head=None)
    response = client.get(cite_url(version))
    assert response["Location"] == reverse("doi:resolve", args=[version.doi])


def test_the_switch_is_only_for_version_dois(client, version):
    assert client.get(cite_url(version.concept), headers=HTMX).status_code == 404


def test_a_removed_repository_answers_410_with_a_tombstone(client, repo, version):
    removed_at = timezone.now()
    type(repo).objects.filter(pk=repo.pk).update(
        removed_at=removed_at, removal_reason="Withdrawn at the authors' request.", head=None
    )
    response = client.get(url(version))
    assert response.status_code == 410
    html = response.content.decode()
    assert f"This model was removed on {removed_at:%-d %B %Y}." in html
    assert "Reason: Withdrawn at the authors&#x27; request." in html
    assert "@misc{sentiment-model_" in html
    assert '<script type="application/ld+json">' in html
    assert "open alice/sentiment-model" not in html


def test_head_requests_are_answered_like_get(client, version):
    response = client.head(url(version))
    assert response.status_code == 302
    assert client.head(url(version), headers={"Accept": "application/x-bibtex"}).status_code == 200

"""The DOI on repository pages: the ``doi:`` tag and Cite panel in the header, the outdated banner,
and what they cost in queries."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from doi import slots
from doi.models import Doi
from repos import slots as repo_slots
from repos.models import lock_override
from tests.factories import commit_files


def page(client, repo, revision=None, query: str = "") -> str:
    path = repo.get_absolute_url() if revision is None else revision.get_absolute_url()
    response = client.get(path + query)
    assert response.status_code == 200
    return response.content.decode()


def tag(html: str) -> str | None:
    match = re.search(
        r'<a class="doi-tag" href="([^"]*)"[^>]*>'
        r'<span class="doi-tag-scheme">doi:</span>([^<]*)</a>',
        html,
    )
    return match and f"{match[2]} -> {match[1]}"


def new_revision(repo, owner, content: str):
    return commit_files(repo, owner, {"weights.bin": content})


# The tag and the Cite panel -----------------------------------------------------------------


def test_a_repository_without_doi_has_no_tag(client, repo):
    html = page(client, repo)
    assert "doi-tag" not in html and "Cite" not in html


@pytest.mark.smoke
def test_the_current_page_shows_the_doi_tag_and_the_cite_panel(client, repo, mint):
    doi = mint(repo)
    html = page(client, repo)
    assert tag(html) == f"{doi.doi} -> https://doi.org/{doi.doi}"
    assert '<details class="cite" id="cite">' in html
    assert "<summary" in html and ">Cite</summary>" in html
    assert f"title = {{sentiment-model (Revision {repo.head.short_oid})}}," in html
    assert (
        f"<i>sentiment-model</i> (Version {repo.head.short_oid}) [Machine learning model]" in html
    )
    for fmt in ("bibtex", "csl", "ris", "xml"):
        assert f'href="/doi/{doi.doi}?format={fmt}" download' in html
    assert "registration" not in html


def test_the_panel_switches_between_this_version_and_all_versions(client, repo, mint):
    doi = mint(repo)
    html = page(client, repo)
    assert 'href="?cite=all#cite"' in html
    assert f'hx-get="/doi/cite/{doi.doi}?show=all"' in html
    assert 'href="?cite=version#cite"' in html and f'hx-get="/doi/cite/{doi.doi}"' in html
    assert re.search(r'aria-current="true">This version<', html)


def test_without_javascript_the_all_versions_link_opens_the_panel_on_the_concept(
    client, repo, mint
):
    doi = mint(repo)
    html = page(client, repo, query="?cite=all")
    assert '<details class="cite" id="cite" open>' in html
    assert f"doi:{doi.concept.doi}</a>" in html
    assert "title = {sentiment-model}," in html
    assert re.search(r'aria-current="true">All versions<', html)
    # The tag still names the version shown.
    assert tag(html).startswith(f"{doi.doi} ->")


def test_a_pending_doi_says_so_and_links_to_our_own_url(client, repo, mint):
    doi = mint(repo)
    Doi.objects.filter(pk=doi.pk).update(remote_state=Doi.RemoteState.NONE)
    html = page(client, repo)
    assert tag(html) == f"{doi.doi} -> /doi/{doi.doi}"
    assert '<span class="badge warn">registration pending</span>' in html
    assert "Registration with DataCite is pending" in html


def test_a_failed_doi_says_so(client, repo, mint):
    doi = mint(repo)
    Doi.objects.filter(pk=doi.pk).update(remote_state=Doi.RemoteState.NONE, error_is_permanent=True)
    html = page(client, repo)
    assert '<span class="badge danger">registration failed</span>' in html
    assert "does not resolve at doi.org yet" in html


def test_a_discarded_doi_is_not_shown(client, repo, mint):
    doi = mint(repo)
    Doi.objects.filter(repo=repo).update(discarded_at=doi.created_at)
    assert "doi-tag" not in page(client, repo)


def test_the_owner_sees_the_tag_on_a_private_repository(client, owner, staff, repo, mint):
    doi = mint(repo)
    with lock_override(actor=staff, reason="test: made private by staff"):
        repo.set_private(True)
    client.force_login(owner)
    assert tag(page(client, repo)).startswith(f"{doi.doi} ->")


# Older revisions and the outdated banner ----------------------------------------------------


@pytest.fixture
def two_versions(repo, owner, mint):
    first = mint(repo)
    first_revision = repo.head
    new_revision(repo, owner, "v2")
    second = mint(repo)
    return first, first_revision, second


@pytest.mark.smoke
def test_an_outdated_revision_shows_its_own_doi_and_the_banner(client, repo, two_versions):
    first, first_revision, second = two_versions
    html = page(client, repo, first_revision)
    assert tag(html).startswith(f"{first.doi} ->")
    banner = re.search(r'<div class="notice warning doi-outdated".*?</div>', html, re.S)[0]
    assert "This revision\N{RIGHT SINGLE QUOTATION MARK}s DOI" in banner
    first_link = f'<a class="mono" href="https://doi.org/{first.doi}">doi:{first.doi}</a>'
    assert f"{first_link} is outdated" in banner
    latest_link = f'<a class="mono" href="/alice/sentiment-model">doi:{second.doi}</a>'
    assert f"the latest version is {latest_link}." in banner


def test_the_current_revision_shows_the_latest_doi_without_banner(client, repo, two_versions):
    _, _, second = two_versions
    html = page(client, repo)
    assert tag(html).startswith(f"{second.doi} ->")
    assert "doi-outdated" not in html


def test_an_older_revision_without_doi_shows_none(client, repo, owner, mint):
    old = repo.head
    new_revision(repo, owner, "v2")
    mint(repo)
    html = page(client, repo, old)
    assert "doi-tag" not in html and "doi-outdated" not in html


def test_a_newer_head_without_doi_shows_the_latest_doi(client, repo, owner, mint):
    doi = mint(repo)
    first_oid = repo.head.short_oid
    new_revision(repo, owner, "v2")
    html = page(client, repo)
    assert tag(html).startswith(f"{doi.doi} ->")
    assert f'title="The latest DOI, for revision {first_oid}"' in html
    assert "doi-outdated" not in html


# Query counts -------------------------------------------------------------------------------


def count_queries(client, path: str, *, cached: bool) -> int:
    """The queries of one request, with the page's pieces cached already or not yet."""
    cache.clear()
    if cached:
        assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.fixture
def without_doi_slots():
    """Take the DOI out of the repository pages for a baseline; put it back afterwards."""

    def remove():
        repo_slots.unregister("header", slots.header)
        repo_slots.unregister("banner", slots.banner)

    yield remove
    repo_slots.register("header", slots.header)
    repo_slots.register("banner", slots.banner)


@pytest.mark.parametrize("cached", [False, True], ids=["cold", "cached"])
@pytest.mark.parametrize("versions", [0, 1, 6])
def test_the_doi_costs_at_most_one_query(
    client, repo, owner, mint, without_doi_slots, versions, cached, settings
):
    settings.DOI_QUOTA_PER_REPO_PER_DAY = 0  # six versions in a day, for the count
    for n in range(versions):
        if n:
            new_revision(repo, owner, f"v{n}")
        mint(repo)
    oldest = repo.revisions.order_by("created_at").first()
    pages = [repo.get_absolute_url(), oldest.get_absolute_url()]
    with_doi = [count_queries(client, p, cached=cached) for p in pages]
    if versions:
        assert "doi-tag" in client.get(pages[0]).content.decode()
    if versions > 1:
        assert "doi-outdated" in client.get(pages[1]).content.decode()
    without_doi_slots()
    baseline = [count_queries(client, p, cached=cached) for p in pages]
    assert "doi-tag" not in client.get(pages[0]).content.decode()
    for counted, base in zip(with_doi, baseline, strict=True):
        assert counted - base <= 1

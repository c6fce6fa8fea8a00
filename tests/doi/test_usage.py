"""Citation, view and download counts: fetched from DataCite through the registrar over real
HTTP (``doi_sync --counts``), kept on the DOIs, shown on the repository page, the DOI's page and
the owner's DOI settings."""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import parse_qs

import pytest
from django.core.management import call_command

from doi.models import Doi
from doi.registrars import RegistrarError, Usage, get_registrar
from repos.models import lock_override
from tests.factories import commit_files


def _sync(*args):
    out, err = StringIO(), StringIO()
    call_command("doi_sync", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def two_versions(repo, owner, mint, datacite):
    """A repository with two findable versions and their concept, each counted at DataCite."""
    first = mint(repo)
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    second = mint(repo)
    concept = second.concept
    datacite.count(first.doi, citations=2, views=10, downloads=3)
    datacite.count(second.doi, citations=1, views=5, downloads=1)
    datacite.count(concept.doi, citations=4, views=0, downloads=0)
    return first, second, concept


def test_the_registrar_reads_every_page_of_the_account_s_counts(
    two_versions, datacite, monkeypatch
):
    monkeypatch.setattr("doi.registrars.USAGE_PAGE_SIZE", 2)
    first, second, concept = two_versions
    datacite.requests.clear()
    usage = get_registrar().usage()
    assert usage == {
        first.doi.upper(): Usage(2, 10, 3),
        second.doi.upper(): Usage(1, 5, 1),
        concept.doi.upper(): Usage(4, 0, 0),
    }
    pages = [r for r in datacite.requests if r["path"] == "/dois"]
    assert len(pages) == 2
    query = parse_qs(pages[0]["query"])
    assert query["client-id"] == ["hub.test"]
    assert query["fields[dois]"] == ["citationCount,viewCount,downloadCount"]


def test_an_unreadable_page_is_a_transient_error(two_versions, datacite):
    datacite.fail("malformed")
    with pytest.raises(RegistrarError) as caught:
        get_registrar().usage()
    assert not caught.value.permanent


def test_doi_sync_counts_stores_them_with_the_concept_s_total(two_versions, datacite):
    first, second, concept = two_versions
    out, err = _sync("--counts")
    assert "Counts fetched from DataCite for 3 DOI(s)." in out
    assert err == ""
    for doi in (first, second, concept):
        doi.refresh_from_db()
    assert first.usage == Usage(2, 10, 3)
    assert second.usage == Usage(1, 5, 1)
    assert concept.usage == Usage(4 + 2 + 1, 10 + 5, 3 + 1)  # its own and its versions'


def test_counts_are_paced_like_every_other_request(two_versions, datacite, settings):
    settings.DATACITE_REQUESTS_PER_MINUTE = 60
    datacite.fail("429")  # Retry-After: 1
    _out, err = _sync("--counts", "--quiet")
    assert "Counts not fetched: DataCite asked the hub to send fewer requests" in err
    _sync("--counts", "--quiet")
    refused, accepted = [r for r in datacite.requests if r["path"] == "/dois"]
    assert accepted["at"] - refused["at"] >= 1.0
    assert Doi.objects.filter(counted_at__isnull=False).count() == 3


def test_a_failed_fetch_keeps_the_last_counts(two_versions, datacite):
    first, *_ = two_versions
    _sync("--counts")
    datacite.count(first.doi, citations=50)
    datacite.fail("503")
    _out, err = _sync("--counts", "--quiet")
    assert "Counts not fetched: DataCite is not working properly right now (HTTP 503)" in err
    first.refresh_from_db()
    assert first.citation_count == 2


def test_without_a_fetch_no_counts_are_shown(client, two_versions):
    first, *_ = two_versions
    assert first.usage is None
    page = client.get(first.repo.get_absolute_url()).content.decode()
    assert f"doi:</span>{first.repo.dois.versions().first().doi}" in page
    assert "doi-usage" not in page


def test_the_repository_page_shows_them_next_to_the_doi_tag(client, two_versions):
    _sync("--counts")
    _first, second, _concept = two_versions
    page = _text(client.get(second.repo.get_absolute_url()).content.decode())
    assert f"doi:{second.doi}" in page
    assert (
        "1 citation · 5 views · 1 download (all versions: 7 citations · 15 views · 4 downloads)"
        in page
    )


def test_an_older_revision_shows_its_own_counts(client, two_versions):
    _sync("--counts")
    first, *_ = two_versions
    page = _text(client.get(first.revision.get_absolute_url()).content.decode())
    assert "2 citations · 10 views · 3 downloads (all versions:" in page


def test_the_owner_s_doi_settings_show_each_version_and_the_total(client, owner, two_versions):
    _sync("--counts")
    first, *_ = two_versions
    client.force_login(owner)
    page = _text(client.get(first.repo.url("settings")).content.decode())
    assert f"doi:{first.doi}" in page
    assert "2 citations · 10 views · 3 downloads" in page
    assert "1 citation · 5 views · 1 download" in page
    assert "All versions together: 7 citations · 15 views · 4 downloads" in page


def test_the_doi_s_page_shows_them(client, two_versions, staff):
    _sync("--counts")
    _first, second, _concept = two_versions
    with lock_override(actor=staff, reason="test: made private by staff"):
        second.repo.set_private(True)
    page = _text(client.get(f"/doi/{second.doi}").content.decode())
    assert "Counted by DataCite 1 citation · 5 views · 1 download" in page
    assert "all versions: 7 citations · 15 views · 4 downloads" in page

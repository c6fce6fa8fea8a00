"""The works citing a DOI: fetched from DataCite's event data through the registrar over real
HTTP (``doi_sync --counts``, for the DOIs DataCite counted citations of), kept on the DOIs (a
concept: with its versions'), and listed on the repository page and the DOI's own page; and the
schedule on which ``doi_sync --every`` (scripts/serve) refreshes the counts."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doi.models import Doi
from doi.registrars import CitingWork, RegistrarError, get_registrar
from repos.models import lock_override
from tests.doi.test_usage import _sync, _text
from tests.factories import commit_files

PAPER = "10.1234/paper.1"
BOOK = "10.1234/book.2"


@pytest.fixture
def two_versions(repo, owner, mint, datacite):
    """Two findable versions and their concept; the first cited twice, the concept once."""
    first = mint(repo)
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    second = mint(repo)
    concept = second.concept
    datacite.cite(first.doi, PAPER, relation="references", occurred_at="2026-10-01T08:00:00Z")
    datacite.cite(first.doi, BOOK, relation="is-cited-by", occurred_at="2026-11-15T08:00:00Z")
    datacite.cite(concept.doi, PAPER, relation="cites", occurred_at="2026-10-02T08:00:00Z")
    return first, second, concept


def events_requests(datacite) -> list[dict]:
    return [r for r in datacite.requests if r["path"] == "/events"]


def test_the_registrar_reads_every_page_of_a_doi_s_citations(two_versions, datacite, monkeypatch):
    monkeypatch.setattr("doi.registrars.EVENTS_PAGE_SIZE", 1)
    first, *_ = two_versions
    datacite.requests.clear()
    works = get_registrar().citing_works(first.doi)
    assert works == [
        CitingWork(PAPER, "references", "2026-10-01"),
        CitingWork(BOOK, "is-cited-by", "2026-11-15"),
    ]
    pages = events_requests(datacite)
    assert len(pages) == 2
    query = parse_qs(pages[0]["query"])
    assert query["doi"] == [first.doi.lower()]
    assert query["relation-type-id"] == [
        "cites,references,is-supplement-to,is-cited-by,is-referenced-by,is-supplemented-by"
    ]


def test_events_that_are_not_citations_of_the_doi_are_left_out(two_versions, datacite):
    first, second, _ = two_versions
    # The first version cites a paper (it is the subject): that cites the paper, not it.
    datacite.cite(PAPER, first.doi, relation="references")
    # A work cited by the DOI, said from the other side.
    datacite.cite(PAPER, first.doi, relation="is-cited-by")
    works = get_registrar().citing_works(first.doi)
    assert [w.identifier for w in works] == [PAPER, BOOK]
    assert get_registrar().citing_works(second.doi) == []


def test_an_unreadable_page_of_events_is_a_transient_error(two_versions, datacite):
    first, *_ = two_versions
    datacite.fail("malformed")
    with pytest.raises(RegistrarError) as caught:
        get_registrar().citing_works(first.doi)
    assert not caught.value.permanent


def test_doi_sync_counts_keeps_the_citing_works_with_the_concept_s_all(two_versions, datacite):
    first, second, concept = two_versions
    out, err = _sync("--counts")
    assert err == ""
    assert "Citing works fetched from DataCite's event data for 2 cited DOI(s)." in out
    for doi in (first, second, concept):
        doi.refresh_from_db()
    assert first.citation_count == 2
    assert [(w["identifier"], w["relation"]) for w in first.citing_works] == [
        (PAPER, "references"),
        (BOOK, "is-cited-by"),
    ]
    assert second.citing_works == []
    # The concept: its own, then its versions' not among them already.
    assert [w["identifier"] for w in concept.citing_works] == [PAPER, BOOK]
    # One request for each cited DOI; none for the uncited version.
    asked = {parse_qs(r["query"])["doi"][0] for r in events_requests(datacite)}
    assert asked == {first.doi.lower(), concept.doi.lower()}


def test_a_failed_fetch_keeps_the_last_citing_works(two_versions, datacite):
    first, *_ = two_versions
    _sync("--counts")
    datacite.cite(first.doi, "10.1234/new.3")
    datacite.fail("ok", "503", "503")  # the counts arrive; both DOIs' events fail
    out, err = _sync("--counts")
    assert (
        f"Citing works not fetched for {first.doi}: DataCite is not working properly right "
        "now (HTTP 503); the last ones stay shown."
    ) in err
    assert "for 0 cited DOI(s)" in out
    first.refresh_from_db()
    assert first.citation_count == 3
    assert [w["identifier"] for w in first.citing_works] == [PAPER, BOOK]


def test_a_doi_no_longer_counted_as_cited_lists_nothing(two_versions, datacite):
    first, *_ = two_versions
    _sync("--counts")
    datacite.count(first.doi, citations=0)
    _sync("--counts")
    first.refresh_from_db()
    assert first.citing_works == []


def test_the_repository_page_lists_them(client, two_versions):
    _sync("--counts")
    first, *_ = two_versions
    html = client.get(first.revision.get_absolute_url()).content.decode()
    assert "Cited by 2 works" in html
    assert (
        f'<a href="https://doi.org/{PAPER}" rel="nofollow noopener noreferrer">doi:{PAPER}</a>'
        in html
    )
    page = _text(html)
    assert f"doi:{PAPER} references it (2026-10-01)" in page
    assert f"doi:{BOOK} cites it (2026-11-15)" in page


def test_the_doi_s_page_lists_them(client, two_versions, staff):
    _sync("--counts")
    first, *_ = two_versions
    with lock_override(actor=staff, reason="test: made private by staff"):
        first.repo.set_private(True)
    page = _text(client.get(f"/doi/{first.doi}").content.decode())
    assert f"Cited by doi:{PAPER} references it (2026-10-01) doi:{BOOK} cites it" in page


def test_the_repository_page_costs_no_more_queries(client, two_versions):
    first, *_ = two_versions
    url = first.revision.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    _sync("--counts")
    client.get(url)
    with CaptureQueriesContext(connection) as after:
        assert "Cited by 2 works" in client.get(url).content.decode()
    assert len(after.captured_queries) == len(before.captured_queries)


# The schedule of doi_sync --every (scripts/serve) ----------------------------------------------


def run_every(monkeypatch, passes: int, between=None):
    """``doi_sync --every 30`` for ``passes`` passes; ``between(n)`` runs after pass n."""
    done = []

    def sleep(seconds):
        done.append(seconds)
        if len(done) == passes:
            raise KeyboardInterrupt
        if between:
            between(len(done))

    monkeypatch.setattr("doi.management.commands.doi_sync.sleep", sleep)
    return _sync("--every", "30", "--workers", "1")


def counts_fetches(datacite) -> int:
    return sum(1 for r in datacite.requests if r["path"] == "/dois" and r["method"] == "GET")


@pytest.mark.django_db(transaction=True)
def test_every_fetches_the_counts_once_when_none_were_fetched(two_versions, datacite, monkeypatch):
    datacite.requests.clear()
    run_every(monkeypatch, passes=3)
    assert counts_fetches(datacite) == 1
    first, *_ = two_versions
    first.refresh_from_db()
    assert first.citation_count == 2 and len(first.citing_works) == 2


@pytest.mark.django_db(transaction=True)
def test_every_leaves_counts_that_are_fresh_enough(two_versions, datacite, monkeypatch, settings):
    settings.DOI_COUNTS_EVERY_HOURS = 6
    _sync("--counts")
    Doi.objects.update(counted_at=timezone.now() - timedelta(hours=5))
    datacite.requests.clear()
    run_every(monkeypatch, passes=2)
    assert counts_fetches(datacite) == 0


@pytest.mark.django_db(transaction=True)
def test_every_refreshes_counts_once_they_are_old(two_versions, datacite, monkeypatch, settings):
    settings.DOI_COUNTS_EVERY_HOURS = 6
    _sync("--counts")
    Doi.objects.update(counted_at=timezone.now() - timedelta(hours=6, minutes=1))
    datacite.requests.clear()

    def age(after_pass):
        if after_pass == 1:  # six hours later
            Doi.objects.update(counted_at=timezone.now() - timedelta(hours=7))

    run_every(monkeypatch, passes=3, between=age)
    assert counts_fetches(datacite) == 2


@pytest.mark.django_db(transaction=True)
def test_every_waits_an_hour_after_a_failed_fetch(two_versions, datacite, monkeypatch):
    datacite.fail("503")
    datacite.requests.clear()
    _out, err = run_every(monkeypatch, passes=3)
    assert "Counts not fetched: DataCite is not working properly right now (HTTP 503)" in err
    assert counts_fetches(datacite) == 1


@pytest.mark.django_db(transaction=True)
def test_every_never_fetches_counts_when_the_schedule_is_off(
    two_versions, datacite, monkeypatch, settings
):
    settings.DOI_COUNTS_EVERY_HOURS = 0
    datacite.requests.clear()
    run_every(monkeypatch, passes=2)
    assert counts_fetches(datacite) == 0

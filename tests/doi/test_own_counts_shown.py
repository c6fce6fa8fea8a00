"""The hub's own counts (``doi/usage.py``) beside DataCite's: summed onto the DOI rows by
``doi_sync --counts`` (a concept DOI with its versions), so the repository page, the DOI's page
and the owner's DOI settings show them with no query more."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from doi.models import Doi
from repos.models import lock_override
from tests.factories import commit_files

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
HF_HUB = "huggingface_hub/2.4.0; python/3.12.1"


def _sync(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("doi_sync", "--counts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def used(client, repo, owner, mint, datacite):
    """Two findable versions and their concept: the first viewed by two people and downloaded
    by one at the site and once through the API, the second viewed once, the concept once."""
    first = mint(repo)
    commit_files(repo, owner, {"weights.bin": "v2"}, "Retrain")
    second = mint(repo)
    for doi, ip in ((first, "192.0.2.1"), (first, "192.0.2.2"), (second, "192.0.2.1")):
        client.get(f"/doi/{doi.doi}", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR=ip)
    client.get(f"/doi/{second.concept.doi}", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="192.0.2.1")
    client.get(
        repo.url("blob", first.revision_oid, "config.json"),
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR="192.0.2.1",
    )
    client.get(
        repo.url("hubapi-files:resolve", first.revision_oid, "config.json"),
        HTTP_USER_AGENT=HF_HUB,
        REMOTE_ADDR="192.0.2.3",
    )
    return first, second, second.concept


def test_doi_sync_sums_them_onto_each_doi_and_the_concept(used):
    out, _err = _sync()
    assert "The hub's own counts summed for 3 DOI(s)." in out
    first, second, concept = (Doi.objects.get(pk=d.pk) for d in used)
    # Unique: two people viewed the first version, one of them downloaded it, and the API
    # client (another session) downloaded it too.
    assert (first.own_view_count, first.own_download_count) == (3, 2)
    assert (second.own_view_count, second.own_download_count) == (1, 0)
    assert (concept.own_view_count, concept.own_download_count) == (1 + 3 + 1, 2)
    assert first.own_counted_at is not None


def test_they_are_summed_when_datacite_cannot_be_reached(used, datacite):
    datacite.fail("503")
    _out, err = _sync("--quiet")
    assert "Counts not fetched" in err
    first = Doi.objects.get(pk=used[0].pk)
    assert (first.own_view_count, first.own_download_count) == (3, 2)


def test_before_they_are_summed_none_are_shown(client, used):
    assert used[0].own_usage is None
    assert "doi-own-usage" not in client.get(used[0].repo.get_absolute_url()).content.decode()


def test_the_repository_page_shows_them_beside_the_doi_tag(client, used):
    _sync()
    _first, second, _concept = used
    page = _text(client.get(second.repo.get_absolute_url()).content.decode())
    assert "On this hub: 1 view · 0 downloads (all versions: 5 views · 2 downloads)" in page
    older = _text(client.get(second.repo.url("tree", used[0].revision_oid)).content.decode())
    assert "On this hub: 3 views · 2 downloads (all versions:" in older


def test_showing_them_costs_the_repository_page_no_query(client, used):
    url = used[1].repo.get_absolute_url()

    def queries() -> int:
        client.get(url)  # the cached pieces rendered
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = queries()
    _sync()
    assert "On this hub" in client.get(url).content.decode()
    assert queries() == before == 1  # the repository, with which DOIs it shows


def test_the_owners_doi_settings_show_each_version_and_the_total(client, owner, used):
    _sync()
    client.force_login(owner)
    page = _text(client.get(used[0].repo.url("settings")).content.decode())
    assert "3 views · 2 downloads (unique, counted on this hub," in page
    assert "1 view · 0 downloads (unique, counted on this hub," in page
    assert "All versions together: 5 views · 2 downloads (unique, counted on this hub," in page


def test_the_dois_own_page_shows_them(client, used, staff):
    _sync()
    first, *_ = used
    with lock_override(actor=staff, reason="test: made private by staff"):
        first.repo.set_private(True)
    page = _text(client.get(f"/doi/{first.doi}").content.decode())
    assert "Counted on this hub 3 views · 2 downloads; all versions: 5 views · 2 downloads" in page

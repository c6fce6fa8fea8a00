"""The counts DataCite holds, fetched by doi_sync --counts, seen in a real browser: next to the
DOI tag on the repository page and per version in the owner's DOI settings."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from doi.models import Doi
from tests.browser.axe import audit, prepare
from tests.datacite_server import datacite  # noqa: F401 - the fixture
from tests.doi.conftest import CONSENT
from tests.factories import RepoFactory, commit_files
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

AUTHOR = [{"type": "Personal", "name": "Alice Liddell"}]


def test_the_counts_show_next_to_the_doi_and_per_version(
    page: Page,
    screenshot,
    owner,
    datacite,  # noqa: F811
):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "# Sentiment\n\nReads moods.\n"})
    version = Doi.objects.mint(repo=repo, user=owner, creators=AUTHOR, **CONSENT)
    datacite.count(version.doi, citations=3, views=120, downloads=8)
    datacite.count(version.concept.doi, citations=1)
    call_command("doi_sync", "--counts", "--quiet")
    log_in(page, "alice")

    page.goto(repo.get_absolute_url())
    usage = page.locator(".doi-cite .doi-usage")
    expect(usage).to_contain_text("3 citations · 120 views · 8 downloads")
    expect(usage).to_contain_text("(all versions: 4 citations · 120 views · 8 downloads)")
    shoot(page, screenshot, "doi-usage-01-repository")

    page.goto(repo.url("settings"))
    expect(page.locator(".doi-item .doi-usage").first).to_be_visible()
    expect(page.get_by_text("All versions together: 4 citations")).to_be_visible()
    shoot(page, screenshot, "doi-usage-02-settings")


def test_the_works_citing_a_doi_open_under_its_tag(
    page: Page,
    screenshot,
    owner,
    datacite,  # noqa: F811
):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "# Sentiment\n\nReads moods.\n"})
    version = Doi.objects.mint(repo=repo, user=owner, creators=AUTHOR, **CONSENT)
    datacite.cite(version.doi, "10.1234/paper.1", occurred_at="2026-10-01T08:00:00Z")
    datacite.cite(version.doi, "https://example.org/blog/moods", relation="cites")
    call_command("doi_sync", "--counts", "--quiet")
    prepare(page.context)

    page.goto(repo.get_absolute_url())
    expect(page.locator(".doi-cite .doi-usage")).to_contain_text("2 citations")
    page.get_by_text("Cited by 2 works").click()
    works = page.locator(".doi-cited-by .doi-citing-works li")
    expect(works).to_have_count(2)
    expect(works.nth(0)).to_contain_text("doi:10.1234/paper.1 references it (2026-10-01)")
    expect(works.nth(0).get_by_role("link")).to_have_attribute(
        "href", "https://doi.org/10.1234/paper.1"
    )
    expect(works.nth(1)).to_contain_text("https://example.org/blog/moods cites it")
    shoot(page, screenshot, "doi-usage-03-cited-by")
    found = audit(page, "Repository page with the works citing its DOI")
    assert not [str(v) for v in found if v.fails]

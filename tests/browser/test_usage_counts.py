"""The counts DataCite holds, fetched by doi_sync --counts, seen in a real browser: next to the
DOI tag on the repository page and per version in the owner's DOI settings."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from doi.models import Doi
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

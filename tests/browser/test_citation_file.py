"""In a real browser, Generate DOI proposes the authors (with ORCID iDs) and related works of
the repository's CITATION.cff, and names the problem of one that is not valid."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from doi.models import Doi
from tests.browser.axe import audit, prepare
from tests.doi.test_citation_file import CFF, ORCID, PAPER
from tests.factories import RepoFactory, commit_files
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_generates_with_the_authors_of_citation_cff(page: Page, screenshot, owner):
    repo = RepoFactory(namespace=owner.namespace, name="tuned")
    commit_files(repo, owner, {"README.md": "# Tuned\n", "CITATION.cff": CFF})
    prepare(page.context)
    log_in(page, "alice")

    page.goto(repo.url("settings"))
    page.get_by_role("link", name="Generate DOI").click()
    expect(page.locator("#citation-file-notice")).to_contain_text(
        "The authors are proposed from the repository\u2019s CITATION.cff"
    )
    authors = page.locator(".author-fieldset").first.locator(".author-row")
    expect(authors).to_have_count(3)
    expect(authors.nth(0).get_by_label("Given name", exact=True)).to_have_value("Alice")
    expect(authors.nth(0).get_by_label("ORCID iD")).to_have_value(f"https://orcid.org/{ORCID}")
    expect(authors.nth(1).get_by_label("Family name", exact=True)).to_have_value("van Beethoven")
    expect(authors.nth(2).get_by_label("Type", exact=True)).to_have_value("Organizational")
    preview = page.locator("#doi-preview")
    expect(preview).to_contain_text("Liddell, Alice")
    expect(preview).to_contain_text(f"is a supplement to doi:{PAPER}")
    expect(preview).to_contain_text("references https://example.org/reviews")
    shoot(page, screenshot, "citation-cff-01-proposed-authors")
    found = audit(page, "Generate DOI with authors from CITATION.cff")
    assert not [str(v) for v in found if v.fails]

    page.get_by_label(re.compile("^I acknowledge")).check()
    page.get_by_role("button", name="Generate DOI").click()
    expect(page.locator("#doi-section .doi-item").first).to_be_visible()
    doi = Doi.objects.versions().get(repo=repo)
    assert [c["name"] for c in doi.creators] == [
        "Alice Liddell",
        "Ludwig van Beethoven",
        "The Hatters' Collective",
    ]
    assert doi.creators[0]["orcid"] == ORCID


def test_an_invalid_citation_cff_is_named_in_the_form(page: Page, screenshot, owner):
    repo = RepoFactory(namespace=owner.namespace, name="tuned")
    broken = CFF.replace(f"https://orcid.org/{ORCID}", "0000-0002-1825-009")
    commit_files(repo, owner, {"README.md": "# Tuned\n", "CITATION.cff": broken})
    log_in(page, "alice")
    page.goto(repo.url("doi-owner:generate"))
    expect(page.locator("#citation-file-notice")).to_contain_text(
        "CITATION.cff does not follow the Citation File Format 1.2.0 at authors[0].orcid (line 7)"
    )
    shoot(page, screenshot, "citation-cff-02-invalid")
    authors = page.locator(".author-fieldset").first.locator(".author-row")
    expect(authors).to_have_count(1)

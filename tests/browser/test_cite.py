"""A reader cites a repository in a real browser: the doi: tag, the Cite panel, Copy, the switch
to all versions, the outdated banner, and the DOI page of a repository gone private."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from doi.models import Doi
from repos.models import lock_override
from tests.factories import RepoFactory, commit_files
from tests.pages import shoot

pytestmark = pytest.mark.django_db(transaction=True)

CARD = "---\nlicense: apache-2.0\ntags: [text-classification]\n---\n# Sentiment\n\nReads moods.\n"
AUTHORS = [
    {"type": "Personal", "name": "Alice Liddell", "orcid": "0000-0002-1825-0097"},
    {"type": "Organizational", "name": "Wonderland Labs"},
]


@pytest.fixture
def dois(owner, settings):
    """A model with two version DOIs (and the concept DOI), registered by the local registrar."""
    settings.DOI_REGISTRAR = "local"
    settings.DOI_CONCEPT_DOIS = True
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": CARD})

    def reserve() -> Doi:
        return Doi.objects.mint(
            repo=repo, user=owner, creators=AUTHORS, consent_text="Consent", consent_version="t"
        )

    first = reserve()
    first_revision = repo.head
    commit_files(repo, owner, {"weights.bin": "v2"}, message="Retrain")
    second = reserve()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == second.state == "findable"
    return repo, first, first_revision, second


def doi_name(doi: Doi) -> re.Pattern:
    """The tag's accessible name: "doi:" and the DOI (browsers may put a space between)."""
    # "/" escaped too: Playwright passes the pattern on as a /…/ literal.
    return re.compile(rf"^doi:\s?{re.escape(doi.doi).replace('/', r'\/')}$")


def test_a_reader_cites_the_latest_version_and_all_versions(page: Page, screenshot, dois):
    repo, _, _, latest = dois
    concept = latest.concept
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(repo.get_absolute_url())

    tag = page.get_by_role("link", name=doi_name(latest))
    expect(tag).to_have_attribute("href", f"https://doi.org/{latest.doi}")
    shoot(page, screenshot, "doi-cite-01-header")

    page.get_by_text("Cite", exact=True).click()
    panel = page.locator("#cite-panel")
    expect(panel.get_by_role("heading", name="BibTeX")).to_be_visible()
    bibtex = panel.locator("#cite-bibtex")
    expect(bibtex).to_contain_text("@misc{sentiment-model_")
    expect(bibtex).to_contain_text(f"(Revision {repo.head.short_oid})")
    expect(bibtex).to_contain_text("Liddell, Alice and {Wonderland Labs}")
    expect(panel.locator("#cite-apa")).to_contain_text(
        f"Liddell, A., & Wonderland Labs. ({latest.created_at.year}). sentiment-model "
        f"(Version {repo.head.short_oid}) [Machine learning model]."
    )
    for label in ("CSL-JSON", "RIS", "DataCite XML"):
        expect(panel.get_by_role("link", name=label)).to_be_visible()
    shoot(page, screenshot, "doi-cite-02-panel")

    # Copy, by keyboard: the button says it worked and the clipboard holds the BibTeX.
    copy = panel.get_by_role("button", name="Copy BibTeX")
    copy.focus()
    page.keyboard.press("Enter")
    expect(panel.get_by_role("status").first).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").startswith("@misc{sentiment-model_")
    shoot(page, screenshot, "doi-cite-03-copied")

    # All versions: the concept DOI, swapped in place.
    url_before = page.url
    panel.get_by_role("link", name="All versions").click()
    swapped = page.locator("#cite-panel")
    expect(swapped.get_by_role("link", name=f"doi:{concept.doi}")).to_be_visible()
    expect(page.locator("#cite-bibtex")).to_contain_text("title = {sentiment-model},")
    assert page.url == url_before
    page.locator("#cite-panel").get_by_role("button", name="Copy APA").click()
    expect(page.locator("#cite-panel").get_by_role("status").nth(1)).to_have_text("Copied")
    assert concept.doi in page.evaluate("navigator.clipboard.readText()")
    shoot(page, screenshot, "doi-cite-04-all-versions")

    page.locator("#cite-panel").get_by_role("link", name="This version").click()
    swapped = page.locator("#cite-panel")
    expect(swapped.get_by_role("link", name=f"doi:{latest.doi}")).to_be_visible()


def test_an_outdated_revision_shows_the_banner(page: Page, screenshot, dois):
    repo, first, first_revision, latest = dois
    page.goto(first_revision.get_absolute_url())
    expect(page.get_by_role("link", name=doi_name(first)).first).to_be_visible()
    banner = page.get_by_role("note")
    apostrophe = "\N{RIGHT SINGLE QUOTATION MARK}"
    expect(banner).to_contain_text(f"This revision{apostrophe}s DOI doi:{first.doi} is outdated")
    shoot(page, screenshot, "doi-cite-05-outdated")
    banner.get_by_role("link", name=f"doi:{latest.doi}").click()
    expect(page).to_have_url(f"{page.url.split('/alice')[0]}{repo.get_absolute_url()}")


def test_the_cite_panel_works_without_javascript(browser, live_server, dois):
    repo, _, _, latest = dois
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(repo.get_absolute_url())
        page.get_by_text("Cite", exact=True).click()
        panel = page.locator("#cite-panel")
        expect(panel.locator("#cite-bibtex")).to_be_visible()
        expect(panel.get_by_role("button", name="Copy BibTeX")).to_be_hidden()
        panel.get_by_role("link", name="All versions").click()
        expect(page).to_have_url(f"{live_server.url}{repo.get_absolute_url()}?cite=all#cite")
        expect(page.locator("#cite-panel")).to_contain_text(f"doi:{latest.concept.doi}")
    finally:
        context.close()


def test_a_private_repositorys_doi_shows_its_citation(page: Page, screenshot, dois, staff):
    repo, first, _, _ = dois
    with lock_override(actor=staff, reason="test: made private by staff"):
        repo.set_private(True)
    page.goto(f"/doi/{first.doi}")
    expect(page.get_by_text("This repository is no longer publicly available.")).to_be_visible()
    expect(page.locator("#cite-bibtex")).to_contain_text("@misc{sentiment-model_")
    shoot(page, screenshot, "doi-cite-06-private-landing")


def test_a_removed_repositorys_doi_shows_a_tombstone(page: Page, screenshot, dois, staff):
    repo, _, _, latest = dois
    with lock_override(actor=staff, reason="test: removed by staff"):
        repo.remove(reason="Withdrawn at the authors' request.")
    response = page.goto(f"/doi/{latest.doi}")
    assert response.status == 410
    expect(page.get_by_text("Withdrawn at the authors' request.")).to_be_visible()
    expect(page.locator("#cite-apa")).to_contain_text(f"https://doi.org/{latest.doi}")
    shoot(page, screenshot, "doi-cite-07-tombstone")


def test_an_unknown_doi_has_a_friendly_page(page: Page, screenshot, db):
    page.goto("/doi/10.5072/hub/9999")
    expect(page.get_by_role("heading", name="DOI not found")).to_be_visible()
    shoot(page, screenshot, "doi-cite-08-not-found")


def test_a_reader_copies_the_badge_snippets(page: Page, screenshot, dois, settings):
    repo, _, _, latest = dois
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(repo.get_absolute_url())
    page.get_by_text("Cite", exact=True).click()
    panel = page.locator("#cite-panel")

    # The preview is the site's own SVG, allowed by the Content-Security-Policy and drawn.
    preview = panel.get_by_role(
        "img", name=f"DOI {latest.doi}"
    )  # the only image: snippets are text
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth") > 0

    image = f"{settings.SITE_URL}/doi/badge/{latest.doi}.svg"
    expected = {
        "Markdown": f"[![DOI {latest.doi}]({image})](https://doi.org/{latest.doi})",
        "reStructuredText": f".. image:: {image}\n   :alt: DOI {latest.doi}",
        "HTML": f'<a href="https://doi.org/{latest.doi}"><img src="{image}"',
    }
    for label, start in expected.items():
        button = panel.get_by_role("button", name=f"Copy badge as {label}")
        button.click()
        expect(button.locator("xpath=following-sibling::*[@role='status']")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()").startswith(start)
    shoot(page, screenshot, "doi-cite-09-badge")
    page.set_viewport_size({"width": 375, "height": 800})
    panel.get_by_role("heading", name="Badge").scroll_into_view_if_needed()
    shoot(page, screenshot, "doi-cite-10-badge-narrow")


def test_the_machine_readable_head_keeps_to_the_policy(page: Page, dois):
    """The JSON-LD data block and the meta tags of a landing page raise no CSP violation (the
    ``page`` fixture fails on one) and the browser reads the JSON-LD as data."""
    repo, _, _, latest = dois
    response = page.goto(repo.url("tree", latest.revision_oid))
    assert f"https://doi.org/{latest.doi}" in response.headers["link"]
    data = page.evaluate(
        "() => JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').text)"
    )
    assert data["@id"] == f"https://doi.org/{latest.doi}"
    expect(page.locator('meta[name="citation_doi"]')).to_have_attribute("content", latest.doi)

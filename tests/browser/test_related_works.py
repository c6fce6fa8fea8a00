"""In a real browser, the owner keeps the links the card proposes, adds a paper by hand after
a mistyped DOI, adds a funder and a ROR id, and generates the DOI; DataCite gets them all,
and the repository page says what it is cited as derived from."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from doi.models import Doi
from tests.browser.axe import audit, prepare
from tests.datacite_server import datacite  # noqa: F401 - the fixture
from tests.factories import RepoFactory, commit_files, mint_doi
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
EC = "10.13039/501100000780"


def test_owner_adds_a_link_and_a_funder(page: Page, screenshot, owner, datacite, settings):  # noqa: F811
    settings.TASKS = IMMEDIATE
    base = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(base, owner, {"README.md": "# BERT\n"})
    base_doi = mint_doi(base, owner)
    repo = RepoFactory(namespace=owner.namespace, name="bert-sentiment")
    card = "---\nbase_model: alice/bert\nlicense: mit\n---\n# BERT for moods\n\nReads moods.\n"
    commit_files(repo, owner, {"README.md": card})
    prepare(page.context)
    log_in(page, "alice")

    page.goto(repo.url("settings"))
    page.get_by_role("link", name="Generate DOI").click()
    related = page.locator("#related-works")
    first = related.locator(".author-row").first
    expect(first.get_by_label("Identifier", exact=True)).to_have_value(base_doi.doi)
    preview = page.locator("#doi-preview")
    expect(preview).to_contain_text(f"is derived from doi:{base_doi.doi}")

    # A paper by hand, first with a DOI missing its suffix.
    page.get_by_role("button", name="Add related work").click()
    second = related.locator(".author-row").nth(1)
    identifier = second.get_by_label("Identifier", exact=True)
    expect(identifier).to_be_focused()
    second.get_by_label("This work").select_option(label="is a supplement to")
    identifier.fill("10.48550")
    identifier.blur()
    expect(preview).to_contain_text("Related work 2 (Identifier): “10.48550” is not a DOI")
    shoot(page, screenshot, "related-01-bad-identifier")
    identifier.fill("https://doi.org/10.48550/arXiv.2106.09685")
    identifier.blur()
    expect(preview).to_contain_text("is a supplement to doi:10.48550/arXiv.2106.09685")

    # A funder, and the author's affiliation with its ROR id.
    page.get_by_role("button", name="Add funder").click()
    funder = page.locator("#funding .author-row").first
    expect(funder.get_by_label("Funder", exact=True)).to_be_focused()
    funder.get_by_label("Funder", exact=True).fill("European Commission")
    funder.get_by_label("Funder's ROR id or Crossref Funder ID").fill(EC)
    funder.get_by_label("Award number").fill("101000001")
    funder.get_by_label("Award title").fill("Models for all")
    author = page.locator(".author-fieldset").first.locator(".author-row").first
    author.get_by_label("Affiliation", exact=True).fill("Universidad de los Andes")
    author.get_by_label("ROR id").fill("02mhbdp94")
    author.get_by_label("ROR id").blur()
    expect(preview).to_contain_text("European Commission, 101000001")
    expect(preview).to_contain_text("https://ror.org/02mhbdp94")
    shoot(page, screenshot, "related-02-preview")
    found = audit(page, "Generate DOI with related works and a funder")
    assert not [str(v) for v in found if v.fails]

    page.get_by_label(re.compile("^I acknowledge")).check()
    page.get_by_role("button", name="Generate DOI").click()
    expect(page.locator("#doi-section .doi-item").first).to_be_visible()
    doi = Doi.objects.versions().get(repo=repo)
    expect(page.locator("#doi-section")).to_contain_text(f"doi:{doi.doi}")
    sent = json.loads(datacite.requests_for(doi.doi)[0]["body"])["data"]["attributes"]
    assert [
        (r["relationType"], r["relatedIdentifier"]) for r in sent["relatedIdentifiers"][1:]
    ] == [("IsDerivedFrom", base_doi.doi), ("IsSupplementTo", "10.48550/arXiv.2106.09685")]
    assert sent["fundingReferences"] == [
        {"funderName": "European Commission", "funderIdentifier": f"https://doi.org/{EC}",
         "funderIdentifierType": "Crossref Funder ID", "awardNumber": "101000001",
         "awardTitle": "Models for all"}
    ]  # fmt: skip
    assert sent["creators"][0]["affiliation"][0]["affiliationIdentifier"] == (
        "https://ror.org/02mhbdp94"
    )

    page.goto(repo.url("page"))
    derived = page.locator(".doi-derived")
    expect(derived).to_have_text(f"Cited as derived from doi:{base_doi.doi}")
    expect(derived.get_by_role("link")).to_have_attribute("href", f"https://doi.org/{base_doi.doi}")
    shoot(page, screenshot, "related-03-repository-page")

"""The owner of a private repository reserves a DOI in a real browser: a DataCite draft that
does not resolve yet; making the repository public publishes it, deleting the repository
deletes it at DataCite. Against the DataCite-like server."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from doi.models import Doi
from tests.datacite_server import datacite  # noqa: F401 - the fixture
from tests.doi.conftest import CONSENT
from tests.factories import RepoFactory, commit_files
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
CARD = "---\nlicense: apache-2.0\n---\n# Sentiment\n\nReads moods.\n"


@pytest.fixture
def private(owner, settings):
    settings.TASKS = IMMEDIATE
    settings.DOI_CONCEPT_DOIS = False
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model", private=True)
    commit_files(repo, owner, {"README.md": CARD})
    return repo


def sent(datacite, doi: str) -> list[dict]:  # noqa: F811
    return [json.loads(r["body"])["data"]["attributes"] for r in datacite.requests_for(doi)]


def test_owner_reserves_a_doi_then_makes_the_repository_public(
    page: Page,
    screenshot,
    private,
    datacite,  # noqa: F811
):
    log_in(page, "alice")
    page.goto(private.url("settings"))
    section = page.locator("#doi-section")
    expect(section).to_contain_text("does not resolve yet")
    section.get_by_role("link", name="Reserve DOI").click()
    expect(
        page.get_by_role("heading", name="Reserve DOI for alice/sentiment-model")
    ).to_be_visible()
    expect(page.locator(".doi-intro")).to_contain_text("making the repository public publishes it")
    shoot(page, screenshot, "doi-reserve-01-form")

    page.get_by_label(re.compile("^I acknowledge")).check()
    page.get_by_role("button", name="Reserve DOI").click()
    expect(page.get_by_text(re.compile("is reserved as a draft: cite it"))).to_be_visible()
    expect(page.locator("section.danger-zone")).to_contain_text("also deletes the reserved DOI")
    doi = Doi.objects.get()
    expect(section.locator(".doi-item")).to_contain_text("Reserved (draft: does not resolve yet)")
    assert datacite.state(doi.doi) == "draft"
    (reserved,) = sent(datacite, doi.doi)
    assert "event" not in reserved and "url" not in reserved
    shoot(page, screenshot, "doi-reserve-02-reserved")

    # The owner's Cite panel says so; the DOI's own page is a 404 with a way to the settings.
    page.goto(private.url("page") + "?cite=version")
    expect(page.locator(".doi-cite .badge")).to_have_text("reserved, does not resolve yet")
    expect(page.locator("#cite-panel")).to_contain_text("Reserved, not yet resolvable")
    expect(page.locator("#cite-bibtex")).to_contain_text(
        "note = {DOI reserved, not yet resolvable}"
    )
    shoot(page, screenshot, "doi-reserve-03-cite-panel")
    response = page.goto(f"/doi/{doi.doi}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="DOI reserved, not yet public")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("will resolve once the repository is public")
    shoot(page, screenshot, "doi-reserve-04-doi-page-owner")

    # Making the repository public publishes the draft, named beside the button.
    page.get_by_role("link", name="Settings of alice/sentiment-model").click()
    visibility = page.locator("section", has=page.get_by_role("heading", name="Change visibility"))
    expect(visibility).to_contain_text(f"also publishes the reserved DOI {doi.doi} at DataCite")
    shoot(page, screenshot, "doi-reserve-05-make-public")
    visibility.get_by_role("button", name="Make public").click()
    expect(page.get_by_text("alice/sentiment-model is now public.")).to_be_visible()
    expect(section.locator(".doi-item .badge.ok")).to_have_text("Findable")
    assert datacite.state(doi.doi) == "findable"
    _, published = sent(datacite, doi.doi)
    assert published["event"] == "publish"
    assert published["url"].endswith(f"/doi/{doi.doi}")
    shoot(page, screenshot, "doi-reserve-06-published")

    page.goto(private.url("page"))
    expect(page.locator(".doi-tag")).to_contain_text(f"doi:{doi.doi}")
    expect(page.locator(".doi-cite .badge")).to_have_count(0)
    shoot(page, screenshot, "doi-reserve-07-header-tag")


def test_owner_reserves_a_doi_then_deletes_the_repository(
    page: Page,
    screenshot,
    owner,
    private,
    datacite,  # noqa: F811
):
    doi = Doi.objects.mint(repo=private, user=owner, creators=[{"name": "Alice Liddell"}],
                           draft=True, **CONSENT)  # fmt: skip
    assert datacite.state(doi.doi) == "draft"
    log_in(page, "alice")
    page.goto(private.url("settings"))
    danger = page.locator("section.danger-zone")
    expect(danger).to_contain_text(
        f"Deleting it also deletes the reserved DOI {doi.doi} at DataCite. It never resolved"
    )
    danger.get_by_label("Type “alice/sentiment-model” to confirm").fill("alice/sentiment-model")
    shoot(page, screenshot, "doi-reserve-08-delete")
    danger.get_by_role("button", name="Delete this repository").click()
    page.wait_for_url(re.compile(r"/alice$"))
    expect(page.get_by_text(f"The reserved DOI {doi.doi} was deleted at DataCite")).to_be_visible()
    assert len(datacite.requests_for(doi.doi, "DELETE")) == 1
    assert datacite.state(doi.doi) is None
    shoot(page, screenshot, "doi-reserve-09-deleted")

    response = page.goto(f"/doi/{doi.doi}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="DOI not found")).to_be_visible()

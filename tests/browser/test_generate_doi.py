"""The owner gives a repository a DOI in a real browser, then a new one for a later revision;
members who are not admins and strangers cannot."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from doi.models import Doi, DoiCounter
from tests.datacite_server import datacite  # noqa: F401 - the fixture
from tests.factories import RepoFactory, commit_files
from tests.pages import WIDE, log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# Tasks queued but never run: the registration waits for a "worker" (the test) to push it.
NO_WORKER = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
CARD = "---\nlicense: apache-2.0\ntags: [text-classification]\n---\n# Sentiment\n\nReads moods.\n"


def push_pending() -> None:
    """What the worker does: push every DOI change still waiting."""
    for pk in Doi.objects.exclude(pending_action="").values_list("pk", flat=True):
        Doi.objects.push(pk)


def test_owner_generates_a_doi_then_a_new_one(page: Page, screenshot, owner, datacite, settings):  # noqa: F811
    settings.TASKS = NO_WORKER
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": CARD})
    log_in(page, "alice")

    page.goto(repo.url("settings"))
    section = page.locator("#doi-section")
    expect(section.get_by_role("heading", name="DOI")).to_be_visible()
    shoot(page, screenshot, "doi-owner-01-settings")

    # The acknowledgement form opens in place.
    section.get_by_role("link", name="Generate DOI").click()
    heading = page.get_by_role("heading", name="Generate DOI for alice/sentiment-model")
    expect(heading).to_be_visible()
    assert page.url.endswith(repo.url("settings"))
    expect(page.locator(".author-row").first.get_by_label("Full name")).to_have_value(
        "Alice Liddell"
    )
    preview = page.locator("#doi-preview")
    expect(preview).to_contain_text("Liddell, Alice")
    expect(preview).to_contain_text("Apache License 2.0")
    shoot(page, screenshot, "doi-owner-02-form")

    # A second author, first with a mistyped ORCID iD: the preview says what is wrong.
    page.get_by_role("button", name="Add author").click()
    second = page.locator(".author-row").nth(1)
    # htmx focuses the new row's [autofocus] field when the swap settles: typing before that
    # would land in the wrong field.
    expect(second.get_by_label("Full name")).to_be_focused()
    second.get_by_label("Full name").fill("Jane Doe")
    second.get_by_label("ORCID iD").fill("0000-0002-1825-0098")
    second.get_by_label("Affiliation").fill("Example University")
    second.get_by_label("Affiliation").blur()
    expect(preview).to_contain_text("is not a valid ORCID iD")
    shoot(page, screenshot, "doi-owner-03-orcid-error")
    second.get_by_label("ORCID iD").fill("0000-0002-1825-0097")
    second.get_by_label("ORCID iD").blur()
    expect(preview).to_contain_text("https://orcid.org/0000-0002-1825-0097")

    # Jane first.
    page.get_by_role("button", name="Move up author 2").click()
    expect(page.locator(".author-row").first.get_by_label("Full name")).to_have_value("Jane Doe")
    expect(page.get_by_role("button", name="Move down author 1")).to_be_focused()
    expect(preview.locator(".creator-list li").first).to_contain_text("Doe, Jane")
    shoot(page, screenshot, "doi-owner-04-authors")

    page.get_by_label(re.compile("^I acknowledge")).check()
    page.get_by_role("button", name="Generate DOI").click()
    expect(section.locator(".doi-item").first).to_contain_text("Registration in progress")
    first = Doi.objects.versions().get()
    expect(section).to_contain_text(f"doi:{first.doi}")
    expect(section).to_have_attribute("hx-trigger", "every 2s")
    shoot(page, screenshot, "doi-owner-05-pending")
    assert [c["name"] for c in first.creators] == ["Jane Doe", "Alice Liddell"]

    # The worker registers it; the section, polling, sees DataCite's answer and stops.
    push_pending()
    expect(section.locator(".doi-item").first.get_by_text("Findable")).to_be_visible(timeout=8000)
    expect(section).not_to_have_attribute("hx-trigger", "every 2s")
    expect(section).to_contain_text("The current revision already has a DOI.")
    assert datacite.state(first.doi) == "findable"
    shoot(page, screenshot, "doi-owner-06-findable")

    # The repository header shows the citation tag.
    page.goto(repo.url("page"))
    expect(page.locator(".doi-tag")).to_contain_text(f"doi:{first.doi}")
    shoot(page, screenshot, "doi-owner-07-header-tag")

    # A new revision, then Generate new DOI; DataCite refuses the first try.
    page.goto(repo.url("upload"))
    page.get_by_label("Files").set_input_files(
        files=[{"name": "weights.bin", "mimeType": "application/octet-stream", "buffer": b"01"}]
    )
    page.get_by_role("button", name="Commit files").click()
    page.wait_for_url(re.compile(r"/alice/sentiment-model$"))
    settings.TASKS = IMMEDIATE
    # The new version's DOI, whatever else goes to DataCite beside it (the neighbours' links).
    datacite.fail("422", doi=next(DoiCounter.upcoming())[1])
    page.goto(repo.url("settings"))
    section.get_by_role("link", name="Generate new DOI").click()
    expect(page.get_by_role("heading", name=re.compile("^Generate new DOI"))).to_be_visible()
    page.get_by_label(re.compile("^I acknowledge")).check()
    page.get_by_role("button", name="Generate new DOI").click()
    expect(section.get_by_text("DataCite did not register this DOI.")).to_be_visible()
    shoot(page, screenshot, "doi-owner-08-failed")

    section.get_by_role("button", name="Retry").click()
    second_doi = Doi.objects.versions().order_by("-number").first()
    expect(section).to_contain_text(f"{second_doi.doi} is registered at DataCite and findable.")
    newest, older = section.locator(".doi-item").nth(0), section.locator(".doi-item").nth(1)
    expect(newest).to_contain_text(second_doi.doi)
    expect(newest.get_by_text("Findable", exact=True)).to_be_visible(timeout=8000)
    expect(older).to_contain_text(first.doi)
    expect(older.get_by_text("Outdated")).to_be_visible()
    expect(section.get_by_role("button", name="Retry")).to_have_count(0)
    shoot(page, screenshot, "doi-owner-09-new-doi")
    assert datacite.state(second_doi.doi) == "findable"


def test_the_form_works_without_javascript(browser, live_server, screenshot, owner):
    context = browser.new_context(
        base_url=live_server.url, viewport=WIDE, java_script_enabled=False
    )
    page = context.new_page()
    try:
        repo = RepoFactory(namespace=owner.namespace, name="plain")
        commit_files(repo, owner, {"README.md": CARD})
        log_in(page, "alice")
        page.goto(repo.url("settings"))
        page.get_by_role("link", name="Generate DOI").click()
        expect(page.get_by_role("heading", name="Generate DOI for alice/plain")).to_be_visible()
        page.get_by_role("button", name="Add author").click()
        page.locator(".author-row").nth(1).get_by_label("Full name").fill("Jane Doe")
        page.get_by_role("button", name="Move up author 2").click()
        expect(page.locator("#doi-preview .creator-list li").first).to_contain_text("Doe, Jane")
        screenshot("doi-owner-10-no-js-form-1280", target=page)
        page.get_by_label(re.compile("^I acknowledge")).check()
        page.get_by_role("button", name="Generate DOI").click()
        page.wait_for_url(re.compile(r"/settings#doi-section$"))
        expect(page.locator("#doi-section")).to_contain_text("The current revision already has")
        screenshot("doi-owner-11-no-js-done-1280", target=page)
        assert [c["name"] for c in Doi.objects.versions().get().creators] == [
            "Jane Doe",
            "Alice Liddell",
        ]
    finally:
        context.close()


def test_a_write_member_and_a_stranger_cannot(page: Page, screenshot, owner, org, writer, stranger):
    repo = RepoFactory(namespace=org.namespace, name="shared-model")
    commit_files(repo, owner, {"README.md": CARD})
    private = RepoFactory(namespace=org.namespace, name="secret", private=True)
    commit_files(private, owner, {"README.md": CARD})
    generate = f"/{org.namespace.name}/shared-model/settings/doi/generate"

    log_in(page, "bob")
    page.goto(repo.url("page"))
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    assert page.goto(repo.url("settings")).status == 403
    assert page.goto(generate).status == 403
    expect(page.get_by_role("button", name="Generate DOI")).to_have_count(0)
    shoot(page, screenshot, "doi-owner-12-writer-403")

    page.context.clear_cookies()
    log_in(page, "mallory")
    assert page.goto(generate).status == 403
    assert page.goto(f"/{org.namespace.name}/secret/settings/doi/generate").status == 404
    expect(page.get_by_role("button", name="Generate DOI")).to_have_count(0)
    shoot(page, screenshot, "doi-owner-13-stranger-404")
    assert not Doi.objects.exists()


def test_past_the_daily_quota_the_form_says_when_to_try_again(
    page: Page, screenshot, owner, settings
):
    settings.DOI_QUOTA_PER_REPO_PER_DAY = 1
    repo = RepoFactory(namespace=owner.namespace, name="busy-model")
    commit_files(repo, owner, {"README.md": CARD})
    consent = {"consent_text": "I acknowledge …", "consent_version": "test"}
    creators = [{"type": "Personal", "name": "Alice Liddell"}]
    Doi.objects.mint(repo=repo, user=owner, creators=creators, **consent)
    commit_files(repo, owner, {"notes.txt": "a small edit"})
    log_in(page, "alice")
    page.goto(repo.url("settings"))
    page.locator("#doi-section").get_by_role("link", name="Generate new DOI").click()
    preview = page.locator("#doi-preview")
    expect(preview).to_contain_text("This repository got 1 DOI in the last 24 hours")
    expect(preview).to_contain_text(re.compile(r"next one after \d\d:\d\d UTC on "))
    expect(preview).not_to_contain_text("once these details are complete")
    page.get_by_label(re.compile("^I acknowledge")).check()
    page.get_by_role("button", name="Generate new DOI").click()
    expect(page.get_by_role("alert")).to_contain_text("This repository got 1 DOI")
    shoot(page, screenshot, "doi-owner-14-quota")
    assert Doi.objects.versions().count() == 1

"""The owner edits a findable DOI's authors and description in a real browser: the same form and
preview as Generate DOI, the acknowledgement for a new name, "Updating at DataCite" until the
DataCite-like server has the update, and the edited citation afterwards."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from doi.models import Doi, Event
from tests.conftest import ARTIFACTS
from tests.datacite_server import datacite  # noqa: F401 - the fixture
from tests.factories import RepoFactory, commit_files, mint_doi
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

# Tasks queued but never run: the update waits for a "worker" (the test) to push it.
NO_WORKER = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
CARD = "---\nlicense: apache-2.0\n---\n# Sentiment\n\nReads moods.\n"
ALICE = {"type": "Personal", "name": "Alice Liddell", "orcid": "0000-0002-1825-0097"}


def push_pending() -> None:
    for pk in Doi.objects.exclude(pending_action="").values_list("pk", flat=True):
        Doi.objects.push(pk)


def test_owner_edits_the_authors_and_description_of_a_findable_doi(
    page: Page,
    screenshot,
    owner,
    datacite,  # noqa: F811
    settings,
):
    settings.TASKS = NO_WORKER
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": CARD})
    version = mint_doi(repo, owner, [ALICE])
    push_pending()
    version.refresh_from_db()
    assert version.state == Doi.State.FINDABLE
    log_in(page, "alice")

    page.goto(repo.url("settings"))
    section = page.locator("#doi-section")
    section.get_by_role("link", name=f"Edit metadata of doi:{version.doi}").click()
    expect(page.get_by_role("heading", name=f"Edit metadata of doi:{version.doi}")).to_be_visible()
    assert page.url.endswith(repo.url("settings"))
    first = page.locator(".author-row").first
    expect(first.get_by_label("Full name")).to_have_value("Alice Liddell")
    expect(page.get_by_label("Description")).to_have_value("Reads moods.")
    preview = page.locator("#doi-preview")
    expect(preview).to_contain_text("Liddell, Alice")
    expect(preview).to_contain_text(version.doi)
    shoot(page, screenshot, "doi-edit-01-form")

    # A new author, first in the list, and a description of our own.
    page.get_by_role("button", name="Add author").click()
    second = page.locator(".author-row").nth(1)
    expect(second.get_by_label("Full name")).to_be_focused()
    second.get_by_label("Full name").fill("Jane Doe")
    second.get_by_label("Affiliation").fill("Example University")
    second.get_by_label("Affiliation").blur()
    expect(preview.locator(".creator-list li").nth(1)).to_contain_text("Doe, Jane")
    consent = page.get_by_label(re.compile("full names of Jane Doe will be transferred"))
    expect(consent).to_be_visible()
    page.get_by_role("button", name="Move up author 2").click()
    expect(preview.locator(".creator-list li").first).to_contain_text("Doe, Jane")
    page.get_by_label("Description").fill("Tells happy from sad sentences.\n\nSmall and fast.")
    page.get_by_label("Description").blur()
    expect(preview).to_contain_text("Tells happy from sad sentences.")
    shoot(page, screenshot, "doi-edit-02-new-author")

    # Saving without the acknowledgement: the browser asks for it (the server would too), and
    # nothing is sent.
    puts = len(datacite.requests_for(version.doi))
    page.get_by_role("button", name="Save and update at DataCite").click()
    assert consent.evaluate("box => box.matches(':invalid')")
    expect(page.locator(".author-row").first.get_by_label("Full name")).to_have_value("Jane Doe")
    assert len(datacite.requests_for(version.doi)) == puts
    consent.check()
    page.get_by_role("button", name="Save and update at DataCite").click()

    # Back in the section: updating at DataCite until the worker has pushed it.
    expect(section.get_by_role("status")).to_contain_text("updating at DataCite")
    item = section.locator(".doi-item").first
    expect(item).to_contain_text("Updating at DataCite…")
    expect(item).to_contain_text("Findable — update pending")
    shoot(page, screenshot, "doi-edit-03-updating")
    push_pending()
    expect(item).not_to_contain_text("Updating at DataCite", timeout=10_000)
    expect(item).to_contain_text("Findable")
    shoot(page, screenshot, "doi-edit-04-updated")

    sent = json.loads(datacite.requests_for(version.doi)[-1]["body"])
    assert "event" not in sent["data"]["attributes"]
    assert datacite.state(version.doi) == "findable"
    names = [c["name"] for c in datacite.attributes(version.doi)["creators"]]
    assert names == ["Doe, Jane", "Liddell, Alice"]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "doi-edit-put.json").write_text(json.dumps(sent, indent=2, ensure_ascii=False))

    # The edit page lists the change, and the Cite panel cites the new authors.
    section.get_by_role("link", name=f"Edit metadata of doi:{version.doi}").click()
    changes = page.locator(".doi-edits")
    expect(changes).to_contain_text("Metadata edited")
    expect(changes).to_contain_text("Authors after: 1. Doe, Jane (Example University)")
    shoot(page, screenshot, "doi-edit-05-history")
    assert Event.objects.filter(doi=version, kind=Event.Kind.EDITED, actor=owner).exists()
    page.goto(repo.url("page"))
    page.get_by_text("Cite", exact=True).click()
    expect(page.locator("#cite-panel")).to_contain_text("Doe, J.")

"""In a real browser, a click whose request fails (here: the object store down while Generate
DOI reads the README of a revision committed before its outline was kept with it) says what
happened, in sight, and leaves the page as it was; once the store is back the same click
works."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from hubsite.http import STORE_UNAVAILABLE
from repos.models import Revision
from tests.browser.axe import audit, prepare
from tests.doi.test_citation_file import CFF
from tests.factories import RepoFactory, commit_files
from tests.object_store import _free_ports
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_failed_click_says_why_and_the_same_click_works_once_the_store_is_back(
    page: Page, screenshot, owner, object_store, settings
):
    folder = object_store.new_folder()
    up = object_store.storage_settings(folder)
    settings.STORAGES = {**settings.STORAGES, "default": up}
    repo = RepoFactory(namespace=owner.namespace, name="tuned")
    revision = commit_files(repo, owner, {"README.md": "# Tuned\n", "CITATION.cff": CFF})
    Revision.objects.filter(pk=revision.pk).update(card_outline=None)
    prepare(page.context)
    log_in(page, "alice")
    page.goto(repo.url("settings"))

    down = object_store.storage_settings(folder)
    down["OPTIONS"]["endpoint_url"] = f"http://127.0.0.1:{_free_ports(1)[0]}"
    settings.STORAGES = {**settings.STORAGES, "default": down}
    page.get_by_role("link", name="Generate DOI").click()

    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(STORE_UNAVAILABLE)
    expect(page.get_by_role("link", name="Generate DOI")).to_be_visible()  # the page as it was
    shoot(page, screenshot, "store-down-01-generate-doi-refused")
    found = audit(page, "A failed click's alert")
    assert not [str(v) for v in found if v.fails]
    alert.get_by_role("button", name="Dismiss").click()
    expect(alert).to_be_hidden()

    settings.STORAGES = {**settings.STORAGES, "default": up}
    page.get_by_role("link", name="Generate DOI").click()
    expect(page.locator("#citation-file-notice")).to_contain_text("CITATION.cff")
    expect(page.locator("#request-error")).to_be_hidden()

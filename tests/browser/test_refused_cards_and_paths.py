"""What a person sees when a card or a file name is refused, and a page with an odd stored path."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from repos.models import RevisionFile
from tests.factories import RepoFactory, UserFactory, commit_files
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

ALIASES = "---\nbase: &base [a, b]\nmore: *base\n---\n# Kept\n"


def test_refusals_are_shown_on_the_form_and_keep_the_text(page: Page, screenshot):
    user = UserFactory(username="ada")
    repo = RepoFactory(namespace=user.namespace, name="tiny")
    commit_files(repo, user, {"README.md": "# Tiny\n", "w.bin": b"\x00"})
    log_in(page, "ada")

    page.goto("/ada/tiny/edit-card")
    page.get_by_label("Model card (README.md)").fill(ALIASES)
    page.get_by_role("button", name="Commit changes").click()
    expect(
        page.get_by_text("aliases are not accepted: write the value out in full")
    ).to_be_visible()
    expect(page.get_by_label("Model card (README.md)")).to_have_value(ALIASES)
    shoot(page, screenshot, "card-alias-refused")

    page.goto("/ada/tiny/upload")
    page.get_by_label("Files").set_input_files(
        files=[{"name": "x.txt", "mimeType": "text/plain", "buffer": b"1"}]
    )
    page.get_by_label("Folder").fill("data\u202etxt")
    page.get_by_role("button", name="Commit files").click()
    expect(page.get_by_text("U+202E RIGHT-TO-LEFT OVERRIDE")).to_be_visible()
    shoot(page, screenshot, "upload-folder-refused")


def test_a_stored_path_with_a_line_break_renders(page: Page, screenshot):
    user = UserFactory(username="ada")
    repo = RepoFactory(namespace=user.namespace, name="odd")
    commit_files(repo, user, {"README.md": "# Odd\n", "w.bin": b"\x00"})
    RevisionFile.objects.filter(path="w.bin").update(path="a\nb/w.bin")
    page.goto("/ada/odd")
    expect(page.get_by_role("heading", name="Odd", exact=True)).to_be_visible()
    link = page.locator("#files").get_by_role("link", name="w.bin")
    expect(link).to_be_visible()
    shoot(page, screenshot, "stored-odd-path")


def test_a_readme_over_the_limit_is_explained_not_loaded(page: Page, screenshot, settings):
    user = UserFactory(username="ada")
    repo = RepoFactory(namespace=user.namespace, name="huge")
    commit_files(repo, user, {"README.md": "# Huge\n" + "word " * 400})
    settings.CARD_MAX_KB = 1
    log_in(page, "ada")
    page.goto("/ada/huge")
    expect(page.get_by_text("it is not shown here")).to_be_visible()
    shoot(page, screenshot, "card-over-limit")
    page.goto("/ada/huge/edit-card")
    expect(page.get_by_text("so it is not loaded here")).to_be_visible()
    expect(page.get_by_label("Model card (README.md)")).to_have_value("")
    shoot(page, screenshot, "card-editor-over-limit")

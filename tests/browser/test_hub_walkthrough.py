"""A new person signs up and takes a model repository through its whole life in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, RepoFactory, UserFactory, commit_files
from tests.pages import shoot

pytestmark = pytest.mark.django_db(transaction=True)

NAME = re.compile(r"^Name\b")  # not "Full name"


def test_a_model_repository_from_sign_up_to_deletion(page: Page, screenshot, tmp_path: Path):
    UserFactory(username="mallory")

    # Sign up.
    page.goto("/join")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Your account is ready")).to_be_visible()

    # Create a model repository.
    page.get_by_role("link", name="New model").first.click()
    expect(page.get_by_label("Owner")).to_have_value(re.compile(r"\d+"))
    page.get_by_label(NAME).fill("bad--name")
    page.get_by_role("button", name="Create model").click()
    expect(page.get_by_text("'--' and '..' are not allowed in a name.")).to_be_visible()
    shoot(page, screenshot, "hub-new-model-error")
    page.get_by_label(NAME).fill("tiny-bert")
    page.get_by_label(re.compile("^Public")).check()
    page.get_by_role("button", name="Create model").click()
    expect(page).to_have_url(re.compile(r"/ada/tiny-bert$"))
    expect(page.get_by_role("heading", name="This model repository is empty")).to_be_visible()
    shoot(page, screenshot, "hub-empty-repo")

    # Upload two files.
    (tmp_path / "config.json").write_text('{"hidden_size": 128}')
    (tmp_path / "weights.bin").write_bytes(b"\x00" * 2048)
    page.get_by_role("link", name="Upload files").first.click()
    page.get_by_label("Files").set_input_files([tmp_path / "config.json", tmp_path / "weights.bin"])
    page.get_by_label("Commit message").fill("Add config and weights")
    shoot(page, screenshot, "hub-upload")
    page.get_by_role("button", name="Commit files").click()
    expect(
        page.get_by_text(re.compile(r"Committed 2 files as revision [0-9a-f]{7}"))
    ).to_be_visible()
    files = page.locator("#files")
    expect(files.get_by_role("link", name="config.json")).to_be_visible()
    expect(files.get_by_text("2.0\xa0KB", exact=True)).to_be_visible()

    # Edit the model card, with front matter.
    page.get_by_role("link", name="Write the model card").click()
    page.get_by_label("Model card (README.md)").fill(
        "---\nlicense: apache-2.0\ntags: [text-classification, tiny]\n---\n"
        "# Tiny BERT\n\nA *very* small model for tests.\n\n## Usage\n\n"
        "```python\nmodel = load('ada/tiny-bert')\n```\n\n| metric | value |\n|---|---|\n"
        "| accuracy | 0.91 |\n"
    )
    page.get_by_label("Commit message").fill("Write the model card")
    shoot(page, screenshot, "hub-edit-card")
    page.get_by_role("button", name="Commit changes").click()
    expect(page.get_by_role("heading", name="Tiny BERT")).to_be_visible()
    header = page.locator(".repo-header")
    expect(header.get_by_text("apache-2.0")).to_be_visible()
    expect(header.get_by_text("text-classification")).to_be_visible()
    shoot(page, screenshot, "hub-repo-page")

    # Both revisions in Commits; open the older one.
    page.get_by_role("link", name="Commits", exact=True).click()
    expect(page.get_by_role("link", name="Write the model card")).to_be_visible()
    older = page.get_by_role("link", name="Add config and weights")
    expect(older).to_be_visible()
    shoot(page, screenshot, "hub-commits")
    older.click()
    expect(page.get_by_text(re.compile(r"You are viewing revision [0-9a-f]{7}"))).to_be_visible()
    expect(page.get_by_role("heading", name="Tiny BERT")).to_have_count(0)
    shoot(page, screenshot, "hub-old-revision")
    page.get_by_role("link", name="go to the latest").click()
    expect(page).to_have_url(re.compile(r"/ada/tiny-bert$"))

    # Rename.
    page.get_by_role("link", name="Settings", exact=True).click()
    shoot(page, screenshot, "hub-settings")
    page.get_by_label(NAME).fill("tiny-bert-v2")
    page.get_by_role("button", name="Rename").click()
    expect(page).to_have_url(re.compile(r"/ada/tiny-bert-v2/settings$"))
    expect(page.get_by_text("Renamed ada/tiny-bert to ada/tiny-bert-v2")).to_be_visible()
    page.goto("/ada/tiny-bert")
    expect(page).to_have_url(re.compile(r"/ada/tiny-bert-v2$"))

    # Make it private; another person cannot see it.
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("button", name="Make private").click()
    expect(page.get_by_text("ada/tiny-bert-v2 is now private.")).to_be_visible()
    expect(page.locator(".repo-title").get_by_text("Private")).to_be_visible()

    other = page.context.browser.new_context(base_url=page.url.split("/ada/")[0])
    try:
        stranger = other.new_page()
        stranger.goto("/login")
        stranger.get_by_label("Username").fill("mallory")
        stranger.get_by_label("Password").fill(PASSWORD)
        stranger.get_by_role("button", name="Log in").click()
        stranger.wait_for_url(re.compile(r"/$"))
        for url in ("/ada/tiny-bert-v2", "/ada/tiny-bert", "/ada/tiny-bert-v2/commits"):
            assert stranger.goto(url).status == 404, url
        stranger.goto("/models")
        expect(stranger.get_by_text("tiny-bert")).to_have_count(0)
    finally:
        other.close()

    # Delete it: a wrong confirmation first, then the full name.
    page.get_by_label("Type “ada/tiny-bert-v2” to confirm").fill("tiny-bert-v2")
    page.get_by_role("button", name="Delete this repository").click()
    expect(page.get_by_text("That is not “ada/tiny-bert-v2”")).to_be_visible()
    shoot(page, screenshot, "hub-delete-error")
    page.get_by_label("Type “ada/tiny-bert-v2” to confirm").fill("ada/tiny-bert-v2")
    page.get_by_role("button", name="Delete this repository").click()
    expect(page.get_by_text("Deleted ada/tiny-bert-v2.")).to_be_visible()
    assert page.goto("/ada/tiny-bert-v2").status == 404


def test_home_and_listings_look_right(page: Page, screenshot):
    owner = UserFactory(username="hub-demo")
    for i, name in enumerate(["bert-base", "gpt-tiny", "vision-small", "whisper-mini"]):
        repo = RepoFactory(namespace=owner.namespace, name=name)
        commit_files(repo, owner, {"README.md": f"---\nlicense: mit\n---\n# {name} {i}"})
    RepoFactory(namespace=owner.namespace, name="squad-mini", type="dataset")
    page.goto("/")
    expect(page.get_by_role("link", name="hub-demo/bert-base")).to_be_visible()
    shoot(page, screenshot, "hub-home")
    page.goto("/models")
    page.get_by_label("Search models by name").fill("gpt")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="hub-demo/gpt-tiny")).to_be_visible()
    expect(page.get_by_role("link", name="hub-demo/bert-base")).to_have_count(0)
    shoot(page, screenshot, "hub-models-search")


def test_a_long_listing_says_more_than_it_counts(page: Page, screenshot, monkeypatch):
    monkeypatch.setattr("repos.views.LISTING_COUNT_LIMIT", 3)
    monkeypatch.setattr("repos.views.LISTING_PAGE_SIZE", 2)
    owner = UserFactory(username="hub-demo")
    for name in ["bert-base", "gpt-tiny", "vision-small", "whisper-mini", "t5-small"]:
        RepoFactory(namespace=owner.namespace, name=name)
    page.goto("/models")
    expect(page.get_by_role("status")).to_have_text(
        "More than 3 models; search to narrow them down"
    )
    expect(page.get_by_text("Page 1", exact=True)).to_be_visible()
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Page 2", exact=True)).to_be_visible()
    shoot(page, screenshot, "hub-models-more-than-counted")

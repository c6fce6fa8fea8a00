"""A person uploads more than the limit in a real browser: a clear message, nothing committed."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import RepoFactory, commit_files
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_upload_over_the_limit_is_refused_with_the_limit_named(
    page: Page, screenshot, owner, settings
):
    settings.REPO_UPLOAD_MAX_MB = 1
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    head = commit_files(repo, owner, {"README.md": "# Bert\n"})
    log_in(page, "alice")
    page.goto(repo.url("upload"))
    page.get_by_label("Files").set_input_files(
        files=[
            {
                "name": "weights.bin",
                "mimeType": "application/octet-stream",
                "buffer": b"0" * (3 << 20),
            }
        ]
    )
    with page.expect_response(lambda r: r.url.endswith("/upload")) as answer:
        page.get_by_role("button", name="Commit files").click()
    assert answer.value.status == 413
    expect(
        page.get_by_text("The upload is about 3.0 MB, over the limit of 1 MB per commit.")
    ).to_be_visible()
    expect(page.get_by_text("Nothing was committed.")).to_be_visible()
    shoot(page, screenshot, "upload-over-the-limit")
    repo.refresh_from_db()
    assert repo.head_id == head.pk

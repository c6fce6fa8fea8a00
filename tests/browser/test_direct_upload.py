"""With an object store, the upload page sends large files from the browser straight to it (a
presigned PUT with a progress bar), under the per-file and per-repository quotas; real Chromium
against the live server and SeaweedFS. Sizes are scaled down by LFS_THRESHOLD_MB."""

from __future__ import annotations

import hashlib
import os

import pytest
from playwright.sync_api import Page, expect

from repos.models import LfsUpload
from tests.browser.axe import audit, prepare
from tests.factories import RepoFactory, commit_files
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

MB = 1024 * 1024


@pytest.fixture
def store(settings, object_store, live_server):
    folder = object_store.new_folder()
    object_store.allow_browser_uploads(live_server.url)
    settings.STORAGES = {**settings.STORAGES, "default": object_store.storage_settings(folder)}
    settings.LFS_THRESHOLD_MB = 1
    # The large file is over what one commit may carry: it can only arrive through the store.
    settings.REPO_UPLOAD_MAX_MB = 1
    return folder


@pytest.fixture
def repo(owner, store):
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(repo, owner, {"README.md": "# Bert\n"})
    return repo


def _choose(page: Page, files: dict[str, bytes]) -> None:
    page.get_by_label("Files").set_input_files(
        files=[
            {"name": name, "mimeType": "application/octet-stream", "buffer": content}
            for name, content in files.items()
        ]
    )


def test_a_large_file_goes_from_the_browser_to_the_store_with_progress_and_is_committed(
    page: Page, screenshot, repo, store, object_store, live_server
):
    content = os.urandom(3 * MB)
    prepare(page.context)
    log_in(page, "alice")
    page.goto(repo.url("upload"))
    expect(
        page.get_by_text("Files of 1.0 MB or more go straight to the object store")
    ).to_be_visible()
    _choose(page, {"weights.bin": content, "notes.txt": b"small, inside the commit\n"})
    page.get_by_label("Commit message").fill("Add the weights")
    puts = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    # Slow the upload down (Chromium's network emulation), so the bar is seen on its way.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "latency": 0, "downloadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", conditions | {"uploadThroughput": 400_000})

    page.get_by_role("button", name="Commit files").click()
    progress = page.get_by_role("progressbar", name="Uploading weights.bin")
    expect(progress).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "() => { const v = document.getElementById('upload-progress').value; "
        "return v > 10 && v < 90; }",
        timeout=30_000,
    )
    expect(page.get_by_role("status")).to_contain_text("of 3.0 MB")
    shoot(page, screenshot, "direct-upload-in-progress")
    assert not [str(v) for v in audit(page, "direct upload in progress") if v.fails]
    cdp.send("Network.emulateNetworkConditions", conditions | {"uploadThroughput": -1})

    expect(page.get_by_text("Committed 2 files as revision")).to_be_visible(timeout=30_000)
    shoot(page, screenshot, "direct-upload-committed")
    assert [url.split("?")[0].startswith(object_store.endpoint_url) for url in puts] == [True]
    repo.refresh_from_db()
    assert repo.head.message == "Add the weights"
    blob = repo.head.files.get(path="weights.bin").blob
    assert blob.sha256 == hashlib.sha256(content).hexdigest()
    key = f"blobs/{blob.sha256[:2]}/{blob.sha256}"
    assert key in object_store.keys(store)
    stored = object_store.client().get_object(Bucket="hub-tests", Key=f"{store}/{key}")
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == blob.sha256
    assert repo.head.files.get(path="notes.txt").blob.read() == b"small, inside the commit\n"
    # Nothing is left at the staging key.
    assert not [k for k in object_store.keys(store) if k.startswith("lfs-staging/")]


def test_a_file_over_the_per_file_quota_is_refused_with_the_limit_named_and_nothing_lost(
    page: Page, screenshot, repo, store, settings
):
    settings.LFS_MAX_FILE_MB = 2
    head = repo.head_id
    prepare(page.context)
    log_in(page, "alice")
    page.goto(repo.url("upload"))
    _choose(page, {"weights.bin": os.urandom(3 * MB)})
    page.get_by_label("Commit message").fill("My carefully written message")
    page.get_by_role("button", name="Commit files").click()

    alert = page.locator("#upload-refused")
    expect(alert).to_have_text(
        "A file of 3.0 MB is over the limit of 2 MB per file (LFS_MAX_FILE_MB). "
        "Nothing was uploaded."
    )
    expect(page.get_by_label("Commit message")).to_have_value("My carefully written message")
    expect(page.get_by_role("button", name="Commit files")).to_be_enabled()
    assert page.get_by_label("Files").evaluate("input => input.files.length") == 1
    shoot(page, screenshot, "direct-upload-over-the-file-quota")
    assert not [str(v) for v in audit(page, "direct upload refused") if v.fails]
    repo.refresh_from_db()
    assert repo.head_id == head
    assert not LfsUpload.objects.filter(repo=repo).exists()

"""The upload page's direct upload: ``upload/large`` answers a presigned URL to the object store
under the LFS quotas, and the commit form names the file by SHA-256, verified before it is
committed. Sizes are scaled down by LFS_THRESHOLD_MB; against SeaweedFS."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests
from django.test import Client

from repos.models import LfsUpload
from tests.factories import RepoFactory, commit_files

MB = 1024 * 1024


@pytest.fixture
def store(settings, object_store):
    folder = object_store.new_folder()
    settings.STORAGES = {**settings.STORAGES, "default": object_store.storage_settings(folder)}
    settings.LFS_THRESHOLD_MB = 1
    return lambda: object_store.keys(folder)


@pytest.fixture
def big(owner, store):
    repo = RepoFactory(namespace=owner.namespace, name="big")
    commit_files(repo, owner, {"README.md": "# Big\n"})
    return repo


def _announce(client, repo, content: bytes, size: int | None = None):
    sha256 = hashlib.sha256(content).hexdigest()
    size = len(content) if size is None else size
    return client.post(repo.url("upload-large"), {"sha256": sha256, "size": size})


def _put(url: str, content: bytes) -> None:
    assert requests.put(url, data=content, timeout=30).status_code == 200


def _commit(client, repo, content: bytes, name="model.bin", message="Add the model"):
    entry = f"{hashlib.sha256(content).hexdigest()} {name}"
    return client.post(repo.url("upload"), {"stored": [entry], "folder": "", "message": message})


def test_it_answers_an_upload_url_and_the_form_commits_the_verified_file(client, owner, big, store):
    client.force_login(owner)
    content = os.urandom(2 * MB)
    answer = _announce(client, big, content)
    assert answer.status_code == 200
    assert answer.json()["stored"] is False
    _put(answer.json()["url"], content)

    response = _commit(client, big, content)
    assert response.status_code == 302
    big.refresh_from_db()
    assert big.head.message == "Add the model"
    blob = big.head.files.get(path="model.bin").blob
    assert blob.sha256 == hashlib.sha256(content).hexdigest()
    assert blob.read() == content
    assert store() == sorted([f"blobs/{blob.sha256[:2]}/{blob.sha256}", *_readme_key(big)])
    assert "Committed 1 file as revision" in client.get(response.url).text


def _readme_key(repo) -> list[str]:
    sha = repo.head.files.get(path="README.md").blob.sha256
    return [f"blobs/{sha[:2]}/{sha}"]


def test_content_the_hub_holds_is_not_sent_again(client, owner, big):
    client.force_login(owner)
    content = os.urandom(MB)
    other = RepoFactory(namespace=owner.namespace, name="other")
    commit_files(other, owner, {"model.bin": content})
    answer = _announce(client, big, content)
    assert answer.json() == {"stored": True}
    assert _commit(client, big, content).status_code == 302


def test_a_file_over_the_per_file_limit_is_refused_naming_it(client, owner, big, settings):
    settings.LFS_MAX_FILE_MB = 1
    client.force_login(owner)
    answer = _announce(client, big, b"x", size=2 * MB)
    assert answer.status_code == 413
    # filesizeformat puts a no-break space between number and unit.
    assert answer.json()["error"] == (
        "A file of 2.0\xa0MB is over the limit of 1 MB per file (LFS_MAX_FILE_MB). "
        "Nothing was uploaded."
    )
    assert not LfsUpload.objects.exists()


def test_files_past_the_repository_quota_are_refused_naming_it(client, owner, big, settings):
    settings.LFS_REPO_QUOTA_MB = 3
    client.force_login(owner)
    assert _announce(client, big, b"first", size=2 * MB).status_code == 200
    # The same content again counts once.
    assert _announce(client, big, b"first", size=2 * MB).status_code == 200
    answer = _announce(client, big, b"second", size=2 * MB)
    assert answer.status_code == 413
    assert answer.json()["error"] == (
        "alice/big holds 2.0\xa0MB of large files; 2.0\xa0MB more would pass its quota of 3 MB "
        "(LFS_REPO_QUOTA_MB). Nothing was uploaded."
    )
    assert LfsUpload.objects.filter(repo=big).count() == 1


def test_a_commit_naming_content_other_than_announced_is_refused_keeping_the_message(
    client, owner, big, store
):
    client.force_login(owner)
    content = os.urandom(MB)
    answer = _announce(client, big, content)
    _put(answer.json()["url"], b"something else")
    head = big.head_id

    response = _commit(client, big, content, message="My careful message")
    assert response.status_code == 422
    assert "not the announced" in response.text
    assert 'value="My careful message"' in response.text
    big.refresh_from_db()
    assert big.head_id == head
    assert not [key for key in store() if key.startswith("lfs-staging/")]


def test_a_commit_naming_a_file_never_announced_is_refused(client, owner, big):
    client.force_login(owner)
    response = _commit(client, big, b"never announced")
    assert response.status_code == 422
    assert "was announced for alice/big: choose the file again" in response.text


def test_a_malformed_stored_entry_is_refused(client, owner, big):
    client.force_login(owner)
    response = client.post(big.url("upload"), {"stored": ["nonsense"], "message": "x"})
    assert response.status_code == 200
    assert "named by its SHA-256 and name" in response.text


def test_it_needs_the_csrf_token(owner, big):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert _announce(client, big, b"x").status_code == 403


def test_it_refuses_bad_input(client, owner, big):
    client.force_login(owner)
    response = client.post(big.url("upload-large"), {"sha256": "abc", "size": "-1"})
    assert response.status_code == 400
    assert "SHA-256" in response.json()["error"]


def test_without_an_object_store_it_says_files_come_inside_the_commit(client, repo, owner):
    client.force_login(owner)
    answer = _announce(client, repo, b"x")
    assert answer.status_code == 501
    assert "no object store" in answer.json()["error"]


def test_the_page_may_connect_to_the_store_and_run_the_hasher_only_with_one(
    client, owner, repo, big, object_store
):
    client.force_login(owner)
    policy = client.get(big.url("upload"))["Content-Security-Policy"]
    assert f"connect-src 'self' {object_store.endpoint_url}" in policy
    assert "'wasm-unsafe-eval'" in policy


def test_without_a_store_the_page_keeps_the_strict_policy_and_no_script(client, owner, repo):
    client.force_login(owner)
    response = client.get(repo.url("upload"))
    assert "connect-src" not in response["Content-Security-Policy"]
    assert "wasm" not in response["Content-Security-Policy"]
    assert "upload.js" not in response.text
    assert "Up to 50 MB per commit." in response.text

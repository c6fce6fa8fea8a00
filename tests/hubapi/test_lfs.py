"""Large files through the real client's LFS path (hf_xet off): preupload says "lfs", the batch
API gives a presigned URL to the object store, verify checks the content before a commit may
name it. Sizes are scaled down by LFS_THRESHOLD_MB; the code path is the one a 1 GB file takes."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import requests
from huggingface_hub.errors import HfHubHTTPError

from repos.models import Blob, LfsUpload
from tests.factories import RepoFactory


@pytest.fixture(autouse=True)
def _site_url(settings, live_server):
    settings.SITE_URL = live_server.url


@pytest.fixture
def store(settings, object_store):
    folder = object_store.new_folder()
    settings.STORAGES = {**settings.STORAGES, "default": object_store.storage_settings(folder)}
    settings.LFS_THRESHOLD_MB = 1
    settings.S3_REDIRECT_DOWNLOADS_OVER_MB = 1
    return lambda: object_store.keys(folder)


@pytest.fixture
def token(token_for, owner):
    return token_for(owner)


@pytest.fixture
def api(hub_api, token):
    return hub_api(token)


@pytest.fixture
def repo(owner):
    return RepoFactory(namespace=owner.namespace, name="big")


def _batch(live_server, token, content: bytes) -> dict:
    response = requests.post(
        f"{live_server.url}/alice/big.git/info/lfs/objects/batch",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "operation": "upload",
            "transfers": ["basic"],
            "objects": [{"oid": hashlib.sha256(content).hexdigest(), "size": len(content)}],
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["objects"][0]


def test_a_large_file_goes_straight_to_the_store_and_is_committed(api, repo, store):
    content = os.urandom(3 * 1024 * 1024)
    api.upload_file(path_or_fileobj=content, path_in_repo="model.bin", repo_id=repo.full_name)

    repo.refresh_from_db()
    blob = repo.head.files.get(path="model.bin").blob
    assert blob.sha256 == hashlib.sha256(content).hexdigest()
    assert blob.read() == content
    # The staged object went to the blob's key inside the store; nothing else is left.
    assert store() == [f"blobs/{blob.sha256[:2]}/{blob.sha256}"]
    assert LfsUpload.objects.get(repo=repo).blob == blob


def test_content_the_hub_holds_is_not_uploaded_again(api, repo, store, owner):
    content = os.urandom(2 * 1024 * 1024)
    other = RepoFactory(namespace=owner.namespace, name="other")
    api.upload_file(path_or_fileobj=content, path_in_repo="a.bin", repo_id=other.full_name)
    written = store()

    api.upload_file(path_or_fileobj=content, path_in_repo="a.bin", repo_id=repo.full_name)

    assert store() == written
    assert Blob.objects.count() == 1
    repo.refresh_from_db()
    assert repo.head.files.get(path="a.bin").blob.read() == content


def test_a_corrupted_upload_is_refused_at_verify_and_cannot_be_committed(
    live_server, token, repo, store
):
    content = os.urandom(2 * 1024 * 1024)
    answer = _batch(live_server, token, content)
    corrupted = bytes([content[0] ^ 1]) + content[1:]
    assert requests.put(answer["actions"]["upload"]["href"], data=corrupted, timeout=30).ok

    verified = requests.post(
        answer["actions"]["verify"]["href"],
        headers={"Authorization": f"Bearer {token}"},
        json={"oid": answer["oid"], "size": len(content)},
        timeout=30,
    )

    assert verified.status_code == 422
    assert "was discarded" in verified.json()["error"]
    assert store() == []
    commit = requests.post(
        f"{live_server.url}/api/models/alice/big/commit/main",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
        data="\n".join(
            json.dumps(line)
            for line in (
                {"key": "header", "value": {"summary": "Add"}},
                {
                    "key": "lfsFile",
                    "value": {"path": "x.bin", "algo": "sha256", "oid": answer["oid"]},
                },
            )
        ),
        timeout=30,
    )
    assert commit.status_code == 404
    assert "error" in commit.json()
    assert repo.revisions.count() == 0


def test_an_upload_interrupted_before_verify_is_done_again_by_the_client(
    api, live_server, token, repo, store
):
    content = os.urandom(2 * 1024 * 1024)
    first = _batch(live_server, token, content)
    # Interrupted before the object reached the store: verify refuses, nothing can name it.
    verified = requests.post(
        first["actions"]["verify"]["href"],
        headers={"Authorization": f"Bearer {token}"},
        json={"oid": first["oid"], "size": len(content)},
        timeout=30,
    )
    assert verified.status_code == 422
    assert "No object" in verified.json()["error"]

    api.upload_file(path_or_fileobj=content, path_in_repo="w.bin", repo_id=repo.full_name)

    repo.refresh_from_db()
    assert repo.head.files.get(path="w.bin").blob.read() == content


def test_a_file_over_the_per_file_limit_is_refused_at_the_batch_request(api, repo, store, settings):
    settings.LFS_MAX_FILE_MB = 1
    with pytest.raises(HfHubHTTPError) as refused:
        api.upload_file(
            path_or_fileobj=os.urandom(2 * 1024 * 1024),
            path_in_repo="w.bin",
            repo_id=repo.full_name,
        )
    assert "LFS_MAX_FILE_MB" in str(refused.value)
    assert store() == []


def test_without_an_object_store_large_files_are_regular(api, repo, settings):
    settings.LFS_THRESHOLD_MB = 1
    content = os.urandom(2 * 1024 * 1024)
    api.upload_file(path_or_fileobj=content, path_in_repo="w.bin", repo_id=repo.full_name)
    repo.refresh_from_db()
    assert repo.head.files.get(path="w.bin").blob.read() == content
    assert not LfsUpload.objects.exists()

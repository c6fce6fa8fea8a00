"""Large files through the real client's LFS path (hf_xet off): preupload says "lfs", the batch
API gives a presigned URL to the object store, verify checks the content before a commit may
name it. Sizes are scaled down by LFS_THRESHOLD_MB; the code path is the one a 1 GB file takes."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone
from huggingface_hub.errors import HfHubHTTPError

from repos.models import Blob, LfsUpload
from tests.factories import RepoFactory
from tests.object_store import BUCKET
from tests.store_proxy import CORRUPT, CUT, REFUSE, StoreProxy


@pytest.fixture(autouse=True)
def _site_url(settings, live_server):
    settings.SITE_URL = live_server.url


@pytest.fixture
def store(store, settings, object_store, folder):
    """The test store (``tests.object_store``), downloads over 1 MB sent to it; gives the keys
    in it."""
    settings.S3_REDIRECT_DOWNLOADS_OVER_MB = 1
    return lambda: object_store.keys(folder)


@pytest.fixture
def proxy(settings, object_store, folder, store):
    """The store reached through a proxy that can break part uploads; parts of 5 MB (S3's and
    SeaweedFS's smallest)."""
    proxy = StoreProxy(object_store.endpoint_url)
    default = object_store.storage_settings(folder)
    default["OPTIONS"]["endpoint_url"] = proxy.url
    settings.STORAGES = {**settings.STORAGES, "default": default}
    settings.LFS_PART_SIZE_MB = 5
    yield proxy
    proxy.close()


@pytest.fixture
def multiparts(object_store, folder):
    """The multipart uploads in progress under the test's folder (their keys, without it)."""

    def listing() -> list[str]:
        uploads = object_store.client().list_multipart_uploads(Bucket=BUCKET, Prefix=f"{folder}/")
        return [u["Key"].removeprefix(f"{folder}/") for u in uploads.get("Uploads", [])]

    return listing


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


MB = 1024 * 1024
PART = 5 * MB


def test_a_file_over_the_part_size_goes_to_the_store_in_parts(api, repo, proxy, store, multiparts):
    content = os.urandom(2 * PART + 512 * 1024)
    api.upload_file(path_or_fileobj=content, path_in_repo="model.bin", repo_id=repo.full_name)

    assert proxy.sent_parts() == [1, 2, 3]
    repo.refresh_from_db()
    blob = repo.head.files.get(path="model.bin").blob
    assert blob.read() == content
    assert store() == [f"blobs/{blob.sha256[:2]}/{blob.sha256}"]
    assert multiparts() == []
    assert LfsUpload.objects.get(repo=repo).multipart_id == ""


def test_a_part_cut_off_midway_is_sent_again_alone(api, repo, proxy, store):
    content = os.urandom(2 * PART + 512 * 1024)
    proxy.break_part(2, CUT)

    api.upload_file(path_or_fileobj=content, path_in_repo="model.bin", repo_id=repo.full_name)

    assert proxy.sent_parts() == [1, 2, 2, 3]
    repo.refresh_from_db()
    assert repo.head.files.get(path="model.bin").blob.read() == content


def test_an_upload_that_failed_is_finished_by_uploading_again_into_the_same_multipart_upload(
    api, repo, proxy, store, multiparts
):
    content = os.urandom(2 * PART + 512 * 1024)
    proxy.break_part(2, REFUSE)
    with pytest.raises(RuntimeError, match=r"Error while uploading 'model\.bin'") as failed:
        api.upload_file(path_or_fileobj=content, path_in_repo="model.bin", repo_id=repo.full_name)
    assert isinstance(failed.value.__cause__, HfHubHTTPError)
    first = list(proxy.part_puts)
    assert proxy.sent_parts() == [1, 2]
    assert repo.revisions.count() == 0
    staged = LfsUpload.objects.get(repo=repo).staging_name
    assert multiparts() == [staged]

    api.upload_file(path_or_fileobj=content, path_in_repo="model.bin", repo_id=repo.full_name)

    # The client sends every part it is given, so the parts the store held are sent again, into
    # the multipart upload the first attempt started (nothing is left behind in the store).
    second = list(proxy.part_puts)
    assert proxy.sent_parts() == [1, 2, 3]
    assert {p.upload_id for p in first + second} == {first[0].upload_id}
    repo.refresh_from_db()
    assert repo.head.files.get(path="model.bin").blob.read() == content
    assert multiparts() == []


def test_a_part_corrupted_on_the_way_is_refused_and_nothing_is_kept(
    api, repo, proxy, store, multiparts
):
    content = os.urandom(2 * PART + 512 * 1024)
    proxy.break_part(2, CORRUPT)

    with pytest.raises(RuntimeError) as failed:
        api.upload_file(path_or_fileobj=content, path_in_repo="model.bin", repo_id=repo.full_name)

    # What the client prints under its "Error while uploading" line: the completion's 422.
    refused = failed.value.__cause__
    assert isinstance(refused, HfHubHTTPError)
    assert refused.response.status_code == 422
    assert "was discarded" in str(refused)
    assert hashlib.sha256(content).hexdigest() in str(refused)
    assert repo.revisions.count() == 0
    assert store() == []
    assert multiparts() == []
    assert LfsUpload.objects.get(repo=repo).blob is None


def _parts(live_server, token, content: bytes) -> tuple[dict, dict]:
    answer = _batch(live_server, token, content)
    header = answer["actions"]["upload"]["header"]
    return answer, header


def test_completion_with_a_part_missing_is_refused_and_the_upload_stays_to_be_finished(
    live_server, token, repo, proxy, multiparts
):
    content = os.urandom(2 * PART + 100)
    answer, header = _parts(live_server, token, content)
    assert header["chunk_size"] == str(PART)
    assert sorted(k for k in header if k.isdigit()) == ["1", "2", "3"]
    sent = [
        requests.put(header[str(n)], data=content[(n - 1) * PART : n * PART], timeout=30)
        for n in (1, 3)
    ]
    assert all(r.ok for r in sent)

    completion = requests.post(
        answer["actions"]["upload"]["href"],
        json={
            "oid": answer["oid"],
            "parts": [
                {"partNumber": n, "etag": r.headers["ETag"]}
                for n, r in zip((1, 3), sent, strict=True)
            ],
        },
        timeout=30,
    )

    assert completion.status_code == 422
    assert "Part(s) 2 of 3" in completion.json()["error"]
    assert len(multiparts()) == 1
    assert repo.revisions.count() == 0


def test_a_completion_address_not_signed_by_the_hub_is_refused(live_server, repo, proxy):
    response = requests.post(
        f"{live_server.url}/alice/big.git/info/lfs/objects/complete/forged",
        json={"oid": "0" * 64, "parts": []},
        timeout=30,
    )
    assert response.status_code == 403
    assert "upload the file again" in response.json()["error"]


def _put_part_one(answer: dict, content: bytes) -> None:
    header = answer["actions"]["upload"]["header"]
    assert requests.put(header["1"], data=content[:PART], timeout=30).ok


def test_lfs_cleanup_gives_up_uploads_abandoned_and_keeps_the_rest(
    api, live_server, token, repo, store, multiparts, settings, object_store, folder
):
    settings.LFS_PART_SIZE_MB = 5
    old_parts, young_parts = os.urandom(2 * PART + 10), os.urandom(2 * PART + 20)
    old_whole, verified = os.urandom(2 * MB), os.urandom(2 * MB)
    _put_part_one(_batch(live_server, token, old_parts), old_parts)
    basic = _batch(live_server, token, old_whole)
    assert requests.put(basic["actions"]["upload"]["href"], data=old_whole, timeout=30).ok
    api.upload_file(path_or_fileobj=verified, path_in_repo="v.bin", repo_id=repo.full_name)
    LfsUpload.objects.update(requested_at=timezone.now() - timedelta(hours=3))
    _put_part_one(_batch(live_server, token, young_parts), young_parts)
    young = LfsUpload.objects.get(sha256=hashlib.sha256(young_parts).hexdigest())
    blob = Blob.objects.get()

    out = StringIO()
    call_command("lfs_cleanup", "--older-than", "2", stdout=out)

    assert "Gave up 2 unverified large-file upload(s) and 0 leftover(s)" in out.getvalue()
    assert set(LfsUpload.objects.values_list("pk", flat=True)) == {
        young.pk,
        LfsUpload.objects.get(blob=blob).pk,
    }
    assert multiparts() == [young.staging_name]
    assert store() == [blob.file.name]

    # What a deleted repository left in the store (its rows went with it) goes too, once old.
    young.delete()
    object_store.client().put_object(
        Bucket=BUCKET, Key=f"{folder}/lfs-staging/999/{'0' * 64}", Body=b"left"
    )
    call_command("lfs_cleanup", "--older-than", "0", stdout=out, stderr=StringIO())

    assert "Gave up 0 unverified large-file upload(s) and 2 leftover(s)" in out.getvalue()
    assert multiparts() == []
    assert store() == [blob.file.name]
    repo.refresh_from_db()
    assert repo.head.files.get(path="v.bin").blob.read() == verified

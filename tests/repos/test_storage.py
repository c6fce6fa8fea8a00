"""Repository files in Django's storage API, on both backends a hub can run: local disk (the
embedded default) and an S3-compatible object store (a real SeaweedFS, see tests/object_store.py).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile

from repos.models import Blob
from tests.factories import RepoFactory, commit_files

MB = 1024 * 1024


@dataclass
class Backend:
    name: str
    stored: Callable[[], list[str]]  # the names the storage holds


@pytest.fixture(params=["local", "s3"])
def backend(request, settings) -> Backend:
    if request.param == "s3":
        store = request.getfixturevalue("object_store")
        folder = store.new_folder()
        settings.STORAGES = {**settings.STORAGES, "default": store.storage_settings(folder)}
        return Backend("s3", lambda: store.keys(folder))
    root = Path(settings.MEDIA_ROOT)
    return Backend(
        "local",
        lambda: sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()),
    )


@pytest.fixture
def model(owner):
    return RepoFactory(namespace=owner.namespace, name="bert")


def test_content_is_stored_once_under_its_hash(backend, model, owner):
    commit_files(model, owner, {"a.bin": b"same bytes"}, "First")
    commit_files(model, owner, {"b.bin": b"same bytes", "c.bin": b"other"}, "Second")

    blobs = Blob.objects.order_by("size")
    assert [b.size for b in blobs] == [5, 10]
    assert backend.stored() == sorted(f"blobs/{b.sha256[:2]}/{b.sha256}" for b in blobs)
    assert {f.blob.read() for f in model.head.files.all()} == {b"same bytes", b"other"}


def test_an_upload_through_the_site_is_stored_and_served(backend, client, model, owner):
    client.force_login(owner)
    response = client.post(
        "/alice/bert/upload",
        {
            "files": [SimpleUploadedFile("notes.txt", b"hello from the store\n")],
            "folder": "",
            "message": "Add notes",
        },
    )
    assert response.status_code == 302

    blob = Blob.objects.get()
    assert backend.stored() == [f"blobs/{blob.sha256[:2]}/{blob.sha256}"]
    model.refresh_from_db()
    served = client.get(f"/alice/bert/blob/{model.head.oid}/notes.txt")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == b"hello from the store\n"


def test_the_card_is_read_from_the_store(backend, client, model, owner):
    commit_files(model, owner, {"README.md": "---\nlicense: mit\n---\n# Stored card\n"})

    page = client.get("/alice/bert")

    assert "<h1>Stored card</h1>" in page.text
    assert any(key.startswith("blobs/") for key in backend.stored())


def test_a_large_file_downloads_straight_from_the_object_store(
    backend, client, settings, model, owner
):
    settings.S3_REDIRECT_DOWNLOADS_OVER_MB = 1
    data = bytes(range(256)) * (2 * MB // 256)
    revision = commit_files(model, owner, {"weights.bin": data})

    response = client.get(f"/alice/bert/blob/{revision.oid}/weights.bin")

    if backend.name == "local":
        assert response.status_code == 200  # local disk: the site serves it
        assert b"".join(response.streaming_content) == data
        return
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    query = parse_qs(location.query)
    assert query["X-Amz-Expires"] == ["300"]  # short-lived, and signed
    assert "X-Amz-Signature" in query
    fetched = requests.get(response["Location"], timeout=30)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["Content-Type"] == "application/octet-stream"
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="weights.bin"'


def test_a_small_file_is_served_by_the_site_whatever_the_backend(backend, client, model, owner):
    revision = commit_files(model, owner, {"config.json": "{}"})

    response = client.get(f"/alice/bert/blob/{revision.oid}/config.json")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_presigned_url_does_not_open_a_private_repository(backend, client, owner, settings):
    settings.S3_REDIRECT_DOWNLOADS_OVER_MB = 1
    secret = RepoFactory(namespace=owner.namespace, name="secret", private=True)
    revision = commit_files(secret, owner, {"weights.bin": b"\x01" * (2 * MB)})

    response = client.get(f"/alice/secret/blob/{revision.oid}/weights.bin")

    assert response.status_code == 404


def test_reading_a_large_file_back_keeps_memory_flat(backend, db):
    Blob.store(b"warm up")
    blob = Blob.store(SimpleUploadedFile("x", b"\x07" * 96 * MB))
    tracemalloc.start()
    try:
        with blob.open() as fh:
            read = sum(len(chunk) for chunk in File(fh).chunks())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert read == 96 * MB
    # What LFS verify does with a staged object: the whole file (96 MB and more) was once held
    # in memory; now at most 8 MB of it, plus the transfer's few buffers.
    print(f"peak memory reading 96 MB: {peak / MB:.1f} MB")
    assert peak < 40 * MB


def _peak_while_storing(path: Path) -> tuple[Blob, int]:
    tracemalloc.start()
    try:
        with path.open("rb") as fh:
            blob = Blob.store(fh)
        return blob, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_storing_a_large_file_keeps_memory_flat(backend, db, tmp_path):
    Blob.store(b"warm up")  # the S3 client loads its service models once, on first use
    peaks = {}
    for size in (32, 96):
        path = tmp_path / f"{size}.bin"
        with path.open("wb") as fh:
            for i in range(size):
                fh.write(bytes([i]) * MB)
        blob, peaks[size] = _peak_while_storing(path)
        assert blob.size == size * MB
        with blob.open() as stored:
            stored.seek((size - 1) * MB)
            assert stored.read(4) == bytes([size - 1]) * 4

    # Chunks of 64 KB (local disk) or a few 8 MB multipart parts (S3): never the whole file,
    # so three times the file costs no more memory.
    print(f"peak memory storing 32 MB: {peaks[32] / MB:.1f} MB, 96 MB: {peaks[96] / MB:.1f} MB")
    assert peaks[96] < 40 * MB
    assert peaks[96] < peaks[32] + 8 * MB

"""Downloads with the real client when files live in an object store: a large file is answered,
as the Hub answers its LFS files, with a redirect to a short-lived presigned URL of the store
(HEAD and GET), so the client fetches its bytes from the store; a small one the site serves.
Sizes are scaled down through S3_REDIRECT_DOWNLOADS_OVER_MB; the code path is a 1 GB file's."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
import requests
from django.core.cache import cache
from huggingface_hub import hf_hub_download, snapshot_download
from huggingface_hub.errors import RepositoryNotFoundError
from huggingface_hub.utils import _http

from accounts.models import AccessToken
from doi.models import Doi, DoiUsageDay
from hubsite.storage import ObjectStorage
from tests.factories import RepoFactory, mint_doi

MB = 1024 * 1024


@dataclass(frozen=True)
class Exchange:
    method: str
    origin: str
    path: str
    status: int
    authorized: bool


@pytest.fixture(autouse=True)
def _site_url(settings, live_server):
    settings.SITE_URL = live_server.url


@pytest.fixture
def store(settings, object_store):
    folder = object_store.new_folder()
    settings.STORAGES = {**settings.STORAGES, "default": object_store.storage_settings(folder)}
    settings.LFS_THRESHOLD_MB = 1
    settings.S3_REDIRECT_DOWNLOADS_OVER_MB = 1
    return object_store


@pytest.fixture
def exchanges(hf_home) -> list[Exchange]:
    """Every request the client makes, with the answer's status, in order."""
    seen: list[Exchange] = []

    def record(response: httpx2.Response) -> None:
        url = response.request.url
        seen.append(
            Exchange(
                method=response.request.method,
                origin=f"{url.scheme}://{url.host}:{url.port}",
                path=url.path,
                status=response.status_code,
                authorized="authorization" in response.request.headers,
            )
        )

    _http.set_client_factory(
        lambda: httpx2.Client(
            event_hooks={"request": [_http.hf_request_event_hook], "response": [record]},
            follow_redirects=True,
            timeout=None,
        )
    )
    yield seen
    _http.set_client_factory(_http.default_client_factory)


@pytest.fixture
def site_reads(monkeypatch) -> list[str]:
    """The names the site opens in the object store: what a web worker streams."""
    opened: list[str] = []
    real_open = ObjectStorage._open

    def spy(self, name, mode="rb"):
        opened.append(name)
        return real_open(self, name, mode)

    monkeypatch.setattr(ObjectStorage, "_open", spy)
    return opened


@pytest.fixture
def token(token_for, owner):
    return token_for(owner)


@pytest.fixture
def repo(owner):
    return RepoFactory(namespace=owner.namespace, name="big")


def _upload(hub_api, token, repo, files: dict[str, bytes]) -> None:
    api = hub_api(token)
    for path, content in files.items():
        api.upload_file(path_or_fileobj=content, path_in_repo=path, repo_id=repo.full_name)


def test_a_large_file_comes_from_the_store_and_not_through_the_site(
    hub_api, token, repo, store, exchanges, site_reads, live_server, tmp_path
):
    content = os.urandom(3 * MB)
    _upload(hub_api, token, repo, {"model.bin": content})
    exchanges.clear()
    site_reads.clear()  # verify read the staged upload back

    path = hf_hub_download(repo.full_name, "model.bin", local_dir=tmp_path)

    assert Path(path).read_bytes() == content
    assert [(e.method, e.origin, e.status) for e in exchanges] == [
        ("HEAD", live_server.url, 302),
        ("GET", store.endpoint_url, 200),
    ]
    assert site_reads == []


def test_a_small_file_is_served_by_the_site(
    hub_api, token, repo, store, exchanges, site_reads, live_server, tmp_path
):
    _upload(hub_api, token, repo, {"config.json": b'{"layers": 2}'})
    exchanges.clear()
    site_reads.clear()

    path = hf_hub_download(repo.full_name, "config.json", local_dir=tmp_path)

    assert Path(path).read_bytes() == b'{"layers": 2}'
    assert [(e.method, e.origin, e.status) for e in exchanges] == [
        ("HEAD", live_server.url, 200),
        ("GET", live_server.url, 200),
    ]
    assert [name.rsplit("/", 1)[-1] for name in site_reads] == [
        hashlib.sha256(b'{"layers": 2}').hexdigest()
    ]


def test_the_redirect_carries_what_the_client_checks_and_no_body(
    hub_api, token, repo, store, settings, live_server
):
    content = os.urandom(2 * MB)
    _upload(hub_api, token, repo, {"w.bin": content})
    repo.refresh_from_db()
    url = f"{live_server.url}/alice/big/resolve/main/w.bin"

    head = requests.head(url, timeout=30)

    digest = hashlib.sha256(content).hexdigest()
    assert head.status_code == 302
    assert head.headers["X-Linked-Etag"] == head.headers["ETag"] == f'"{digest}"'
    assert head.headers["X-Linked-Size"] == str(len(content))
    assert head.headers["X-Repo-Commit"] == repo.head.oid
    # No promise of the file's bytes on a response that has none.
    assert head.headers.get("Content-Length", "0") == "0"
    assert "no-store" in head.headers["Cache-Control"]
    location = urlsplit(head.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == store.endpoint_url
    query = parse_qs(location.query)
    assert query["X-Amz-Expires"] == [
        str(settings.STORAGES["default"]["OPTIONS"]["querystring_expire"])
    ]
    assert "X-Amz-Signature" in query
    # A plain HTTP client following the redirect gets the bytes from the store.
    fetched = requests.get(url, timeout=30)
    assert fetched.status_code == 200
    assert fetched.history[0].status_code == 302
    assert fetched.content == content


def test_the_client_keeps_a_large_file_by_its_sha256_and_does_not_fetch_it_again(
    hub_api, token, repo, store, exchanges, live_server
):
    content = os.urandom(2 * MB)
    _upload(hub_api, token, repo, {"w.bin": content})
    first = hf_hub_download(repo.full_name, "w.bin")
    exchanges.clear()

    again = hf_hub_download(repo.full_name, "w.bin")

    assert again == first
    # The client names the cached blob by the X-Linked-Etag of the redirect.
    assert Path(first).resolve().name == hashlib.sha256(content).hexdigest()
    assert [(e.method, e.origin, e.status) for e in exchanges] == [("HEAD", live_server.url, 302)]


def test_a_snapshot_takes_small_files_from_the_site_and_large_ones_from_the_store(
    hub_api, token, repo, store, exchanges, live_server, tmp_path
):
    large, small = os.urandom(2 * MB), b"# Big\n"
    _upload(hub_api, token, repo, {"weights/model.bin": large, "README.md": small})
    exchanges.clear()

    folder = Path(snapshot_download(repo.full_name, local_dir=tmp_path))

    assert (folder / "weights/model.bin").read_bytes() == large
    assert (folder / "README.md").read_bytes() == small
    gets = {(e.path.rsplit("/", 1)[-1], e.origin) for e in exchanges if e.method == "GET"}
    assert ("README.md", live_server.url) in gets
    assert any(origin == store.endpoint_url for _, origin in gets)
    assert ("model.bin", live_server.url) not in gets


def test_a_private_large_file_is_presigned_only_after_the_token_check(
    hub_api, token_for, owner, stranger, store, exchanges, live_server, tmp_path
):
    secret = RepoFactory(namespace=owner.namespace, name="secret", private=True)
    content = os.urandom(2 * MB)
    _upload(hub_api, token_for(owner), secret, {"w.bin": content})
    url = f"{live_server.url}/alice/secret/resolve/main/w.bin"

    for headers in ({}, {"Authorization": f"Bearer {token_for(stranger)}"}):
        refused = requests.head(url, headers=headers, timeout=30, allow_redirects=False)
        assert refused.status_code == 404
        assert "Location" not in refused.headers
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(secret.full_name, "w.bin", local_dir=tmp_path / "anonymous", token=False)
    exchanges.clear()

    reader = token_for(owner, scope=AccessToken.Scope.READ)
    path = hf_hub_download(secret.full_name, "w.bin", local_dir=tmp_path, token=reader)

    assert Path(path).read_bytes() == content
    # The token goes to the hub, never to the store: the signed address is the permission.
    assert [(e.method, e.origin, e.authorized) for e in exchanges] == [
        ("HEAD", live_server.url, True),
        ("GET", store.endpoint_url, False),
    ]


def test_downloads_of_a_dois_files_count_once_each_as_machine_access(
    hub_api, token, repo, owner, store, exchanges, live_server, tmp_path
):
    """A small file counts at its GET (not at the HEAD before it), a large one at the redirect,
    which is all the hub sees of it: the client asks the store for the bytes itself."""
    _upload(hub_api, token, repo, {"model.bin": os.urandom(2 * MB), "config.json": b"{}"})
    repo.refresh_from_db()
    doi = mint_doi(repo, owner)
    doi.refresh_from_db()
    assert doi.state == Doi.State.FINDABLE
    cache.clear()
    exchanges.clear()

    for path in ("model.bin", "config.json"):
        hf_hub_download(repo.full_name, path, revision=doi.revision_oid, local_dir=tmp_path)

    assert [(e.method, e.status) for e in exchanges] == [
        ("HEAD", 302),
        ("GET", 200),  # from the store
        ("HEAD", 200),
        ("GET", 200),
    ]
    [row] = DoiUsageDay.objects.filter(doi=doi)
    assert row.access_method == DoiUsageDay.AccessMethod.MACHINE
    assert (row.total_requests, row.unique_requests) == (2, 1)
    assert (row.total_investigations, row.unique_investigations) == (2, 1)

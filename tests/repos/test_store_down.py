"""The object store down (nothing listens at its address, as when it is restarted or its
network is cut): pages and API calls that need it answer 503 with what happened and when to
try again, forms keep what was typed, nothing is counted as downloaded, and an LFS upload
interrupted at its completion is completed once the store is back."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from accounts.models import AccessToken
from hubsite.http import STORE_UNAVAILABLE
from repos import signals
from repos.models import LfsUpload
from tests.factories import RepoFactory, commit_files

README = "---\nlicense: mit\n---\n# Sentiment model\n\nIt reads reviews.\n"


@pytest.fixture
def downloads():
    """The downloads ``repos.signals.downloaded`` announced (what the DOI counts count)."""
    seen = []

    def receiver(sender, path, **kwargs):
        seen.append(path)

    signals.downloaded.connect(receiver)
    yield seen
    signals.downloaded.disconnect(receiver)


@pytest.fixture
def repo(owner, store):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": README, "config.json": '{"layers": 2}'}, "First")
    return repo


def _said_503(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"


def test_a_page_that_needs_the_store_says_it_cannot_be_reached(client, repo, take_down):
    take_down()
    response = client.get(repo.get_absolute_url())  # its card is read from the store

    _said_503(response)
    page = response.content.decode()
    assert "Files cannot be reached just now" in page
    assert escape(STORE_UNAVAILABLE) in page
    assert f'href="{repo.get_absolute_url()}"' in page  # "Try again"

    take_down(False)
    assert "It reads reviews." in client.get(repo.get_absolute_url()).content.decode()


def test_a_file_the_store_cannot_give_is_not_counted_as_downloaded(
    client, repo, take_down, downloads
):
    address = repo.url("blob", repo.head.oid, "config.json")
    assert client.get(address).status_code == 200
    assert downloads == ["config.json"]

    take_down()
    _said_503(client.get(address))
    assert downloads == ["config.json"]


def test_the_readme_editor_keeps_the_text_when_the_store_fails(client, owner, repo, take_down):
    client.force_login(owner)
    take_down()
    text = "# Sentiment model\n\nA whole afternoon of writing.\n"
    response = client.post(
        repo.url("edit-card"), {"content": text, "message": "Describe the model"}
    )

    _said_503(response)
    page = response.content.decode()
    assert escape(STORE_UNAVAILABLE) in page
    assert "A whole afternoon of writing." in page
    assert 'value="Describe the model"' in page
    assert repo.revisions.count() == 1


def test_the_upload_form_keeps_the_message_when_the_store_fails(client, owner, repo, take_down):
    client.force_login(owner)
    take_down()
    upload = {
        "files": SimpleUploadedFile("weights.bin", b"\x00" * 64),
        "message": "Add the weights",
    }
    response = client.post(repo.url("upload"), upload)

    _said_503(response)
    page = response.content.decode()
    assert escape(STORE_UNAVAILABLE) in page
    assert 'value="Add the weights"' in page
    assert repo.revisions.count() == 1


def test_the_api_answers_in_the_hubs_shape_when_the_store_is_down(
    live_server, repo, take_down, settings, downloads
):
    settings.SITE_URL = live_server.url
    take_down()
    response = requests.get(
        f"{live_server.url}/alice/sentiment-model/resolve/main/config.json", timeout=60
    )

    _said_503(response)
    assert response.json() == {"error": STORE_UNAVAILABLE}
    assert response.headers["X-Error-Message"].startswith("The hub's file store")
    assert downloads == []


@pytest.mark.django_db(transaction=True)
def test_an_lfs_upload_whose_completion_met_the_store_down_completes_once_it_is_back(
    live_server, owner, take_down, settings
):
    settings.SITE_URL = live_server.url
    settings.LFS_PART_SIZE_MB = 5
    repo = RepoFactory(namespace=owner.namespace, name="big")
    content = os.urandom(5 * 1024 * 1024 + 100)  # two parts
    oid = hashlib.sha256(content).hexdigest()
    token = AccessToken.issue(user=owner, name="upload", scope=AccessToken.Scope.WRITE)[1]
    batch = requests.post(
        f"{live_server.url}/alice/big.git/info/lfs/objects/batch",
        headers={"Authorization": f"Bearer {token}"},
        json={"operation": "upload", "objects": [{"oid": oid, "size": len(content)}]},
        timeout=60,
    ).json()["objects"][0]["actions"]["upload"]
    part = 5 * 1024 * 1024
    for number in (1, 2):
        chunk = content[(number - 1) * part : number * part]
        assert requests.put(batch["header"][str(number)], data=chunk, timeout=60).ok

    take_down()
    completion = requests.post(batch["href"], json={"oid": oid, "parts": []}, timeout=60)
    _said_503(completion)
    assert completion.json() == {"error": STORE_UNAVAILABLE}
    upload = LfsUpload.objects.get(repo=repo, sha256=oid)
    assert upload.blob is None and upload.multipart_id  # the parts wait in the store

    take_down(False)
    again = requests.post(batch["href"], json={"oid": oid, "parts": []}, timeout=60)
    assert again.status_code == 200, again.text
    upload.refresh_from_db()
    assert upload.blob.read() == content


def test_a_commit_that_leaves_the_readme_alone_does_not_read_it(owner, repo, take_down):
    take_down()
    revision = repo.commit(author=owner, message="Drop the config", remove=["config.json"])

    assert revision.card_metadata == {"license": "mit"}
    assert revision.card_outline == {"lead": "It reads reviews.", "links": []}
    assert repo.head == revision

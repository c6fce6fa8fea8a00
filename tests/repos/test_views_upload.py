from __future__ import annotations

import io

import pytest
from django.conf import global_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client

from tests.factories import RepoFactory


def _files(*names_and_content):
    return [SimpleUploadedFile(name, content) for name, content in names_and_content]


@pytest.mark.smoke
def test_it_commits_several_files_with_a_message(client, repo, owner):
    client.force_login(owner)
    response = client.post(
        "/alice/bert/upload",
        {
            "files": _files(("config.json", b"{}"), ("vocab.txt", b"a\nb\n")),
            "folder": "",
            "message": "Add config and vocab",
        },
    )
    assert response.status_code == 302
    assert response.url == "/alice/bert"
    repo.refresh_from_db()
    assert repo.head.message == "Add config and vocab"
    assert repo.head.author == owner
    paths = sorted(repo.head.files.values_list("path", flat=True))
    assert paths == ["README.md", "config.json", "vocab.txt", "weights.bin"]
    assert f"Committed 2 files as revision {repo.head.short_oid}" in client.get(response.url).text


def test_it_puts_files_in_a_folder(client, repo, owner):
    client.force_login(owner)
    client.post(
        "/alice/bert/upload",
        {"files": _files(("a.csv", b"1")), "folder": "/data/train/", "message": "Data"},
    )
    repo.refresh_from_db()
    assert repo.head.files.filter(path="data/train/a.csv").exists()


@pytest.mark.parametrize("folder", ["../up", "a//b", "a/./b"])
def test_it_refuses_bad_folders(client, repo, owner, folder):
    client.force_login(owner)
    head = repo.head_id
    response = client.post(
        "/alice/bert/upload", {"files": _files(("a.csv", b"1")), "folder": folder, "message": "x"}
    )
    assert response.status_code == 200
    assert "not a valid file path" in " ".join(response.context["form"].errors["folder"])
    repo.refresh_from_db()
    assert repo.head_id == head


def test_it_requires_files(client, repo, owner):
    client.force_login(owner)
    response = client.post("/alice/bert/upload", {"message": "Nothing"})
    assert response.context["form"].errors["files"] == ["Choose at least one file to upload."]


def test_it_refuses_uploads_over_the_limit_and_commits_nothing(client, repo, owner, settings):
    settings.REPO_UPLOAD_MAX_MB = 1
    client.force_login(owner)
    head = repo.head_id
    response = client.post(
        "/alice/bert/upload",
        {
            "files": _files(("a.bin", b"x" * 700_000), ("b.bin", b"x" * 700_000)),
            "message": "Too big",
        },
    )
    assert response.status_code == 413
    assert "over the limit of 1 MB per commit. Nothing was committed." in response.text
    repo.refresh_from_db()
    assert repo.head_id == head


class UnreadBody(io.BytesIO):
    """A request body the server must not read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_an_upload_announced_over_the_limit_is_refused_before_its_body_is_read(
    client, repo, owner, settings
):
    settings.REPO_UPLOAD_MAX_MB = 1
    client.force_login(owner)
    head = repo.head_id
    response = client.post(
        "/alice/bert/upload",
        {"files": _files(("a.bin", b"x")), "message": "Huge"},
        CONTENT_LENGTH=str(3 * 1024 * 1024),
        **{"wsgi.input": UnreadBody()},
    )
    assert response.status_code == 413
    assert (
        "The upload is about 3.0\xa0MB, over the limit of 1 MB per commit. Nothing was committed."
        in response.text
    )
    repo.refresh_from_db()
    assert repo.head_id == head


class CountingHandler(FileUploadHandler):
    """Counts the file bytes that reach the handlers which write them (memory or disk)."""

    received: list[int] = []

    def receive_data_chunk(self, raw_data, start):
        CountingHandler.received.append(len(raw_data))
        return raw_data

    def file_complete(self, file_size):
        return None


def test_an_upload_over_the_limit_is_not_written_past_it(client, repo, owner, settings):
    # The announced length is within the allowance for the form around the files (or, for a
    # chunked body, absent): the upload stops where the files pass the limit.
    settings.REPO_UPLOAD_MAX_MB = 1
    settings.FILE_UPLOAD_HANDLERS = [
        f"{__name__}.CountingHandler",
        *global_settings.FILE_UPLOAD_HANDLERS,
    ]
    CountingHandler.received = []
    client.force_login(owner)
    head = repo.head_id
    response = client.post(
        "/alice/bert/upload",
        {
            "files": _files(("a.bin", b"x" * 600_000), ("b.bin", b"y" * 550_000)),
            "message": "Too big",
        },
    )
    assert response.status_code == 413
    assert (
        "The files are over the limit of 1 MB per commit. Nothing was committed." in response.text
    )
    assert 0 < sum(CountingHandler.received) <= 1024 * 1024
    repo.refresh_from_db()
    assert repo.head_id == head


def test_a_body_django_will_not_read_is_a_clear_message(client, repo, owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(owner)
    head = repo.head_id
    response = client.post(
        "/alice/bert/upload", {"files": _files(("a.txt", b"a")), "message": "m" * 2000}
    )
    assert response.status_code == 413
    assert "too large for the server to read" in response.text
    assert "Nothing was committed" in response.text
    repo.refresh_from_db()
    assert repo.head_id == head


def test_it_still_checks_csrf(repo, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/alice/bert/upload", {"files": _files(("a.txt", b"a")), "message": "x"})
    assert response.status_code == 403
    repo.refresh_from_db()
    assert not repo.head.files.filter(path="a.txt").exists()


def test_the_form_shows_its_fields_and_the_limit(client, repo, owner, settings):
    settings.REPO_UPLOAD_MAX_MB = 7
    client.force_login(owner)
    response = client.get("/alice/bert/upload")
    assert response.status_code == 200
    assert 'type="file" name="files" multiple' in response.text
    for label in ("Files", "Folder", "Commit message"):
        assert f">{label}:</label>" in response.text
    assert "Up to 7 MB per commit" in response.text


def test_it_creates_the_first_revision_of_an_empty_repository(client, owner):
    repo = RepoFactory(namespace=owner.namespace, name="empty")
    client.force_login(owner)
    client.post("/alice/empty/upload", {"files": _files(("a.txt", b"a")), "message": "First"})
    repo.refresh_from_db()
    assert repo.head.parent is None


def test_organization_writers_can_upload(client, org_repo, writer):
    client.force_login(writer)
    response = client.post(
        "/wonderland/rabbit/upload", {"files": _files(("a.txt", b"a")), "message": "By bob"}
    )
    assert response.status_code == 302
    org_repo.refresh_from_db()
    assert org_repo.head.author == writer


def test_organization_readers_cannot_upload(client, org_repo, reader):
    client.force_login(reader)
    assert client.get("/wonderland/rabbit/upload").status_code == 403
    response = client.post(
        "/wonderland/rabbit/upload", {"files": _files(("a.txt", b"a")), "message": "x"}
    )
    assert response.status_code == 403


def test_strangers_get_403_on_public_and_404_on_private(client, repo, private_repo, stranger):
    client.force_login(stranger)
    assert client.get("/alice/bert/upload").status_code == 403
    assert client.post("/alice/secret/upload", {"message": "x"}).status_code == 404


def test_it_requires_login(client, repo):
    response = client.get("/alice/bert/upload")
    assert response.status_code == 302
    assert response.url.startswith("/login")


def test_it_rejects_put(client, repo, owner):
    client.force_login(owner)
    assert client.put("/alice/bert/upload").status_code == 405


# The card --------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_edit_card_prefills_and_commits_a_new_revision(client, repo, owner):
    client.force_login(owner)
    page = client.get("/alice/bert/edit-card")
    assert page.status_code == 200
    assert "# Bert" in page.context["form"]["content"].value()
    assert "Model card (README.md)" in page.text
    text = "---\nlicense: apache-2.0\ntags: [vision]\n---\n# Better Bert\n"
    response = client.post("/alice/bert/edit-card", {"content": text, "message": "Rewrite card"})
    assert response.status_code == 302
    repo.refresh_from_db()
    assert repo.head.message == "Rewrite card"
    assert repo.head.card_metadata == {"license": "apache-2.0", "tags": ["vision"]}
    shown = client.get("/alice/bert").text
    assert "<h1>Better Bert</h1>" in shown and "apache-2.0" in shown


def test_edit_card_keeps_line_endings_and_spaces(client, repo, owner):
    client.force_login(owner)
    client.post("/alice/bert/edit-card", {"content": "  indented\n", "message": "x"})
    repo.refresh_from_db()
    readme = repo.head.files.get(path="README.md")
    assert readme.blob.read() == b"  indented\n"


def test_edit_card_of_an_empty_repository_starts_blank(client, owner):
    RepoFactory(namespace=owner.namespace, name="empty")
    client.force_login(owner)
    response = client.get("/alice/empty/edit-card")
    assert response.context["form"]["content"].value() == ""


def test_edit_card_for_datasets_says_dataset(client, dataset, owner):
    client.force_login(owner)
    assert "Dataset card (README.md)" in client.get("/datasets/alice/squad/edit-card").text


def test_edit_card_too_large_is_a_clear_message(client, repo, owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(owner)
    head = repo.head_id
    response = client.post("/alice/bert/edit-card", {"content": "x" * 5000, "message": "Big"})
    assert response.status_code == 413
    assert "too large for the server to read" in response.text
    repo.refresh_from_db()
    assert repo.head_id == head


def test_edit_card_access(client, repo, org_repo, owner, writer, reader, stranger):
    client.force_login(reader)
    assert client.get("/wonderland/rabbit/edit-card").status_code == 403
    client.force_login(writer)
    assert client.get("/wonderland/rabbit/edit-card").status_code == 200
    client.force_login(stranger)
    assert client.post("/alice/bert/edit-card", {"content": "x", "message": "x"}).status_code == 403
    assert client.get("/wonderland/rabbit/edit-card").status_code == 404
    client.logout()
    assert client.get("/alice/bert/edit-card").status_code == 302
    client.force_login(owner)
    assert client.delete("/alice/bert/edit-card").status_code == 405


def test_an_empty_post_shows_what_is_missing(client, repo, owner):
    client.force_login(owner)
    response = client.post("/alice/bert/upload", {})
    assert response.status_code == 200
    assert "Choose at least one file to upload." in response.text


def test_too_many_files_is_a_clear_message(client, repo, owner, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    client.force_login(owner)
    head = repo.head_id
    files = _files(("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c"))
    response = client.post("/alice/bert/upload", {"files": files, "message": "Three"})
    assert response.status_code == 413
    assert "more than 2 files" in response.text
    repo.refresh_from_db()
    assert repo.head_id == head

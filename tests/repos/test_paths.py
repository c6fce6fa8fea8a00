"""File paths: printable and unambiguous, refused with the character named, repaired if stored."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from repos.models import RevisionFile
from repos.paths import repaired, validate_path
from tests.factories import RepoFactory, commit_files

REFUSED = [
    ("a\nb/x.txt", "U+000A LINE FEED (a control character)"),
    ("a\rb", "U+000D CARRIAGE RETURN (a control character)"),
    ("tab\there", "U+0009 TAB (a control character)"),
    ("nul\x00", "U+0000 NUL (a control character)"),
    ("del\x7f", "U+007F (a control character)"),
    ("exe\u202etxt.exe", "U+202E RIGHT-TO-LEFT OVERRIDE (an invisible formatting character)"),
    ("zero\u200bwidth", "U+200B ZERO WIDTH SPACE (an invisible formatting character)"),
    ("line\u2028sep", "U+2028 LINE SEPARATOR (a line separator)"),
    ("para\u2029sep", "U+2029 PARAGRAPH SEPARATOR (a paragraph separator)"),
    ("no\u00a0break", "U+00A0 NO-BREAK SPACE (a space other than the ordinary one)"),
    ("private\ue000", "U+E000 (a private-use character)"),
    ("unassigned\u0378", "U+0378 (an unassigned character)"),
    (" lead/x", "starts or ends with a space"),
    ("data /x", "starts or ends with a space"),
    ("cafe\u0301.txt", "not in Unicode normal form C"),
    ("a//b", "without empty"),
    ("../up", "without empty"),
    ("a\\b", "“\\”"),
    ("x" * 256, "at most 255 characters"),
]
ACCEPTED = [
    "data/train.csv",
    "données/café.txt",
    "a b/c d.txt",
    "日本語/ファイル",
    "🤗.bin",
    "שלום.txt",
]


@pytest.mark.parametrize(("path", "reason"), REFUSED)
def test_it_refuses_unprintable_and_ambiguous_paths_naming_the_problem(path, reason):
    with pytest.raises(ValidationError) as caught:
        validate_path(path)
    assert reason in caught.value.messages[0]
    assert "\n" not in caught.value.messages[0]


@pytest.mark.parametrize("path", ACCEPTED)
def test_it_accepts_printable_paths_in_any_script(path):
    validate_path(path)


@pytest.mark.parametrize("path", [p for p, _ in REFUSED])
def test_a_repaired_path_is_valid(path):
    validate_path(repaired(path))


def test_commit_refuses_a_folder_with_a_line_break(owner):
    repo = RepoFactory(namespace=owner.namespace, name="lines")
    with pytest.raises(ValidationError):
        commit_files(repo, owner, {"a\nb/x.txt": "x"})
    assert repo.revisions.count() == 0


def test_the_upload_form_names_the_character_and_commits_nothing(client, repo, owner):
    client.force_login(owner)
    head = repo.head_id
    response = client.post(
        "/alice/bert/upload",
        {"files": [SimpleUploadedFile("x.txt", b"1")], "folder": "a\nb", "message": "x"},
    )
    assert response.status_code == 200
    assert "“a\\u000ab” is not a valid file path: it contains U+000A LINE FEED" in response.text
    repo.refresh_from_db()
    assert repo.head_id == head


def test_the_upload_form_refuses_a_file_name_ending_in_a_space(client, repo, owner):
    # Django itself drops unprintable characters from uploaded file names; spaces it keeps.
    client.force_login(owner)
    upload = SimpleUploadedFile("weights.bin ", b"MZ")
    response = client.post("/alice/bert/upload", {"files": [upload], "message": "x"})
    assert response.status_code == 200
    assert "starts or ends with a space" in " ".join(response.context["form"].errors["files"])


def test_the_upload_form_stores_names_in_normal_form_c(client, repo, owner):
    client.force_login(owner)
    upload = SimpleUploadedFile("cafe\u0301.txt", b"1")
    response = client.post(
        "/alice/bert/upload", {"files": [upload], "folder": "de\u0301ja", "message": "x"}
    )
    assert response.status_code == 302
    repo.refresh_from_db()
    assert repo.head.files.filter(path="d\u00e9ja/caf\u00e9.txt").exists()


def test_a_stored_path_with_a_line_break_still_renders_and_downloads(client, repo):
    entry = repo.head.files.get(path="weights.bin")
    RevisionFile.objects.filter(pk=entry.pk).update(path="a\nb/weights.bin")
    response = client.get("/alice/bert")
    assert response.status_code == 200
    assert "a%0Ab/weights.bin" in response.text
    download = client.get(f"/alice/bert/blob/{repo.head.oid}/a%0Ab/weights.bin")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x00\x01\x02"


def test_the_migration_renames_stored_bad_paths(repo):
    migration = importlib.import_module("repos.migrations.0005_rename_unprintable_paths")
    revision = repo.head
    RevisionFile.objects.filter(revision=revision, path="weights.bin").update(path="w\neights")
    commit_files(repo, repo.namespace.user, {"w_eights": "taken"})
    newest = repo.head
    RevisionFile.objects.filter(revision=newest, path="weights.bin").update(path="w\neights")
    migration.rename_unprintable_paths(apps, None)
    assert set(revision.files.values_list("path", flat=True)) == {"README.md", "w_eights"}
    assert set(newest.files.values_list("path", flat=True)) == {
        "README.md",
        "w_eights",
        "w_eights-2",
    }

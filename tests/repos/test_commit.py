"""``Repo.commit``: the one way files change, for the upload form, the card editor and the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from repos.models import CommitTooLarge, NothingToRemove, ParentMoved
from tests.factories import commit_files


def _paths(revision) -> list[str]:
    return sorted(f.path for f in revision.files.all())


def test_it_removes_files_and_everything_under_a_folder(repo, owner):
    commit_files(repo, owner, {"data/a.csv": "a", "data/sub/b.csv": "b", "datax.csv": "c"})
    revision = repo.commit(
        author=owner, message="Tidy", remove=["weights.bin"], remove_folders=["data/"]
    )
    assert _paths(revision) == ["README.md", "datax.csv"]


@pytest.mark.parametrize(
    ("remove", "folders", "says"),
    [(["nope.txt"], [], "a file with this name"), ([], ["nope"], "a folder with this name")],
)
def test_it_refuses_to_remove_what_is_not_there_and_commits_nothing(
    repo, owner, remove, folders, says
):
    head = repo.head_id
    with pytest.raises(NothingToRemove, match=f"{says} doesn't exist in the latest revision"):
        repo.commit(
            author=owner, message="x", add={"new.txt": b"n"}, remove=remove, remove_folders=folders
        )
    repo.refresh_from_db()
    assert repo.head_id == head


def test_it_commits_on_top_of_the_parent_named_in_full_or_abbreviated(repo, owner):
    first = repo.commit(author=owner, message="a", add={"a": b"a"}, parent=repo.head.oid)
    second = repo.commit(author=owner, message="b", add={"b": b"b"}, parent=first.oid[:7].upper())
    assert second.parent == first


def test_it_refuses_a_commit_on_top_of_a_revision_that_is_no_longer_the_head(repo, owner):
    old = repo.head.parent.oid
    head = repo.head
    with pytest.raises(ParentMoved, match=f"it is {head.oid} now"):
        repo.commit(author=owner, message="late", add={"a": b"a"}, parent=old)
    repo.refresh_from_db()
    assert repo.head == head


def test_it_keeps_the_description_below_the_summary(repo, owner):
    revision = repo.commit(author=owner, message="Summary ", description=" Why.\n", add={"a": b""})
    assert revision.message == "Summary\n\nWhy."


def test_it_refuses_those_who_may_not_write(org_repo, reader, stranger):
    head = org_repo.head_id
    for user in (reader, stranger):
        with pytest.raises(PermissionDenied, match="only its owner, or the organization's"):
            org_repo.commit(author=user, message="x", add={"a": b"a"})
    org_repo.refresh_from_db()
    assert org_repo.head_id == head


def test_it_refuses_files_over_the_limit_together(repo, owner, settings):
    settings.REPO_UPLOAD_MAX_MB = 1
    with pytest.raises(CommitTooLarge, match="over the limit of 1 MB per commit"):
        repo.commit(author=owner, message="x", add={"a": b"x" * 600_000, "b": b"y" * 600_000})


def test_it_stores_paths_in_nfc_and_removes_by_either_spelling(repo, owner):
    decomposed = "cafe\u0301.txt"
    revision = repo.commit(author=owner, message="x", add={decomposed: b"a"})
    assert "caf\u00e9.txt" in _paths(revision)
    revision = repo.commit(author=owner, message="y", remove=[decomposed])
    assert "caf\u00e9.txt" not in _paths(revision)


def test_it_refuses_unprintable_paths_before_storing_anything(repo, owner):
    with pytest.raises(ValidationError, match="U\\+202E"):
        repo.commit(author=owner, message="x", add={"a\u202etxt.exe": b"a"})

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.validators import validate_name
from repos.models import Repo, RepoRedirect, RepoType
from tests.factories import RepoFactory, commit_files


@pytest.mark.parametrize(
    "name",
    ["bert", "bert-base_uncased.v2", "A1", "x" * 96, "a.b-c_d"],
)
def test_it_accepts_valid_names(name):
    validate_name(name)


@pytest.mark.parametrize(
    "name",
    ["", "x" * 97, "has space", "a--b", "a..b", "-a", "a-", ".a", "a.", "ünï", "a/b"],
)
def test_it_rejects_invalid_names(name):
    with pytest.raises(ValidationError):
        validate_name(name)


@pytest.mark.smoke
def test_names_are_unique_per_owner_and_type_case_insensitively(owner):
    RepoFactory(namespace=owner.namespace, name="Bert", type=RepoType.MODEL)
    RepoFactory(namespace=owner.namespace, name="bert", type=RepoType.DATASET)
    with pytest.raises(IntegrityError):
        RepoFactory(namespace=owner.namespace, name="BERT", type=RepoType.MODEL)


@pytest.mark.smoke
def test_commit_creates_revisions_with_40_hex_ids_and_keeps_files(owner):
    repo = RepoFactory(namespace=owner.namespace)
    first = commit_files(repo, owner, {"README.md": "# Hello", "config.json": "{}"}, "Add files")
    second = commit_files(repo, owner, {"weights.bin": b"\x00\x01"}, "Add weights")

    assert len(first.oid) == 40 and int(first.oid, 16) >= 0
    assert first.oid != second.oid
    assert second.parent == first
    repo.refresh_from_db()
    assert repo.head == second
    assert sorted(f.path for f in second.files.all()) == ["README.md", "config.json", "weights.bin"]
    assert sorted(f.path for f in first.files.all()) == ["README.md", "config.json"]
    assert repo.resolve_revision(first.oid[:7]) == first


def test_commit_parses_card_front_matter(owner):
    repo = RepoFactory(namespace=owner.namespace)
    rev = commit_files(
        repo, owner, {"README.md": "---\nlicense: mit\ntags: [nlp, bert]\n---\n# Hi"}
    )
    assert rev.card_metadata == {"license": "mit", "tags": ["nlp", "bert"]}
    assert rev.card_error == ""
    repo.refresh_from_db()
    assert repo.license == "mit"
    assert repo.tags == ["nlp", "bert"]


def test_malformed_front_matter_is_a_notice_not_an_error(owner):
    repo = RepoFactory(namespace=owner.namespace)
    rev = commit_files(repo, owner, {"README.md": "---\nlicense: [mit\n---\n# Hi"})
    assert rev.card_metadata == {}
    assert "not valid YAML" in rev.card_error


def test_private_repos_are_invisible_to_strangers_and_anonymous(
    owner, stranger, org, writer, reader
):
    from django.contrib.auth.models import AnonymousUser

    mine = RepoFactory(namespace=owner.namespace, private=True)
    theirs = RepoFactory(namespace=org.namespace, private=True)
    public = RepoFactory(namespace=owner.namespace)

    assert set(Repo.objects.visible_to(AnonymousUser())) == {public}
    assert set(Repo.objects.visible_to(stranger)) == {public}
    assert set(Repo.objects.visible_to(owner)) == {mine, theirs, public}
    assert set(Repo.objects.visible_to(reader)) == {theirs, public}
    assert set(Repo.objects.writable_by(writer)) == {theirs}
    assert set(Repo.objects.writable_by(reader)) == set()
    assert set(Repo.objects.administered_by(writer)) == set()
    assert set(Repo.objects.administered_by(owner)) == {mine, theirs, public}


def test_move_records_a_redirect_and_refuses_taken_names(owner, org):
    repo = RepoFactory(namespace=owner.namespace, name="old")
    RepoFactory(namespace=org.namespace, name="taken")

    with pytest.raises(ValidationError):
        repo.move(namespace=org.namespace, name="TAKEN")
    repo.refresh_from_db()
    assert (repo.namespace, repo.name) == (owner.namespace, "old")

    repo.move(namespace=org.namespace, name="new")
    repo.refresh_from_db()
    assert repo.full_name == "wonderland/new"
    redirect = RepoRedirect.objects.get()
    assert (redirect.owner, redirect.name, redirect.repo) == ("alice", "old", repo)

"""upload_file, upload_folder and create_commit through the real client: the preupload and
commit calls, landing in the same ``Repo.commit`` as the site's upload form."""

from __future__ import annotations

import json
import warnings

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationCopy, CommitOperationDelete
from huggingface_hub.errors import HfHubHTTPError, RemoteEntryNotFoundError, RepositoryNotFoundError

from repos.models import RepoType
from tests.factories import RepoFactory, commit_files, mint_doi


@pytest.fixture(autouse=True)
def _site_url(settings, live_server):
    settings.SITE_URL = live_server.url


@pytest.fixture
def api(hub_api, token_for, owner):
    return hub_api(token_for(owner))


@pytest.fixture
def bert(owner):
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(repo, owner, {"README.md": "# Bert\n", "weights.bin": b"\x00\x01"}, "Start")
    return repo


def _files(repo) -> dict[str, bytes]:
    repo.refresh_from_db()
    return {f.path: f.blob.read() for f in repo.head.files.select_related("blob")}


def _refusal(call) -> HfHubHTTPError:
    with pytest.raises(HfHubHTTPError) as refused:
        call()
    return refused.value


def test_upload_file_commits_one_file_and_says_where(api, bert, owner, live_server):
    info = api.upload_file(
        path_or_fileobj=b'{"hidden_size": 768}',
        path_in_repo="config.json",
        repo_id="alice/bert",
        commit_message="Add the config",
        commit_description="For transformers.",
    )
    bert.refresh_from_db()
    head = bert.head
    assert info.oid == head.oid
    assert info.commit_url == f"{live_server.url}/alice/bert/commit/{head.oid}"
    assert info.repo_url.repo_id == "alice/bert"
    assert head.message == "Add the config\n\nFor transformers."
    assert head.author == owner
    assert _files(bert)["config.json"] == b'{"hidden_size": 768}'


def test_upload_file_to_a_dataset_from_a_path(api, owner, tmp_path):
    dataset = RepoFactory(namespace=owner.namespace, name="squad", type=RepoType.DATASET)
    local = tmp_path / "train.csv"
    local.write_bytes(b"q,a\n1,2\n")
    api.upload_file(
        path_or_fileobj=local,
        path_in_repo="data/train.csv",
        repo_id="alice/squad",
        repo_type="dataset",
    )
    assert _files(dataset) == {"data/train.csv": b"q,a\n1,2\n"}


@pytest.mark.parametrize("xet", [False, True], ids=["plain", "with-hf_xet"])
def test_upload_folder_commits_the_folder_under_a_path(api, bert, tmp_path, monkeypatch, xet):
    # With hf_xet installed (as it is by default), the client takes its pipelined path.
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", not xet)
    folder = tmp_path / "checkpoint"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"a")
    (folder / "sub" / "b.txt").write_bytes(b"b")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_bytes(b"ref")
    info = api.upload_folder(folder_path=folder, path_in_repo="extra", repo_id="alice/bert")
    files = _files(bert)
    assert info.oid == bert.head.oid
    assert bert.head.message == "Upload folder using huggingface_hub"
    assert {p: c for p, c in files.items() if p.startswith("extra/")} == {
        "extra/a.txt": b"a",
        "extra/sub/b.txt": b"b",
    }


def test_create_commit_adds_and_deletes_in_one_revision(api, bert):
    commit_files(bert, bert.namespace.user, {"logs/1.txt": "1", "logs/2.txt": "2"})
    before = bert.head.oid
    api.create_commit(
        "alice/bert",
        operations=[
            CommitOperationAdd("notes.md", b"# Notes\n"),
            CommitOperationDelete("weights.bin"),
            CommitOperationDelete("logs/"),
        ],
        commit_message="Reorganise",
        parent_commit=before,
    )
    assert _files(bert) == {"README.md": b"# Bert\n", "notes.md": b"# Notes\n"}
    assert bert.head.parent.oid == before


def test_create_commit_copies_files_of_this_repository_from_any_revision(api, bert, owner):
    first = bert.head.oid
    commit_files(bert, owner, {"README.md": "# Bert v2\n"})
    api.create_commit(
        "alice/bert",
        operations=[
            CommitOperationCopy("README.md", "docs/README.md"),
            CommitOperationCopy("README.md", "docs/README-v1.md", src_revision=first),
            CommitOperationCopy("weights.bin", "backup/weights.bin"),
            CommitOperationDelete("weights.bin"),
        ],
        commit_message="Copy",
    )
    assert _files(bert) == {
        "README.md": b"# Bert v2\n",
        "docs/README.md": b"# Bert v2\n",
        "docs/README-v1.md": b"# Bert\n",
        "backup/weights.bin": b"\x00\x01",
    }


def test_paths_info_describes_what_is_asked_as_the_tree_does(api, bert, owner):
    commit_files(bert, owner, {"data/a.csv": "a"})
    found = api.get_paths_info("alice/bert", ["weights.bin", "data", "nope.txt"])
    assert [(type(f).__name__, f.path) for f in found] == [
        ("RepoFile", "weights.bin"),
        ("RepoFolder", "data"),
    ]
    assert found[0].lfs.sha256 == bert.head.files.get(path="weights.bin").blob.sha256


def test_content_of_another_repository_cannot_be_named_into_this_one(
    live_server, token_for, owner, stranger, bert, hf_home
):
    # Knowing the SHA-256 of a file elsewhere (here a stranger's private one) brings nothing.
    from huggingface_hub.utils import get_session, hf_raise_for_status

    secret = RepoFactory(namespace=stranger.namespace, name="secret", private=True)
    commit_files(secret, stranger, {"key.pem": "private"})
    sha256 = secret.head.files.get().blob.sha256
    lines = [
        {"key": "header", "value": {"summary": "Take it"}},
        {"key": "lfsFile", "value": {"path": "stolen.pem", "algo": "sha256", "oid": sha256}},
    ]
    response = get_session().post(
        f"{live_server.url}/api/models/alice/bert/commit/main",
        headers={"Authorization": f"Bearer {token_for(owner)}"},
        content=b"".join(json.dumps(line).encode() + b"\n" for line in lines),
    )
    with pytest.raises(RemoteEntryNotFoundError) as refused:
        hf_raise_for_status(response)
    assert "which no revision of this repository has" in str(refused.value)
    assert "stolen.pem" not in _files(bert)


def test_a_commit_on_a_stale_parent_is_refused(api, bert, owner):
    stale = bert.head.oid
    commit_files(bert, owner, {"other.txt": "someone else"})
    refused = _refusal(
        lambda: api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/bert", parent_commit=stale
        )
    )
    assert refused.response.status_code == 412
    assert f"The commit was made on top of {stale}, but that is no longer the latest" in str(
        refused
    )
    assert "x.txt" not in _files(bert)


def test_deleting_what_is_not_there_is_refused(api, bert):
    head = bert.head_id
    with pytest.raises(RemoteEntryNotFoundError) as refused:
        api.delete_file("nope.txt", "alice/bert")
    assert "“nope.txt” cannot be deleted: a file with this name doesn't exist" in str(refused.value)
    bert.refresh_from_db()
    assert bert.head_id == head


def test_paths_the_site_refuses_are_refused_before_any_file_is_sent(api, bert):
    refused = _refusal(
        lambda: api.upload_file(
            path_or_fileobj=b"x", path_in_repo="invoice\u202etxt.exe", repo_id="alice/bert"
        )
    )
    assert refused.response.status_code == 422
    assert "U+202E RIGHT-TO-LEFT OVERRIDE (an invisible formatting character)" in str(refused)
    assert refused.response.request.url.path.endswith("/preupload/main")


def test_a_commit_over_the_size_limit_is_refused_before_it_is_sent(api, bert, settings):
    settings.REPO_UPLOAD_MAX_MB = 1
    head = bert.head_id
    refused = _refusal(
        lambda: api.create_commit(
            "alice/bert",
            operations=[
                CommitOperationAdd("a.bin", b"a" * 600_000),
                CommitOperationAdd("b.bin", b"b" * 600_000),
            ],
            commit_message="Too much",
        )
    )
    assert refused.response.status_code == 413
    assert "over the limit of 1 MB per commit. Nothing was committed." in str(refused)
    bert.refresh_from_db()
    assert bert.head_id == head


def test_a_readme_whose_metadata_the_hub_ignores_is_kept_with_a_warning(api, bert):
    card = "---\nbase: &b {license: mit}\nother: *b\n---\n# Bert\n"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        api.upload_file(
            path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id="alice/bert"
        )
    assert any("uses the YAML alias “*b”" in str(w.message) for w in seen)
    assert _files(bert)["README.md"] == card.encode()
    assert "aliases are not accepted" in bert.head.card_error
    assert bert.head.card_metadata == {}


def test_a_new_card_sets_the_repositorys_metadata(api, bert):
    card = "---\nlicense: apache-2.0\ntags: [nlp]\n---\n# Bert\n"
    api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id="alice/bert")
    bert.refresh_from_db()
    assert (bert.license, bert.tags) == ("apache-2.0", ["nlp"])


def test_new_commits_stay_allowed_on_a_repository_locked_by_doi(api, bert, owner):
    mint_doi(bert, owner)
    assert bert.is_locked
    info = api.upload_file(path_or_fileobj=b"v2", path_in_repo="weights.bin", repo_id="alice/bert")
    assert _files(bert)["weights.bin"] == b"v2"
    assert info.oid == bert.head.oid


def test_only_writers_commit_and_a_read_token_is_told_why(hub_api, token_for, owner, org, reader):
    croquet = RepoFactory(namespace=org.namespace, name="croquet")
    upload = dict(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="wonderland/croquet")
    refused = _refusal(lambda: hub_api(token_for(reader)).upload_file(**upload))
    assert refused.response.status_code == 403
    assert "You may read wonderland/croquet but not change it" in str(refused)
    refused = _refusal(lambda: hub_api(token_for(owner, "read")).upload_file(**upload))
    assert refused.response.status_code == 403
    assert "has read scope only; this needs a write token" in str(refused)
    assert croquet.head is None


def test_a_private_repository_is_not_found_for_a_stranger(hub_api, token_for, owner, stranger):
    secret = RepoFactory(namespace=owner.namespace, name="secret", private=True)
    with pytest.raises(RepositoryNotFoundError):
        hub_api(token_for(stranger)).upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/secret"
        )
    secret.refresh_from_db()
    assert secret.head is None


def test_other_branches_and_pull_requests_are_refused(api, bert):
    refused = _refusal(
        lambda: api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/bert", revision="dev"
        )
    )
    assert "Commits go to the branch main, the only branch of a repository here" in str(refused)
    refused = _refusal(
        lambda: api.upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/bert", create_pr=True
        )
    )
    assert "Pull requests are not offered by this hub" in str(refused)


def test_a_copy_from_another_repository_fails_in_the_client(api, bert, owner):
    # The client duplicates another repository's LFS files by their Xet hash, which the hub
    # does not have: it stops before sending the commit.
    other = RepoFactory(namespace=owner.namespace, name="other")
    commit_files(other, owner, {"w.bin": b"w"})
    head = bert.head_id
    with pytest.raises(ValueError, match="file has no xet hash"):
        api.create_commit(
            "alice/bert",
            operations=[
                CommitOperationCopy(
                    "w.bin", "w.bin", src_repo_id="alice/other", src_repo_type="model"
                )
            ],
            commit_message="Copy across",
        )
    bert.refresh_from_db()
    assert bert.head_id == head

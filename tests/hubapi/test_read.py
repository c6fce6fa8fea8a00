"""Reading repositories through the real client: info, lists, files, commits, downloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from accounts.models import AccessToken
from repos.models import Repo, RepoType
from tests.factories import RepoFactory, UserFactory, commit_files, mint_doi

CARD = "---\nlicense: mit\ntags: [sentiment]\n---\n# Bert\n"


@pytest.fixture
def bert(owner, settings):
    """alice/bert: a DOI on its first revision, then a second revision with more files."""
    settings.DOI_REGISTRAR = "local"
    settings.DOI_CONCEPT_DOIS = True
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    first = commit_files(repo, owner, {"README.md": CARD, "config.json": '{"layers": 2}'}, "Start")
    doi = mint_doi(repo, owner)
    commit_files(repo, owner, {"weights/model.bin": b"\x00\x01\x02"}, "Train\n\nTwo epochs.")
    repo.refresh_from_db()
    return {"repo": repo, "first": first, "doi": doi}


@pytest.fixture
def secret(owner):
    repo = RepoFactory(namespace=owner.namespace, name="secret", private=True)
    commit_files(repo, owner, {"README.md": "# Secret\n"})
    return repo


# repo_info -----------------------------------------------------------------------------------


def test_model_info_gives_the_doi_as_the_hub_does(hub_api, token_for, owner, bert):
    doi = bert["doi"]
    info = hub_api(token_for(owner, "read")).model_info("alice/bert", revision=doi.revision_oid)
    assert info.id == "alice/bert"
    assert info.sha == bert["first"].oid
    assert f"doi:{doi.doi}" in info.tags
    assert "license:mit" in info.tags and "sentiment" in info.tags
    assert info.doi == {"id": doi.doi, "commit": bert["first"].oid}
    assert info.conceptDoi == doi.concept.doi
    assert info.doiState == "findable"
    assert info.license == "mit"
    assert info.card_data.license == "mit"
    assert sorted(s.rfilename for s in info.siblings) == ["README.md", "config.json"]


def test_model_info_at_main_is_the_current_revision(hub_api, bert):
    info = hub_api(None).model_info("alice/bert")
    assert info.sha == bert["repo"].head.oid
    assert "weights/model.bin" in [s.rfilename for s in info.siblings]
    assert info.lockedBy == ["DOI"]
    # The latest version DOI names an earlier revision: the Hub shows it on the repository.
    assert info.doi == {"id": bert["doi"].doi, "commit": bert["first"].oid}


def test_dataset_info_and_repo_info(hub_api, owner, org):
    cards = RepoFactory(namespace=org.namespace, name="cards", type=RepoType.DATASET)
    commit_files(cards, owner, {"train.csv": "a,b\n"})
    api = hub_api(None)
    assert api.dataset_info("wonderland/cards").sha == cards.head.oid
    assert api.repo_info("wonderland/cards", repo_type="dataset").doi is None
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("wonderland/cards")


def test_a_private_repository_is_not_found_without_access(hub_api, token_for, secret, stranger):
    for token in (None, token_for(stranger, "write")):
        with pytest.raises(RepositoryNotFoundError):
            hub_api(token).model_info("alice/secret")


def test_a_private_repository_shows_to_its_organizations_readers(
    hub_api, token_for, owner, org, reader
):
    repo = RepoFactory(namespace=org.namespace, name="croquet", private=True)
    commit_files(repo, owner, {"README.md": "# Croquet\n"})
    assert hub_api(token_for(reader, "read")).model_info("wonderland/croquet").private is True


def test_an_unknown_revision_is_a_revision_error(hub_api, bert):
    with pytest.raises(RevisionNotFoundError) as refused:
        hub_api(None).model_info("alice/bert", revision="0" * 40)
    assert "has no revision" in str(refused.value)


def test_a_revoked_token_is_refused_with_its_reason(hub_api, token_for, owner, bert):
    secret = token_for(owner)
    AccessToken.objects.get().revoke()
    with pytest.raises(HfHubHTTPError) as refused:
        hub_api(secret).model_info("alice/bert")
    assert refused.value.response.status_code == 401
    assert "was revoked on" in str(refused.value)


# Lists ---------------------------------------------------------------------------------------


def test_list_models_by_search_author_and_sort(hub_api, token_for, owner, bert, secret, org):
    other = RepoFactory(namespace=org.namespace, name="bert-large")
    commit_files(other, owner, {"README.md": "# Large\n"})
    api = hub_api(None)
    assert [m.id for m in api.list_models(search="bert")] == ["wonderland/bert-large", "alice/bert"]
    assert [m.id for m in api.list_models(author="alice")] == ["alice/bert"]
    by_creation = [m.id for m in api.list_models(sort="created_at")]
    assert by_creation == ["wonderland/bert-large", "alice/bert"]
    assert [m.id for m in api.list_models(sort="id")] == ["alice/bert", "wonderland/bert-large"]
    owners = [m.id for m in hub_api(token_for(owner, "read")).list_models(author="alice")]
    assert sorted(owners) == ["alice/bert", "alice/secret"]
    listed = next(iter(api.list_models(author="alice")))
    assert listed.doi == {"id": bert["doi"].doi, "commit": bert["first"].oid}


def test_list_models_follows_pages(hub_api, owner, monkeypatch):
    from hubapi.views import repos_read

    monkeypatch.setattr(repos_read, "LIST_PAGE_SIZE", 2)
    for n in range(5):
        RepoFactory(namespace=owner.namespace, name=f"model-{n}")
    listed = [m.id for m in hub_api(None).list_models(author="alice")]
    assert listed == [f"alice/model-{n}" for n in reversed(range(5))]


def test_list_models_full_gives_the_files(hub_api, bert):
    (model,) = hub_api(None).list_models(author="alice", full=True)
    assert "weights/model.bin" in [s.rfilename for s in model.siblings]


def test_list_datasets(hub_api, owner, org, bert):
    RepoFactory(namespace=org.namespace, name="cards", type=RepoType.DATASET)
    assert [d.id for d in hub_api(None).list_datasets(search="card")] == ["wonderland/cards"]


def test_an_unsupported_sort_or_filter_is_refused_with_the_reason(hub_api, bert):
    api = hub_api(None)
    with pytest.raises(HfHubHTTPError) as refused:
        list(api.list_models(sort="downloads"))
    assert refused.value.response.status_code == 400
    assert "cannot sort by downloads" in str(refused.value)
    with pytest.raises(HfHubHTTPError) as refused:
        list(api.list_models(pipeline_tag="text-classification"))
    assert "does not filter by pipeline_tag" in str(refused.value)


def test_the_list_costs_the_same_queries_for_more_repositories(
    client, owner, django_assert_max_num_queries
):
    # count, repositories, their files, the files' blobs, the DOIs: however many there are
    for many in (2, 12):
        for n in range(many - Repo.objects.count()):
            repo = RepoFactory(namespace=owner.namespace, name=f"model-{many}-{n}")
            commit_files(repo, owner, {"README.md": CARD})
        with django_assert_max_num_queries(5):
            assert len(client.get("/api/models?full=true").json()) == many


# Files and commits ---------------------------------------------------------------------------


def test_list_repo_files_and_tree(hub_api, bert):
    api = hub_api(None)
    assert api.list_repo_files("alice/bert") == ["README.md", "config.json", "weights/model.bin"]
    at_doi = api.list_repo_files("alice/bert", revision=bert["doi"].revision_oid)
    assert at_doi == ["README.md", "config.json"]
    top = {(type(e).__name__, e.path) for e in api.list_repo_tree("alice/bert")}
    assert top == {
        ("RepoFile", "README.md"),
        ("RepoFile", "config.json"),
        ("RepoFolder", "weights"),
    }
    (weights,) = api.list_repo_tree("alice/bert", path_in_repo="weights")
    assert (weights.path, weights.size, weights.lfs.sha256) == (
        "weights/model.bin",
        3,
        bert["repo"].head.files.get(path="weights/model.bin").blob.sha256,
    )
    with pytest.raises(EntryNotFoundError):
        list(api.list_repo_tree("alice/bert", path_in_repo="nothing"))


def test_list_repo_commits(hub_api, bert):
    commits = hub_api(None).list_repo_commits("alice/bert")
    assert [c.commit_id for c in commits] == [bert["repo"].head.oid, bert["first"].oid]
    assert (commits[0].title, commits[0].message, commits[0].authors) == (
        "Train",
        "Two epochs.",
        ["alice"],
    )
    older = hub_api(None).list_repo_commits("alice/bert", revision=bert["first"].oid)
    assert [c.commit_id for c in older] == [bert["first"].oid]


# Downloads -----------------------------------------------------------------------------------


def test_hf_hub_download_at_main_a_revision_and_a_dois_revision(hub_api, hf_home, bert):
    api = hub_api(None)
    path = Path(api.hf_hub_download("alice/bert", "weights/model.bin"))
    assert path.read_bytes() == b"\x00\x01\x02"
    assert str(path).startswith(str(hf_home))
    at_doi = api.hf_hub_download("alice/bert", "config.json", revision=bert["doi"].revision_oid)
    assert Path(at_doi).read_text() == '{"layers": 2}'
    short = bert["first"].oid[:7]
    assert Path(api.hf_hub_download("alice/bert", "README.md", revision=short)).read_text() == CARD
    with pytest.raises(EntryNotFoundError):
        api.hf_hub_download("alice/bert", "weights/model.bin", revision=bert["first"].oid)


def test_hf_hub_download_of_a_dataset_into_a_folder(hub_api, tmp_path, owner, org):
    cards = RepoFactory(namespace=org.namespace, name="cards", type=RepoType.DATASET)
    commit_files(cards, owner, {"data/train.csv": "a,b\n"})
    path = hub_api(None).hf_hub_download(
        "wonderland/cards", "data/train.csv", repo_type="dataset", local_dir=tmp_path / "out"
    )
    assert Path(path) == tmp_path / "out" / "data" / "train.csv"
    assert Path(path).read_text() == "a,b\n"


def test_snapshot_download_at_a_dois_revision(hub_api, tmp_path, bert):
    folder = Path(
        hub_api(None).snapshot_download(
            "alice/bert", revision=bert["doi"].revision_oid, local_dir=tmp_path / "snap"
        )
    )
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert [f for f in files if not f.startswith(".cache/")] == ["README.md", "config.json"]
    cached = Path(hub_api(None).snapshot_download("alice/bert"))
    assert (cached / "weights" / "model.bin").read_bytes() == b"\x00\x01\x02"


def test_a_private_repository_downloads_only_with_access(hub_api, token_for, owner, secret):
    stranger = UserFactory(username="mallory")
    for token in (None, token_for(stranger, "write")):
        with pytest.raises(RepositoryNotFoundError):
            hub_api(token).hf_hub_download("alice/secret", "README.md")
    path = hub_api(token_for(owner, "read")).hf_hub_download("alice/secret", "README.md")
    assert Path(path).read_text() == "# Secret\n"


def test_head_gives_what_the_client_needs(client, bert):
    head = bert["repo"].head
    blob = head.files.get(path="weights/model.bin").blob
    response = client.head("/alice/bert/resolve/main/weights/model.bin")
    assert response.status_code == 200
    assert response["X-Repo-Commit"] == head.oid
    assert response["ETag"] == f'"{blob.sha256}"'
    assert response["Content-Length"] == "3"
    assert response.content == b""


def test_an_old_name_leads_to_the_repository_under_its_new_one(hub_api, owner):
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(repo, owner, {"README.md": CARD})
    repo.move(namespace=owner.namespace, name="roberta")
    api = hub_api(None)
    assert api.model_info("alice/bert").id == "alice/roberta"
    assert Path(api.hf_hub_download("alice/bert", "README.md")).read_text() == CARD
    assert api.list_repo_files("alice/bert") == ["README.md"]


def test_an_old_name_of_a_private_repository_is_not_found_by_strangers(
    hub_api, token_for, owner, secret, stranger
):
    secret.move(namespace=owner.namespace, name="hidden")
    with pytest.raises(RepositoryNotFoundError):
        hub_api(token_for(stranger)).model_info("alice/secret")
    assert hub_api(token_for(owner, "read")).model_info("alice/secret").id == "alice/hidden"

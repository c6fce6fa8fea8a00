from __future__ import annotations

import pytest

from repos.models import Revision
from tests.factories import RepoFactory, commit_files


@pytest.mark.smoke
def test_it_shows_the_card_files_and_current_revision(client, repo):
    response = client.get("/alice/bert")
    assert response.status_code == 200
    text = response.text
    assert "<h1>Bert</h1>" in text
    assert "License:</span> mit" in text
    assert '<li class="tag">nlp</li>' in text
    assert "README.md" in text and "weights.bin" in text
    assert "3\xa0bytes" in text
    assert repo.head.short_oid in text and "Add weights" in text
    assert "You are viewing revision" not in text


def test_it_shows_tabs_and_settings_only_to_admins(client, repo, owner, stranger):
    settings_tab = 'href="/alice/bert/settings">Settings</a>'
    assert settings_tab not in client.get("/alice/bert").text
    client.force_login(stranger)
    assert settings_tab not in client.get("/alice/bert").text
    client.force_login(owner)
    text = client.get("/alice/bert").text
    for tab in ("Model card", "Files", "Commits"):
        assert f">{tab}</a>" in text
    assert settings_tab in text


def test_dataset_pages_live_under_datasets(client, dataset):
    response = client.get("/datasets/alice/squad")
    assert response.status_code == 200
    assert "Dataset card" in response.text
    assert client.get("/alice/squad").status_code == 404


def test_an_empty_repository_explains_how_to_add_files(client, owner):
    RepoFactory(namespace=owner.namespace, name="empty")
    assert "Nothing has been added yet" in client.get("/alice/empty").text
    client.force_login(owner)
    text = client.get("/alice/empty").text
    assert "Upload files" in text and "Write the model card" in text


def test_a_malformed_card_shows_a_notice(client, owner):
    repo = RepoFactory(namespace=owner.namespace, name="broken")
    commit_files(repo, owner, {"README.md": "---\nlicense: [mit\n---\n# Still here\n"})
    response = client.get("/alice/broken")
    assert response.status_code == 200
    assert "not valid YAML" in response.text
    assert "<h1>Still here</h1>" in response.text


def test_the_card_is_sanitised(client, owner):
    repo = RepoFactory(namespace=owner.namespace, name="xss")
    commit_files(
        repo,
        owner,
        {
            "README.md": "# Hi\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n"
            '<a href="javascript:alert(3)" onclick="alert(4)">x</a> <img src=x onerror="alert(5)">'
        },
    )
    text = client.get("/alice/xss").text
    card = text[text.index('class="markdown"') :]
    assert "<script>alert" not in card
    assert 'href="javascript:' not in card
    assert "<a " in card  # the link text stays, without its href
    assert "onclick" not in card and "onerror" not in card


def test_the_card_metadata_is_escaped_in_the_header(client, owner):
    repo = RepoFactory(namespace=owner.namespace, name="meta")
    commit_files(repo, owner, {"README.md": '---\ntags: ["<b>bold</b>"]\n---\n'})
    text = client.get("/alice/meta").text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text


def test_private_repositories_are_404_for_strangers_everywhere(client, private_repo, stranger):
    rev = private_repo.head.oid
    urls = [
        "/alice/secret",
        f"/alice/secret/tree/{rev}",
        f"/alice/secret/blob/{rev}/README.md",
        "/alice/secret/commits",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    client.force_login(stranger)
    for url in [*urls, "/alice/secret/settings", "/alice/secret/upload", "/alice/secret/edit-card"]:
        assert client.get(url).status_code == 404, url


def test_organization_members_see_private_organization_repositories(client, org_repo, reader):
    client.force_login(reader)
    response = client.get("/wonderland/rabbit")
    assert response.status_code == 200
    assert "Private" in response.text
    assert "Upload files" not in response.text


def test_unknown_repositories_are_404(client, db):
    assert client.get("/nobody/nothing").status_code == 404


def test_it_rejects_post(client, repo):
    assert client.post("/alice/bert").status_code == 405


def test_case_insensitive_urls_redirect_to_the_canonical_spelling(client, repo):
    response = client.get("/ALICE/Bert/commits")
    assert response.status_code == 301
    assert response.url == "/alice/bert/commits"


def test_query_count_does_not_grow_with_files(client, owner, org, django_assert_max_num_queries):
    repo = RepoFactory(namespace=org.namespace, name="many", private=True)
    commit_files(
        repo, owner, {f"data/{i}.bin": bytes([i]) for i in range(40)} | {"README.md": "# M"}
    )
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        response = client.get("/wonderland/many")
    assert response.status_code == 200
    assert response.text.count('class="path"') == 41


# Revisions -----------------------------------------------------------------------------------


@pytest.mark.smoke
def test_an_older_revision_is_shown_with_a_notice(client, repo):
    first = repo.revisions.get(message="Add card")
    response = client.get(f"/alice/bert/tree/{first.oid[:7]}")
    assert response.status_code == 200
    assert f"You are viewing revision <code>{first.short_oid}</code>" in response.text
    assert 'href="/alice/bert">go to the latest</a>' in response.text
    assert "weights.bin" not in response.text
    assert client.get(f"/alice/bert/tree/{first.oid}").status_code == 200


def test_the_current_revision_by_id_has_no_notice(client, repo):
    response = client.get(f"/alice/bert/tree/{repo.head.oid}")
    assert "You are viewing revision" not in response.text


@pytest.mark.parametrize("rev", ["abc", "0000000", "main", "z" * 40])
def test_unknown_revisions_are_404(client, repo, rev):
    assert client.get(f"/alice/bert/tree/{rev}").status_code == 404


def test_revisions_of_another_repository_are_404(client, repo, owner):
    other = RepoFactory(namespace=owner.namespace, name="other")
    rev = commit_files(other, owner, {"a.txt": "a"})
    assert client.get(f"/alice/bert/tree/{rev.oid}").status_code == 404


def test_commits_lists_history_newest_first(client, repo):
    response = client.get("/alice/bert/commits")
    assert response.status_code == 200
    text = response.text
    assert text.index("Add weights") < text.index("Add card")
    assert "Current" in text
    first = repo.revisions.get(message="Add card")
    assert f'href="/alice/bert/tree/{first.oid}"' in text


def test_commits_paginate_with_bounded_queries(client, owner, django_assert_max_num_queries):
    repo = RepoFactory(namespace=owner.namespace, name="long")
    for i in range(35):
        commit_files(repo, owner, {"a.txt": str(i)}, f"Change {i}")
    with django_assert_max_num_queries(5):
        response = client.get("/alice/long/commits")
    assert response.text.count('class="commit"') == 30
    assert "Page 1 of 2" in response.text
    assert client.get("/alice/long/commits?page=2").text.count('class="commit"') == 5


def test_commits_rejects_post(client, repo):
    assert client.post("/alice/bert/commits").status_code == 405


# Files -----------------------------------------------------------------------------------------


def test_blob_serves_text_inline_as_plain_text(client, repo):
    response = client.get(f"/alice/bert/blob/{repo.head.oid}/README.md")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="README.md"'
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).startswith(b"---\nlicense: mit")


def test_blob_serves_binary_as_a_download(client, repo):
    response = client.get(f"/alice/bert/blob/{repo.head.short_oid}/weights.bin")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="weights.bin"'
    assert b"".join(response.streaming_content) == b"\x00\x01\x02"


def test_blob_downloads_text_on_request(client, repo):
    response = client.get(f"/alice/bert/blob/{repo.head.oid}/README.md?download=1")
    assert response["Content-Disposition"] == 'attachment; filename="README.md"'
    # A download is sent as what its name says, not as the plain text the browser is shown.
    assert response["Content-Type"] == "text/markdown"


def test_blob_answers_head_as_get(client, repo):
    for path in ("README.md", "README.md?download", "weights.bin"):
        url = f"/alice/bert/blob/{repo.head.oid}/{path}"
        head, get = client.head(url), client.get(url)
        assert head.status_code == 200
        assert b"".join(head.streaming_content) == b""
        for header in ("Content-Type", "Content-Disposition", "Content-Length"):
            assert head[header] == get[header], (path, header)


def test_blob_never_serves_html_as_html(client, owner):
    repo = RepoFactory(namespace=owner.namespace, name="web")
    rev = commit_files(repo, owner, {"site/index.html": "<script>alert(1)</script>"})
    response = client.get(f"/alice/web/blob/{rev.oid}/site/index.html")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="index.html"'


def test_blob_of_an_older_revision(client, repo):
    first = repo.revisions.get(message="Add card")
    assert client.get(f"/alice/bert/blob/{first.oid}/weights.bin").status_code == 404
    assert client.get(f"/alice/bert/blob/{first.oid}/README.md").status_code == 200


def test_blob_unknown_path_is_404(client, repo):
    assert client.get(f"/alice/bert/blob/{repo.head.oid}/nope.txt").status_code == 404


def test_blob_rejects_post(client, repo):
    assert client.post(f"/alice/bert/blob/{repo.head.oid}/README.md").status_code == 405


# Old names -------------------------------------------------------------------------------------


def test_old_names_redirect_permanently_to_the_same_page(client, repo, owner, org):
    old_rev = repo.revisions.get(message="Add card").oid
    repo.move(namespace=org.namespace, name="bert-v2")
    cases = {
        "/alice/bert": "/wonderland/bert-v2",
        "/Alice/BERT/commits?page=2": "/wonderland/bert-v2/commits?page=2",
        f"/alice/bert/tree/{old_rev}": f"/wonderland/bert-v2/tree/{old_rev}",
        f"/alice/bert/blob/{old_rev}/README.md": f"/wonderland/bert-v2/blob/{old_rev}/README.md",
    }
    for old, new in cases.items():
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.url == new


def test_old_names_of_private_repositories_are_404_for_strangers(client, private_repo, stranger):
    private_repo.move(namespace=private_repo.namespace, name="hidden")
    client.force_login(stranger)
    assert client.get("/alice/secret").status_code == 404


def test_a_new_repository_with_an_old_name_wins_over_the_redirect(client, repo, owner):
    repo.move(namespace=owner.namespace, name="bert-v2")
    RepoFactory(namespace=owner.namespace, name="bert")
    assert client.get("/alice/bert").status_code == 200


def test_revision_lookup_is_not_fooled_by_ambiguous_prefixes(repo):
    with pytest.raises(Revision.DoesNotExist):
        repo.resolve_revision("")


def test_a_commit_address_leads_to_the_revision(client, repo, dataset):
    first = repo.head.parent
    response = client.get(f"/alice/bert/commit/{first.oid}")
    assert response.status_code == 302
    assert response["Location"] == f"/alice/bert/tree/{first.oid}"
    response = client.get(f"/datasets/alice/squad/commit/{dataset.head.oid[:7]}")
    assert response["Location"] == f"/datasets/alice/squad/tree/{dataset.head.oid}"
    assert client.get("/alice/bert/commit/0000000").status_code == 404


def test_a_commit_address_of_a_private_repository_is_hidden(client, private_repo):
    assert client.get(f"/alice/secret/commit/{private_repo.head.oid}").status_code == 404

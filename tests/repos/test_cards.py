"""Model cards cost the server a bounded amount: no YAML aliases, a size cap, rendered once."""

from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps
from django.core.cache import cache
from django.urls import reverse

from repos import cards
from repos.models import README, Repo, Revision
from tests.factories import RepoFactory, commit_files

# Each level holds ten of the previous one: 10**4 copies of "lol" from a few hundred bytes.
LAUGHS = """---
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
license: mit
---
# Laughs
"""


def test_aliases_are_refused_instead_of_expanded(owner):
    repo = RepoFactory(namespace=owner.namespace, name="laughs")
    revision = commit_files(repo, owner, {README: LAUGHS})
    assert len(json.dumps(revision.card_metadata)) < 100
    assert revision.card_metadata == {}
    assert "alias “*a” (line 3)" in revision.card_error


def test_a_self_referencing_alias_is_a_notice_not_a_server_error(owner):
    repo = RepoFactory(namespace=owner.namespace, name="loop")
    revision = commit_files(repo, owner, {README: "---\na: &a [*a]\n---\n# Loop\n"})
    assert revision.card_metadata == {}
    assert "aliases are not accepted" in revision.card_error


def test_nesting_deeper_than_the_limit_is_refused(owner):
    repo = RepoFactory(namespace=owner.namespace, name="deep")
    depth = cards.MAX_DEPTH + 5
    revision = commit_files(repo, owner, {README: f"---\nx: {'[' * depth}{']' * depth}\n---\n"})
    assert revision.card_metadata == {}
    assert f"nests deeper than {cards.MAX_DEPTH} levels" in revision.card_error


@pytest.mark.parametrize(
    ("yaml", "stored"),
    [
        ("license: .inf\nn: .nan", {"license": "inf", "n": "nan"}),
        ('license: "a\\0b"\n"k\\0": 1', {"license": "ab", "k": 1}),
        ('tags: ["bell\\a", "esc\\e[31m", "ok\\t"]', {"tags": ["bell", "esc[31m", "ok\t"]}),
    ],
)
def test_values_json_cannot_store_are_stored_as_text(owner, yaml, stored):
    repo = RepoFactory(namespace=owner.namespace, name="odd")
    revision = commit_files(repo, owner, {README: f"---\n{yaml}\n---\n"})
    revision.refresh_from_db()
    assert revision.card_metadata == stored


def test_an_integer_python_will_not_convert_is_a_notice(owner):
    repo = RepoFactory(namespace=owner.namespace, name="digits")
    revision = commit_files(repo, owner, {README: f"---\nn: {'1' * 5000}\n---\n"})
    assert revision.card_metadata == {}
    assert "not valid YAML" in revision.card_error


def test_the_card_editor_refuses_aliases_and_keeps_the_text(client, repo, owner):
    client.force_login(owner)
    head = repo.head_id
    response = client.post("/alice/bert/edit-card", {"content": LAUGHS, "message": "Laugh"})
    assert response.status_code == 200
    assert "aliases are not accepted: write the value out in full" in response.text
    assert "Nothing was saved." in response.text
    assert response.context["form"]["content"].value() == LAUGHS
    repo.refresh_from_db()
    assert repo.head_id == head


def test_the_card_editor_refuses_cards_over_the_size_limit(client, repo, owner, settings):
    settings.CARD_MAX_KB = 1
    client.force_login(owner)
    head = repo.head_id
    text = "# Big\n" + "x" * 2000
    response = client.post("/alice/bert/edit-card", {"content": text, "message": "Big"})
    assert response.status_code == 200
    assert "over the limit of 1 KB for a card" in response.text
    assert response.context["form"]["content"].value() == text
    repo.refresh_from_db()
    assert repo.head_id == head


def test_an_uploaded_readme_with_aliases_is_committed_with_a_notice(client, repo, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(owner)
    upload = SimpleUploadedFile(README, LAUGHS.encode())
    response = client.post("/alice/bert/upload", {"files": [upload], "message": "Laughs"})
    assert response.status_code == 302
    repo.refresh_from_db()
    assert repo.head.files.filter(path=README).exists()
    assert repo.head.card_metadata == {}
    page = client.get("/alice/bert").text
    assert "aliases are not accepted" in page
    assert "<h1>Laughs</h1>" in page


def test_an_oversized_readme_is_kept_but_not_rendered(client, owner, settings):
    settings.CARD_MAX_KB = 1
    repo = RepoFactory(namespace=owner.namespace, name="big")
    text = "---\nlicense: mit\n---\n# Big\n" + "word " * 400
    revision = commit_files(repo, owner, {README: text})
    assert revision.card_metadata == {}
    assert "over the limit of 1 KB" in revision.card_error
    page = client.get("/alice/big").text
    assert "over the limit of 1 KB for a card: it is not shown here" in page
    assert "<h1>Big</h1>" not in page
    assert repo.head.files.get(path=README).blob.read() == text.encode()


def test_a_readme_over_a_lowered_limit_is_no_longer_rendered(client, owner, settings):
    repo = RepoFactory(namespace=owner.namespace, name="grown")
    commit_files(repo, owner, {README: "# Grown\n" + "word " * 400})
    settings.CARD_MAX_KB = 1
    page = client.get("/alice/grown").text
    assert "it is not shown here" in page
    assert "<h1>Grown</h1>" not in page


def test_the_card_is_rendered_once_per_content(client, repo, monkeypatch):
    cache.clear()
    rendered = []
    render = cards.render_markdown
    monkeypatch.setattr(
        cards, "render_markdown", lambda body: rendered.append(body) or render(body)
    )
    for _ in range(3):
        assert "<h1>Bert</h1>" in client.get("/alice/bert").text
    assert client.get(f"/alice/bert/tree/{repo.head.oid}").status_code == 200
    assert rendered == ["# Bert\n"]


def test_a_new_renderer_version_renders_again(client, repo, monkeypatch):
    cache.clear()
    rendered = []
    render = cards.render_markdown
    monkeypatch.setattr(
        cards, "render_markdown", lambda body: rendered.append(body) or render(body)
    )
    client.get("/alice/bert")
    monkeypatch.setattr(cards, "RENDERER_VERSION", "next")
    client.get("/alice/bert")
    assert len(rendered) == 2


@pytest.mark.parametrize(
    ("url", "listed", "licence"),
    [
        ("/", "models", "mit"),
        (reverse("repos:models"), "page", "mit"),
        (reverse("repos:datasets"), "page", "cc-by-4.0"),
    ],
)
def test_listings_show_the_licence_without_loading_the_card(
    client, repo, dataset, url, listed, licence
):
    commit_files(dataset, dataset.namespace.user, {README: "---\nlicense: cc-by-4.0\n---\n"})
    response = client.get(url)
    assert response.status_code == 200
    repos = list(response.context[listed])
    assert repos
    assert not any(Repo.head.is_cached(r) for r in repos)
    assert f"<span>{licence}</span>" in response.text


def test_the_migration_repairs_stored_metadata(owner, settings):
    reparse = importlib.import_module("repos.migrations.0004_reparse_card_metadata").reparse_cards
    repo = RepoFactory(namespace=owner.namespace, name="stored")
    laughs = commit_files(repo, owner, {README: LAUGHS})
    plain = commit_files(repo, owner, {README: "---\nlicense: mit\n---\n# Fine\n"})
    # What a commit stored before aliases were refused: the expansion, whole.
    expanded = {"d": [[["lol"] * 10] * 10] * 10, "license": "mit"}
    Revision.objects.filter(pk=laughs.pk).update(card_metadata=expanded, card_error="")
    reparse(apps, None)
    laughs.refresh_from_db()
    plain.refresh_from_db()
    assert laughs.card_metadata == {}
    assert "aliases are not accepted" in laughs.card_error
    assert plain.card_metadata == {"license": "mit"}
    assert plain.card_error == ""


def test_the_card_editor_does_not_load_a_readme_over_the_limit(client, owner, settings):
    repo = RepoFactory(namespace=owner.namespace, name="huge")
    commit_files(repo, owner, {README: "# Huge\n" + "word " * 400})
    settings.CARD_MAX_KB = 1
    client.force_login(owner)
    response = client.get("/alice/huge/edit-card")
    assert response.status_code == 200
    assert response.context["form"]["content"].value() == ""
    assert "over the limit of 1 KB for a card, so it is not loaded here" in response.text
    assert "word word" not in response.text


def test_the_outline_is_the_first_paragraph_of_text_and_the_links_to_papers():
    body = (
        "# Tuned\n\n"
        "[![badge](https://example.org/badge.svg)](https://example.org/ci)\n\n"
        "<div>raw html</div>\n\n"
        "Tells *happy* from `sad`,\nas [the paper](https://arXiv.org/abs/2106.09685) says.\n\n"
        "See [the data](doi:10.5281/zenodo.1234567), [our site](https://example.org) and "
        "[the paper again](https://arXiv.org/abs/2106.09685).\n"
    )

    assert cards.Card(body=body).outline() == {
        "lead": "Tells happy from sad, as the paper says.",
        "links": ["https://arXiv.org/abs/2106.09685", "doi:10.5281/zenodo.1234567"],
    }


def test_the_outline_kept_with_each_revision_is_bounded():
    papers = "".join(f"[p{n}](https://doi.org/10.1234/{n}) " for n in range(500))
    outline = cards.Card(body=f"{'word ' * 5000}\n\n{papers}\n").outline()

    assert len(outline["lead"]) == cards.LEAD_MAX_CHARS
    assert outline["links"][-1] == f"https://doi.org/10.1234/{cards.MAX_PAPER_LINKS - 1}"
    assert len(outline["links"]) == cards.MAX_PAPER_LINKS


def test_a_commit_keeps_the_cards_outline(owner):
    repo = RepoFactory(namespace=owner.namespace)
    card = "---\nlicense: mit\n---\n# A\n\nFirst words.\n"
    first = commit_files(repo, owner, {"README.md": card, "a.txt": "a"})
    second = commit_files(repo, owner, {"b.txt": "b"})  # the README left alone
    third = commit_files(repo, owner, {"README.md": "# A\n\nOther words.\n"})
    repo.commit(author=owner, message="No card", remove=["README.md"])

    assert first.card_outline == second.card_outline == {"lead": "First words.", "links": []}
    assert second.card_metadata == {"license": "mit"}
    assert third.card_outline["lead"] == "Other words." and third.card_metadata == {}
    assert repo.head.card_outline == {"lead": "", "links": []}
    assert repo.head.card_metadata == {}

"""Searching by name gives the same answers on both databases: PostgreSQL through its trigram
index, SQLite through its FTS5 trigram table (repos.name_search) or, for terms under three
characters, ``LIKE``. Run on each (``HUB_TEST_DATABASE=sqlite`` for SQLite)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from repos import name_search
from repos.models import Repo
from tests.factories import RepoFactory, UserFactory

NAMES = ["bert-base", "BERT_large", "distilbert.v2", "gpt2", "t5", "Roberta", "secret-bert"]


@pytest.fixture
def named(owner):
    for name in NAMES:
        RepoFactory(namespace=owner.namespace, name=name, private=name.startswith("secret"))


def found(term: str, by_index: bool = True) -> list[str]:
    repos = Repo.objects.public().search(term, by_index=by_index)
    return sorted(repos.values_list("name", flat=True))


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("bert", ["BERT_large", "Roberta", "bert-base", "distilbert.v2"]),
        ("BeRt", ["BERT_large", "Roberta", "bert-base", "distilbert.v2"]),
        ("rt_", ["BERT_large"]),  # _ and % are themselves, not LIKE's wildcards
        ("rt%", []),
        ("t.v", ["distilbert.v2"]),
        ("-base", ["bert-base"]),
        ('"bert"', []),  # no FTS5 syntax either
        ("bert OR gpt", []),
        ("t5", ["t5"]),  # under three characters: no trigram
        ("T", ["BERT_large", "Roberta", "bert-base", "distilbert.v2", "gpt2", "t5"]),
        ("bért", []),
        ("ö", []),
        ("BERTA", ["Roberta"]),
        ("alice/bert-b", ["bert-base"]),
        ("alice/t5", ["t5"]),
        ("secret", []),  # private
    ],
)
def test_both_databases_find_the_same_names(named, term, expected):
    assert found(term) == expected
    assert found(term, by_index=False) == expected  # what a search with many matches reads


@pytest.fixture
def owner_named_bert(named):
    """An owner named as the term: one name found twice (by name and by owner), one by owner."""
    bert = UserFactory(username="bert")
    RepoFactory(namespace=bert.namespace, name="bert-tiny")
    RepoFactory(namespace=bert.namespace, name="gpt-mini")
    RepoFactory(namespace=bert.namespace, name="hidden", private=True)
    return bert


ODD_TERMS = [
    *["bert", "BERT", "rt_", "rt%", "r%t", "rt\\", '"bert"', "bert OR gpt", "ber*", "o'hara"],
    *["t5", "T", "bért", "ö", "alice", "ALICE", "alice/bert", "ALICE/BERT", "bert/", "/bert"],
    *["bert/gpt", "a/b/c", "secret", "hidden"],
]


def expected(visitor, term: str) -> list[Repo]:
    """What a search for ``term`` shows ``visitor``, worked out in Python."""
    owner, slash, name = term.lower().partition("/")

    def found(repo: Repo) -> bool:
        named, owned_by = repo.name.lower(), repo.namespace.name.lower()
        if slash:
            return name in named and owner in owned_by
        return term.lower() in named or owned_by == term.lower()

    visible = Repo.objects.visible_to(visitor).of_type("model").select_related("namespace")
    return sorted(filter(found, visible), key=lambda r: (r.updated_at, r.pk), reverse=True)


@pytest.mark.smoke
@pytest.mark.parametrize("term", ODD_TERMS)
@pytest.mark.parametrize("limit", [1, 4, 5, 6, 100])
def test_a_search_counts_what_it_finds_up_to_its_limit(owner_named_bert, owner, term, limit):
    for visitor in [AnonymousUser(), owner, owner_named_bert]:
        counted = Repo.objects.visible_to(visitor).of_type("model").search_ids(term)
        assert counted[: limit + 1].count() == min(len(expected(visitor, term)), limit + 1)


@pytest.mark.smoke
@pytest.mark.parametrize("term", ODD_TERMS)
def test_a_search_shows_what_it_finds_in_sql_compiled_once(client, owner_named_bert, owner, term):
    for visitor in [AnonymousUser(), owner, owner_named_bert]:
        if visitor.is_authenticated:
            client.force_login(visitor)
        response = client.get(reverse("repos:models"), {"search": term})
        shown = re.findall(r'class="repo-name" href="[^"]*">([^<]*)</a>', response.text)
        found = expected(visitor, term)
        assert shown == [r.full_name for r in found]
        assert f">{len(found)} model" in response.text


def test_a_search_counts_in_one_query_reading_sqlites_index_joined(owner_named_bert):
    with CaptureQueriesContext(connection) as queries:
        assert Repo.objects.public().search_ids("bert")[:101].count() == 6
    (count,) = queries.captured_queries
    if connection.vendor == "sqlite":  # the index gives its matches one at a time
        assert 'JOIN "repos_repo_name_search"' in count["sql"]
        assert "UNION ALL" in count["sql"]


def test_a_search_with_many_matches_reads_in_listing_order_and_finds_the_same(
    client, owner, monkeypatch
):
    monkeypatch.setattr("repos.views.SEARCH_COUNT_LIMIT", 3)
    monkeypatch.setattr("repos.views.LISTING_PAGE_SIZE", 2)
    for i in range(6):
        RepoFactory(namespace=owner.namespace, name=f"bert-{i}")
    RepoFactory(namespace=owner.namespace, name="bert-secret", private=True)
    response = client.get(reverse("repos:models"), {"search": "BERT", "page": 2})
    assert "More than 3 models matching “BERT”" in response.text
    assert re.findall(r">alice/(bert-[^<]*)</a>", response.text) == ["bert-3", "bert-2"]


def test_the_listing_searches_through_the_index_and_never_shows_private_ones(client, named):
    response = client.get(reverse("repos:models"), {"search": "BERT"})
    assert "4 models matching “BERT”" in response.text
    assert "secret-bert" not in response.text


def test_the_index_follows_inserts_renames_and_deletions(owner):
    repo = RepoFactory(namespace=owner.namespace, name="llama-7b")
    assert found("lama") == ["llama-7b"]
    repo.move(namespace=repo.namespace, name="alpaca-7b")
    assert found("lama") == [] and found("paca") == ["alpaca-7b"]
    Repo.objects.filter(pk=repo.pk).update(name="vicuna")  # no save(): the trigger still runs
    assert found("paca") == [] and found("cuna") == ["vicuna"]
    repo.delete()
    assert found("cuna") == []


@pytest.mark.smoke  # SQLite only: the smoke run is where CI runs it
def test_a_rebuilt_table_gets_its_triggers_back_after_migrate(owner):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's index: PostgreSQL's is pg_trgm's")
    RepoFactory(namespace=owner.namespace, name="falcon")
    with connection.cursor() as cursor:  # what SQLite's schema editor does to alter a table
        for trigger in ["insert", "delete", "update"]:
            cursor.execute(f"DROP TRIGGER {name_search.TABLE}_{trigger}")
    RepoFactory(namespace=owner.namespace, name="falcon-40b")
    assert found("falcon") == ["falcon"]
    name_search.ensure(connection, create=False)  # what repos does after every migrate
    assert found("falcon") == ["falcon", "falcon-40b"]
    RepoFactory(namespace=owner.namespace, name="falcon-180b")
    assert len(found("falcon")) == 3

"""hubsite.queries.Prepared: SQL the ORM compiles once, run again with other values."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import Namespace
from hubsite.queries import STAND_IN_ID, STAND_IN_TEXT, Prepared
from repos.models import Repo
from tests.factories import NamespaceFactory, RepoFactory, UserFactory, commit_files


def _names(prepared: Prepared, **values) -> list[str]:
    return [n.name for n in Namespace.objects.raw(*prepared.sql(**values))]


def test_each_run_gets_its_own_values_and_keeps_the_others(db):
    first, second = NamespaceFactory(name="ada"), NamespaceFactory(name="grace")
    built = []

    def build(pk, name):
        built.append((pk, name))
        # "ada" is a value of the query's own: only the stand-ins are replaced.
        return Namespace.objects.filter(pk=pk, name__in=[name, "ada"]).order_by("name")

    prepared = Prepared(build, pk=STAND_IN_ID, name=STAND_IN_TEXT)
    assert _names(prepared, pk=second.pk, name="grace") == ["grace"]
    assert _names(prepared, pk=first.pk, name="grace") == ["ada"]
    assert _names(prepared, pk=second.pk, name="nobody") == []
    assert built == [(STAND_IN_ID, STAND_IN_TEXT)]  # compiled once


def test_its_rows_make_the_instances_the_queryset_would(db, django_assert_num_queries):
    owner = UserFactory(username="ada")
    empty = RepoFactory(namespace=owner.namespace, name="empty")
    full = RepoFactory(namespace=owner.namespace, name="full")
    commit_files(full, owner, {"README.md": "# Full\n"})

    def build(pk):
        return Repo.objects.select_related("namespace", "head__author").filter(pk__gte=pk)

    prepared = Prepared(build, pk=STAND_IN_ID)
    with django_assert_num_queries(1):
        rows = prepared.rows(pk=empty.pk)
        repos = sorted(prepared.instances(rows), key=lambda r: r.pk)
        # Everything select_related names came with the one query, converted as the ORM does.
        assert [(r.name, r.namespace.name, r.created_at) for r in repos] == [
            (empty.name, "ada", empty.created_at),
            (full.name, "ada", full.created_at),
        ]
        assert repos[0].head is None
        assert (repos[1].head.oid, repos[1].head.author.username) == (full.head.oid, "ada")
        assert repos[1].head.card_metadata == full.head.card_metadata
    expected = {r.pk: r for r in build(empty.pk)}
    for repo in repos:
        stored = expected[repo.pk]
        assert [getattr(repo, f.attname) for f in Repo._meta.concrete_fields] == [
            getattr(stored, f.attname) for f in Repo._meta.concrete_fields
        ]
    assert prepared.rows(pk=full.pk + 1) == []


def test_postgresql_plans_a_query_once_per_connection(db):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    owner = UserFactory(username="ada")
    prepared = Prepared(lambda pk: Namespace.objects.filter(pk=pk), pk=STAND_IN_ID)
    sql, _ = prepared.sql(pk=owner.namespace_id)

    def statements() -> int:
        with connection.cursor() as cursor:
            statement = sql.replace("%s", "$1")
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement = %s", [statement]
            )
            return cursor.fetchone()[0]

    for _ in range(4):
        assert [r[0] for r in prepared.rows(pk=owner.namespace_id)] == [owner.namespace_id]
    assert statements() == 0
    # The fifth run (psycopg's prepare_threshold) prepares it; later runs reuse it.
    for _ in range(3):
        assert [r[0] for r in prepared.rows(pk=owner.namespace_id)] == [owner.namespace_id]
    assert statements() == 1
    assert prepared.rows(pk=owner.namespace_id + 1000) == []


def test_it_counts_and_converts_a_column_and_keeps_annotations(db):
    owner = UserFactory(username="ada")
    for name in ["bert", "gpt"]:
        repo = RepoFactory(namespace=owner.namespace, name=name)
        commit_files(repo, owner, {"README.md": "---\nlicense: mit\n---\n# Card\n"})
    RepoFactory(namespace=owner.namespace, name="empty")

    def build(owner):
        return Repo.objects.filter(namespace=owner).for_listing().order_by("name")

    prepared = Prepared(build, owner=STAND_IN_ID)
    expected = list(build(owner.namespace_id))
    rows = prepared.rows(owner=owner.namespace_id)
    assert prepared.count(owner=owner.namespace_id) == 3
    assert prepared.count(owner=owner.namespace_id + 1000) == 0
    # Datetimes as the ORM gives them (SQLite's driver gives text), without instances.
    assert prepared.column(rows, "updated_at") == [r.updated_at for r in expected]
    assert prepared.column(rows, "listed_license") == ["mit", None, "mit"]
    made = prepared.instances(rows)
    assert [(r.name, r.listed_license) for r in made] == [
        ("bert", "mit"),
        ("empty", None),
        ("gpt", "mit"),
    ]

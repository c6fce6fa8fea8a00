"""SQLite's index for searching repositories by part of their name: an FTS5 table with the
trigram tokenizer (SQLite 3.34 and later) over ``repos_repo.name``, kept in step by triggers.

PostgreSQL has its trigram index (``pg_trgm``, repos' migration 0007) and needs none of this.
Without it SQLite reads the repositories in listing order until a page is full, so a rare term
reads the whole table. A trigram index cannot find terms under three characters: those are still
searched with ``LIKE``.

SQLite's schema editor rebuilds a table to alter it (a new table, the rows copied, the old one
dropped), which drops its triggers: ``ensure`` runs after every ``migrate`` and puts back what
is missing, refilling the index from the table when it does.
"""

from __future__ import annotations

from django.db.models import Lookup

TABLE = "repos_repo_name_search"
MIN_LENGTH = 3  # a trigram

# Spelled out, not built: nothing in this SQL comes from outside.
_CREATE_TABLE = (
    "CREATE VIRTUAL TABLE repos_repo_name_search USING fts5("
    "name, content='repos_repo', content_rowid='id', tokenize='trigram')"
)
_TRIGGERS = {
    "repos_repo_name_search_insert": (
        "CREATE TRIGGER repos_repo_name_search_insert AFTER INSERT ON repos_repo BEGIN "
        "INSERT INTO repos_repo_name_search(rowid, name) VALUES (new.id, new.name); END"
    ),
    "repos_repo_name_search_delete": (
        "CREATE TRIGGER repos_repo_name_search_delete AFTER DELETE ON repos_repo BEGIN "
        "INSERT INTO repos_repo_name_search(repos_repo_name_search, rowid, name) "
        "VALUES ('delete', old.id, old.name); END"
    ),
    "repos_repo_name_search_update": (
        "CREATE TRIGGER repos_repo_name_search_update AFTER UPDATE OF name ON repos_repo BEGIN "
        "INSERT INTO repos_repo_name_search(repos_repo_name_search, rowid, name) "
        "VALUES ('delete', old.id, old.name); "
        "INSERT INTO repos_repo_name_search(rowid, name) VALUES (new.id, new.name); END"
    ),
}
_REBUILD = "INSERT INTO repos_repo_name_search(repos_repo_name_search) VALUES ('rebuild')"
# The term is quoted in SQL (an FTS5 phrase: the term as it is, no FTS5 syntax), so that it is
# one parameter, whole: a compiled query (``hubsite.queries.Prepared``) can take another.
_PHRASE = """'"' || REPLACE({}, '"', '""') || '"'"""
MATCHING = (
    "SELECT rowid FROM repos_repo_name_search WHERE name MATCH "
    """'"' || REPLACE(%s, '"', '""') || '"'"""
)


def ensure(connection, *, create: bool = True) -> None:
    """Create the index and its triggers where missing (SQLite only), and fill the index from
    the table when anything was; with ``create=False``, only repair an index that exists."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE %s", [TABLE + "%"])
        present = {row[0] for row in cursor.fetchall()}
        if TABLE in present and present.issuperset(_TRIGGERS):
            return
        if TABLE not in present and not create:
            return
        if TABLE not in present:
            cursor.execute(_CREATE_TABLE)
        for name, sql in _TRIGGERS.items():
            if name not in present:
                cursor.execute(sql)
        cursor.execute(_REBUILD)


def drop(connection) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS repos_repo_name_search_insert")
        cursor.execute("DROP TRIGGER IF EXISTS repos_repo_name_search_delete")
        cursor.execute("DROP TRIGGER IF EXISTS repos_repo_name_search_update")
        cursor.execute("DROP TABLE IF EXISTS repos_repo_name_search")


def indexed(term: str) -> bool:
    """Whether the index can find the names that contain ``term`` (a trigram cannot find a
    term under three characters)."""
    return len(term) >= MIN_LENGTH


class Match(Lookup):
    """``name__match=term`` on the index's model (``repos.models.RepoNameSearch``): the names
    that contain ``term`` in any case."""

    lookup_name = "match"

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {_PHRASE.format(rhs)}", [*lhs_params, *rhs_params]

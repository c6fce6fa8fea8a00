"""Queries whose SQL the ORM compiles once per process, for the hottest pages.

Compiling a queryset (joins, ordering, the columns of every model it loads) costs a page more
than running it on an index: on a repository page or a ``/doi/<doi>`` redirect, several times
the whole rest of the answer. A ``Prepared`` query is built by the ORM on first use, as any
queryset, with stand-ins for the values that change from request to request; later requests
run the same SQL with their own values::

    PAGE_DOIS = Prepared(lambda repo: Doi.objects.filter(repo_id=repo), repo=STAND_IN_ID)
    rows = Doi.objects.raw(*PAGE_DOIS.sql(repo=repo.pk))

A stand-in must be a value no other parameter of the query can equal (``STAND_IN_ID``,
``STAND_IN_TEXT`` and their neighbours are). On PostgreSQL the query is planned once per
connection (see ``_cursor``); with ``planned_once=False`` it is planned on every run for its
values, as the ORM's queries are: for a query whose best plan depends on them (a search, whose
term may be in one name or in every other).

A page that only needs to know whether what it showed has changed reads the rows as the
database driver returns them (``rows``: no model instances, no JSON decoded), and makes model
instances of them only when it renders (``instances``, with the objects of ``select_related``,
as the queryset would)::

    rows = PAGE_DOIS.rows(repo=repo.pk)
    fingerprint = hashlib.md5(repr(rows).encode()).hexdigest()
    dois = PAGE_DOIS.instances(rows)  # only when not cached
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import DEFAULT_FETCH_MODE, get_related_populators
from django.db.models.sql.compiler import SQLCompiler

# No row's id is negative, and no name holds a NUL.
STAND_IN_ID = -(2**62)
STAND_IN_TEXT = "\x00stand-in"


class Prepared:
    """The SQL of the queryset ``build(**stand_ins)`` returns, compiled once per database."""

    def __init__(
        self, build: Callable[..., QuerySet], *, planned_once: bool = True, **stand_ins
    ) -> None:
        self.build, self.stand_ins, self.planned_once = build, stand_ins, planned_once
        self._compiled: dict[str, tuple[SQLCompiler, str, tuple]] = {}
        self._converters: dict[str, dict] = {}

    def _compiler(self) -> tuple[SQLCompiler, str, tuple]:
        if connection.alias not in self._compiled:
            compiler = self.build(**self.stand_ins).query.get_compiler(connection.alias)
            sql, params = compiler.as_sql()  # also sets what ``instances`` reads
            self._compiled[connection.alias] = (compiler, sql, params)
        return self._compiled[connection.alias]

    def sql(self, **values) -> tuple[str, list]:
        """The SQL and its parameters, each stand-in replaced by its value in ``values``."""
        _, sql, params = self._compiler()
        by_stand_in = {(type(s), s): values[name] for name, s in self.stand_ins.items()}
        return sql, [by_stand_in.get((type(p), p), p) for p in params]

    def rows(self, **values) -> list[tuple]:
        """The query's rows for ``values``, as the database driver returns them."""
        return _run(*self.sql(**values), planned_once=self.planned_once)

    def count(self, **values) -> int:
        """How many rows the query has for ``values`` (all of them; slice the queryset to
        count up to a limit)."""
        sql, params = self.sql(**values)
        # The ORM's SQL, wrapped: no value is in the text.
        counted = f"SELECT COUNT(*) FROM ({sql}) AS counted"  # noqa: S608
        return _run(counted, params, planned_once=self.planned_once)[0][0]

    def column(self, rows: list[tuple], name: str) -> list:
        """The values of the main model's field or the annotation ``name`` in ``rows``,
        converted as the ORM would (SQLite gives datetimes as text), without making instances."""
        compiler, _, _ = self._compiler()
        if name in compiler.annotation_col_map:
            index = compiler.annotation_col_map[name]
        else:
            fields = compiler.klass_info["select_fields"]
            (index,) = [i for i in fields if compiler.select[i][0].target.attname == name]
        converters, expression = self._converters_of(compiler).get(index, ([], None))
        values = []
        for row in rows:
            value = row[index]
            for converter in converters:
                value = converter(value, expression, connection)
            values.append(value)
        return values

    def instances(self, rows: list[tuple]) -> list[Model]:
        """The model instances of ``rows`` (from ``rows``), with their ``select_related``
        objects and annotations: what iterating the queryset gives (Django's
        ``ModelIterable``, without running the query again)."""
        compiler, _, _ = self._compiler()
        select, klass_info, alias = compiler.select, compiler.klass_info, connection.alias
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1]
        init_list = [column[0].target.attname for column in select[first : last + 1]]
        model = klass_info["model"]
        populators = get_related_populators(klass_info, select, alias, DEFAULT_FETCH_MODE)
        annotations = compiler.annotation_col_map.items()
        objects = []
        for row in compiler.apply_converters(rows, self._converters_of(compiler)):
            obj = model.from_db(alias, init_list, row[first : last + 1])
            for populator in populators:
                populator.populate(row, obj)
            for attribute, position in annotations:
                setattr(obj, attribute, row[position])
            objects.append(obj)
        return objects

    def _converters_of(self, compiler: SQLCompiler) -> dict:
        if connection.alias not in self._converters:
            columns = [s[0] for s in compiler.select[: compiler.col_count]]
            self._converters[connection.alias] = compiler.get_converters(columns)
        return self._converters[connection.alias]


def _run(sql: str, params: list, *, planned_once: bool) -> list[tuple]:
    with _cursor() if planned_once else connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _cursor() -> CursorWrapper:
    """Django's cursor (with its execute wrappers, and its health check of the connection).
    On PostgreSQL one that sends the parameters apart from the SQL, so that psycopg makes a
    prepared statement of a query the connection runs often (``prepare_threshold``, 5 by
    default): PostgreSQL then plans it once per connection, not on every request. Planning a
    hot page's query takes PostgreSQL several times as long as running it on its index."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()  # what connection.cursor() does first
    connection.ensure_connection()
    cursor = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)

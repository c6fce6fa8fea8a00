"""Queries whose SQL the ORM compiles once per process, for the hottest pages.

Compiling a queryset (joins, ordering, the columns of every model it loads) costs a page more
than running it on an index: on a repository page or a ``/doi/<doi>`` redirect, several times
the whole rest of the answer. A ``Prepared`` query is built by the ORM on first use, as any
queryset, with stand-ins for the values that change from request to request; later requests
run the same SQL with their own values::

    PAGE_DOIS = Prepared(lambda repo: Doi.objects.filter(repo_id=repo), repo=STAND_IN_ID)
    rows = Doi.objects.raw(*PAGE_DOIS.sql(repo=repo.pk))

A stand-in must be a value no other parameter of the query can equal (``STAND_IN_ID``,
``STAND_IN_TEXT`` and their neighbours are).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.db.models import QuerySet

# No row's id is negative, and no name holds a NUL.
STAND_IN_ID = -(2**62)
STAND_IN_TEXT = "\x00stand-in"


class Prepared:
    """The SQL of the queryset ``build(**stand_ins)`` returns, compiled once per database."""

    def __init__(self, build: Callable[..., QuerySet], **stand_ins) -> None:
        self.build, self.stand_ins = build, stand_ins
        self._compiled: dict[str, tuple[str, tuple]] = {}

    def sql(self, **values) -> tuple[str, list]:
        """The SQL and its parameters, each stand-in replaced by its value in ``values``."""
        if connection.alias not in self._compiled:
            query = self.build(**self.stand_ins).query
            self._compiled[connection.alias] = query.sql_with_params()
        sql, params = self._compiled[connection.alias]
        by_stand_in = {(type(s), s): values[name] for name, s in self.stand_ins.items()}
        return sql, [by_stand_in.get((type(p), p), p) for p in params]

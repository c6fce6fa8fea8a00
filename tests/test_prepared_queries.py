"""hubsite.queries.Prepared: SQL the ORM compiles once, run again with other values."""

from __future__ import annotations

from accounts.models import Namespace
from hubsite.queries import STAND_IN_ID, STAND_IN_TEXT, Prepared
from tests.factories import NamespaceFactory


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

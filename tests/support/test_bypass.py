"""Every path that could delete, rename, move or change the visibility of a repository locked by
DOI, tried on a repository with registered DOIs: each is refused, and nothing changes.

One parametrised test, so that its ids read as the table of bypass paths tried:

    pytest tests/support/test_bypass.py -v
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse

from doi.models import Doi
from repos.models import Repo, RepoLocked, lock_override

LOCK_MESSAGE = "locked by DOI"


@dataclass
class Attempt:
    repo: Repo
    owner: object
    org: object
    staff: object
    client: object


def _model_delete(a: Attempt):
    a.repo.delete()


def _model_delete_skipping_the_guard(a: Attempt):
    # Past Repo.delete()'s check, Django's collector still refuses: DOIs PROTECT the row.
    super(Repo, a.repo).delete()


def _save_new_name(a: Attempt):
    a.repo.name = "renamed"
    a.repo.save()


def _save_new_owner(a: Attempt):
    a.repo.namespace = a.org.namespace
    a.repo.save(update_fields=["namespace"])


def _save_private(a: Attempt):
    a.repo.private = True
    a.repo.save()


def _move(a: Attempt):
    a.repo.move(namespace=a.org.namespace, name="moved")


def _set_private(a: Attempt):
    a.repo.set_private(True)


def _remove(a: Attempt):
    a.repo.remove(reason="Gone.")


def _queryset_delete(a: Attempt):
    Repo.objects.filter(pk=a.repo.pk).delete()


def _queryset_delete_all(a: Attempt):
    Repo.objects.all().delete()


def _queryset_update_name(a: Attempt):
    Repo.objects.filter(pk=a.repo.pk).update(name="renamed")


def _queryset_update_owner(a: Attempt):
    Repo.objects.filter(pk=a.repo.pk).update(namespace=a.org.namespace)


def _queryset_update_private(a: Attempt):
    Repo.objects.all().update(private=True)


def _bulk_update(a: Attempt):
    a.repo.name = "renamed"
    Repo.objects.bulk_update([a.repo], ["name"])


def _raw_sql(sql: str) -> Callable[[Attempt], None]:
    def attempt(a: Attempt):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.format(org=a.org.namespace.pk), [a.repo.pk])

    return attempt


def _shell(command: str) -> Callable[[Attempt], None]:
    def attempt(a: Attempt):
        call_command("shell", command=command.format(pk=a.repo.pk), no_imports=True)

    return attempt


def _lock_override_as_owner(a: Attempt):
    with lock_override(actor=a.owner, reason="I own it."):
        a.repo.delete()


def _as_staff(a: Attempt):
    a.client.force_login(a.staff)


def _as_owner(a: Attempt):
    a.client.force_login(a.owner)


def _admin_delete_view(a: Attempt):
    _as_staff(a)
    url = reverse("admin:repos_repo_delete", args=[a.repo.pk])
    return a.client.post(url, {"post": "yes"})


def _admin_delete_selected(a: Attempt):
    _as_staff(a)
    data = {"action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: [a.repo.pk], "post": "yes"}
    return a.client.post(reverse("admin:repos_repo_changelist"), data)


def _admin_change_form(a: Attempt):
    _as_staff(a)
    url = reverse("admin:repos_repo_change", args=[a.repo.pk])
    inlines = {f"{p}-{n}_FORMS": "0" for p in ("locks", "redirects") for n in ("TOTAL", "INITIAL")}
    return a.client.post(url, {"private": "on", **inlines})


def _settings_rename(a: Attempt):
    _as_owner(a)
    data = {"namespace": a.org.namespace.pk, "name": "moved"}
    return a.client.post(a.repo.url("rename"), data)


def _settings_visibility(a: Attempt):
    _as_owner(a)
    return a.client.post(a.repo.url("visibility"), {"visibility": "private"})


def _settings_delete(a: Attempt):
    _as_owner(a)
    return a.client.post(a.repo.url("delete"), {"confirm": "alice/bert"})


# (id, attempt, the refusal: an exception type, or (HTTP status, text the page shows))
PATHS = [
    ("model-delete", _model_delete, RepoLocked),
    ("model-delete-past-the-guard", _model_delete_skipping_the_guard, ProtectedError),
    ("model-save-new-name", _save_new_name, RepoLocked),
    ("model-save-new-owner", _save_new_owner, RepoLocked),
    ("model-save-private", _save_private, RepoLocked),
    ("model-move", _move, RepoLocked),
    ("model-set_private", _set_private, RepoLocked),
    ("model-remove", _remove, RepoLocked),
    ("queryset-delete", _queryset_delete, RepoLocked),
    ("queryset-delete-all", _queryset_delete_all, RepoLocked),
    ("queryset-update-name", _queryset_update_name, RepoLocked),
    ("queryset-update-owner", _queryset_update_owner, RepoLocked),
    ("queryset-update-private", _queryset_update_private, RepoLocked),
    ("queryset-bulk_update", _bulk_update, RepoLocked),
    ("sql-update-name", _raw_sql("UPDATE repos_repo SET name = 'raw' WHERE id = %s"),
     DatabaseError),
    ("sql-update-owner", _raw_sql("UPDATE repos_repo SET namespace_id = {org} WHERE id = %s"),
     DatabaseError),
    ("sql-update-private", _raw_sql("UPDATE repos_repo SET private = true WHERE id = %s"),
     DatabaseError),
    ("sql-delete", _raw_sql("DELETE FROM repos_repo WHERE id = %s"), DatabaseError),
    ("shell-delete", _shell("from repos.models import Repo; Repo.objects.get(pk={pk}).delete()"),
     RepoLocked),
    ("shell-update", _shell("from repos.models import Repo; "
                            "Repo.objects.filter(pk={pk}).update(private=True)"), RepoLocked),
    ("lock_override-by-the-owner", _lock_override_as_owner, PermissionDenied),
    ("admin-delete-view", _admin_delete_view, (403, None)),
    ("admin-delete-selected", _admin_delete_selected, (200, "Cannot delete repo")),
    ("admin-change-form", _admin_change_form, (302, None)),  # "private" is read-only: ignored
    ("settings-rename", _settings_rename, (200, LOCK_MESSAGE)),
    ("settings-visibility", _settings_visibility, (200, LOCK_MESSAGE)),
    ("settings-delete", _settings_delete, (200, LOCK_MESSAGE)),
]  # fmt: skip


def _snapshot(repo: Repo) -> tuple:
    stored = Repo.objects.filter(pk=repo.pk).values_list(
        "name", "namespace_id", "private", "removed_at"
    )
    return (*stored.get(), repo.revisions.count(), Doi.objects.filter(repo=repo).count())


@pytest.mark.parametrize(("attempt", "refusal"), [p[1:] for p in PATHS], ids=[p[0] for p in PATHS])
def test_every_path_is_refused_and_nothing_changes(
    attempt, refusal, locked, owner, org, staff, client
):
    assert connection.vendor == "postgresql"  # the raw SQL rows need the trigger
    before = _snapshot(locked)
    tried = Attempt(repo=Repo.objects.get(pk=locked.pk), owner=owner, org=org, staff=staff,
                    client=client)  # fmt: skip
    if isinstance(refusal, tuple):
        status, text = refusal
        response = attempt(tried)
        assert response.status_code == status
        if text:
            assert text in response.content.decode()
    else:
        with pytest.raises(refusal) as raised:
            attempt(tried)
        if refusal in (RepoLocked, DatabaseError):
            assert LOCK_MESSAGE in str(raised.value)
    assert _snapshot(locked) == before

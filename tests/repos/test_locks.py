"""Every path that could delete, rename, move or change the visibility of a locked repository."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from repos.models import Repo, RepoLock, RepoLocked, lock_override
from tests.factories import RepoFactory, commit_files


@pytest.fixture
def locked(owner):
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    RepoLock.objects.create(repo=repo, reason="DOI", holder="doi:10.5072/hub/0001")
    return repo


def _unchanged(repo, owner):
    stored = Repo.objects.get(pk=repo.pk)
    assert (stored.name, stored.namespace_id, stored.private) == ("bert", owner.namespace_id, False)


def test_model_delete_is_refused(locked, owner):
    with pytest.raises(RepoLocked, match="locked by DOI"):
        locked.delete()
    _unchanged(locked, owner)


@pytest.mark.smoke
def test_rename_through_save_is_refused(locked, owner):
    locked.name = "renamed"
    with pytest.raises(RepoLocked, match="locked by DOI"):
        locked.save()
    _unchanged(locked, owner)


def test_move_is_refused_and_leaves_the_instance_as_it_was(locked, owner, org):
    with pytest.raises(RepoLocked, match="renamed or moved"):
        locked.move(namespace=org.namespace, name="elsewhere")
    assert (locked.namespace, locked.name) == (owner.namespace, "bert")
    _unchanged(locked, owner)
    assert not locked.redirects.exists()


def test_visibility_change_is_refused(locked, owner):
    with pytest.raises(RepoLocked, match="made private"):
        locked.set_private(True)
    assert locked.private is False
    _unchanged(locked, owner)


def test_queryset_update_and_delete_are_refused(locked, owner):
    other = RepoFactory(namespace=owner.namespace, name="free")
    everything = Repo.objects.all()
    with pytest.raises(RepoLocked):
        everything.update(private=True)
    with pytest.raises(RepoLocked):
        everything.update(name="x")
    with pytest.raises(RepoLocked):
        everything.delete()
    with pytest.raises(RepoLocked):
        Repo.objects.bulk_update([locked], ["name"])
    _unchanged(locked, owner)
    assert Repo.objects.filter(pk=other.pk).exists()


def test_unguarded_fields_and_unlocked_repos_still_change(locked, owner):
    free = RepoFactory(namespace=owner.namespace, name="free")
    Repo.objects.all().update(updated_at=locked.updated_at)
    free.move(namespace=owner.namespace, name="free2")
    free.delete()
    assert not Repo.objects.filter(pk=free.pk).exists()


def test_the_database_refuses_raw_sql(locked, owner):
    assert connection.vendor == "postgresql"  # the trigger is PostgreSQL's; not a smoke test
    for sql in (
        "UPDATE repos_repo SET name = 'raw' WHERE id = %s",
        "UPDATE repos_repo SET private = true WHERE id = %s",
        "DELETE FROM repos_repo WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="locked by DOI"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [locked.pk])
    _unchanged(locked, owner)


def test_only_active_staff_can_override(locked, owner, stranger):
    with pytest.raises(PermissionDenied), lock_override(actor=owner, reason="no"):
        pass
    stranger.is_staff, stranger.is_active = True, False
    with pytest.raises(PermissionDenied), lock_override(actor=stranger, reason="no"):
        pass


def test_staff_without_the_permission_cannot_override(locked, view_only_staff, support_staff):
    with (
        pytest.raises(PermissionDenied, match="permission"),
        lock_override(actor=view_only_staff, reason="Support request #1"),
    ):
        locked.set_private(True)
    assert not Repo.objects.get(pk=locked.pk).private
    with lock_override(actor=support_staff, reason="Support request #1"):
        locked.set_private(True)
    assert Repo.objects.get(pk=locked.pk).private


def test_staff_override_lets_the_change_through(locked, owner, staff, org):
    with lock_override(actor=staff, reason="Support request #1"):
        locked.move(namespace=org.namespace, name="moved")
        locked.set_private(True)
    stored = Repo.objects.get(pk=locked.pk)
    assert (stored.full_name, stored.private) == ("wonderland/moved", True)
    # The override ends with its block.
    with pytest.raises(RepoLocked):
        stored.set_private(False)


def test_remove_is_refused_for_locked_repos_and_keeps_a_tombstone_for_staff(locked, owner, staff):
    commit_files(locked, owner, {"README.md": "# Bert"})
    with pytest.raises(RepoLocked):
        locked.remove(reason="Asked by the owner")
    assert locked.revisions.count() == 1

    with lock_override(actor=staff, reason="Support request #2"):
        locked.remove(reason="Removed at the owner's request.")
    stored = Repo.objects.get(pk=locked.pk)
    assert stored.is_removed and stored.head is None
    assert stored.removal_reason == "Removed at the owner's request."
    assert not stored.revisions.exists()
    assert not Repo.objects.present().filter(pk=locked.pk).exists()
    assert not Repo.objects.visible_to(owner).filter(pk=locked.pk).exists()

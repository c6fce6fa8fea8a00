"""The repository admin refuses what the lock forbids instead of failing with a server error."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from doi.models import Event
from repos.models import RepoLocked, Revision, lock_override


def _change(repo):
    return reverse("admin:repos_repo_change", args=[repo.pk])


def test_a_locked_repository_is_read_only_where_the_lock_applies(client, staff, locked):
    client.force_login(staff)
    html = client.get(_change(locked)).content.decode()
    assert "doi:10.5072/hub/0002" in html  # the lock and who holds it
    assert 'name="private"' not in html
    assert reverse("admin:repos_repo_delete", args=[locked.pk]) not in html


def test_an_unlocked_repository_can_still_be_changed(client, staff, repo):
    client.force_login(staff)
    html = client.get(_change(repo)).content.decode()
    assert 'name="private"' in html
    assert reverse("admin:repos_repo_delete", args=[repo.pk]) in html


def test_a_revision_a_doi_names_cannot_be_deleted_and_the_admin_says_why(client, staff, locked):
    revision = locked.head
    events = Event.objects.count()
    client.force_login(staff)
    delete_url = reverse("admin:repos_revision_delete", args=[revision.pk])
    reason = (
        f"Revision {revision.short_oid} of alice/bert: the repository is locked by DOI, and its "
        "revisions go only with it, through a support request"
    )
    assert reason in client.get(delete_url).content.decode()
    assert reason in client.post(delete_url, {"post": "yes"}).content.decode()
    changelist = reverse("admin:repos_revision_changelist")
    bulk = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [revision.pk], "post": "yes"}
    assert reason in client.post(changelist, bulk).content.decode()
    assert Revision.objects.filter(pk=revision.pk).exists()
    assert Event.objects.count() == events


def test_revisions_of_a_locked_repository_go_only_with_it(locked, staff):
    revision = locked.head
    with pytest.raises(RepoLocked, match="cannot be rewritten"):
        revision.delete()
    with pytest.raises(RepoLocked, match="cannot be rewritten"):
        Revision.objects.filter(pk=revision.pk).delete()
    assert Revision.objects.filter(pk=revision.pk).exists()
    with lock_override(actor=staff, reason="Support request #1"):
        locked.remove(reason="Withdrawn.")
    assert not Revision.objects.filter(pk=revision.pk).exists()


def test_revisions_of_an_unlocked_repository_can_be_deleted(client, staff, repo):
    client.force_login(staff)
    delete_url = reverse("admin:repos_revision_delete", args=[repo.head.pk])
    response = client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert not Revision.objects.filter(repo=repo).exists()

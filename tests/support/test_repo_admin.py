"""The repository admin refuses what the lock forbids instead of failing with a server error."""

from __future__ import annotations

from django.urls import reverse


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

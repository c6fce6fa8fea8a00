"""The doi app holds the repository lock: one per DOI, taken when the DOI is reserved, released
only by discarding a DOI that never reached DataCite."""

from __future__ import annotations

import pytest

from doi.models import DoiNotAllowed
from repos.models import Repo, RepoLocked
from tests.factories import mint_doi

NO_WORKER = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def _holders(repo):
    return set(repo.locks.values_list("holder", flat=True))


def _reserve(repo, owner):
    return mint_doi(repo, owner)


@pytest.mark.smoke
def test_reserving_locks_the_repository_for_each_doi(repo, owner, settings):
    settings.TASKS = NO_WORKER  # even before DataCite has it, the DOI is promised
    version = _reserve(repo, owner)
    assert repo.lock_reasons == ["DOI"]
    assert _holders(repo) == {f"doi:{version.concept.doi}", f"doi:{version.doi}"}
    with pytest.raises(RepoLocked, match="locked by DOI"):
        repo.set_private(True)


def test_discarding_the_last_doi_that_never_reached_datacite_releases_the_lock(
    repo, owner, staff, settings
):
    settings.TASKS = NO_WORKER
    version = _reserve(repo, owner)
    version.discard(actor=staff)
    assert repo.is_locked  # the concept DOI still holds it
    version.concept.discard(actor=staff)
    assert not repo.is_locked
    repo.set_private(True)
    repo.refresh_from_db()
    assert repo.private


def test_registered_dois_never_release_the_lock(repo, owner, staff, mint):
    version = mint(repo)
    with pytest.raises(DoiNotAllowed):
        version.discard(actor=staff)
    assert _holders(repo) == {f"doi:{version.concept.doi}", f"doi:{version.doi}"}


def test_deleting_after_the_dois_were_discarded_explains_instead_of_failing(
    client, repo, owner, staff, settings
):
    settings.TASKS = NO_WORKER
    version = _reserve(repo, owner)
    version.discard(actor=staff)
    version.concept.discard(actor=staff)
    client.force_login(owner)
    response = client.post(repo.url("delete"), {"confirm": "alice/bert"})
    assert response.status_code == 200
    assert "records that must be kept, such as DOIs it once had" in response.content.decode()
    assert Repo.objects.filter(pk=repo.pk).exists()

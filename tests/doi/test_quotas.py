"""DOIs are permanent: Generate DOI is limited per repository and per user per day, in the
domain (``Doi.objects.preview`` and ``mint``), with a message that says when to try again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from doi.models import Doi, DoiNotAllowed
from hubsite.quotas import try_again
from tests.doi.conftest import CONSENT
from tests.doi.test_owner_generate import form_data, url
from tests.factories import RepoFactory, commit_files


@pytest.fixture(autouse=True)
def _quotas(settings):
    settings.DOI_QUOTA_PER_REPO_PER_DAY = 2
    settings.DOI_QUOTA_PER_USER_PER_DAY = 3


def edit(repo, owner, n: int) -> None:
    commit_files(repo, owner, {"notes.txt": f"edit {n}"})


def mint_edits(repo, owner, mint, count: int) -> list[Doi]:
    dois = []
    for n in range(count):
        dois.append(mint(repo))
        edit(repo, owner, n)
    return dois


def test_a_repository_gets_no_more_dois_in_a_day_than_its_quota(repo, owner, mint, alice):
    first, _ = mint_edits(repo, owner, mint, 2)
    with pytest.raises(DoiNotAllowed) as refused:
        Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)
    until = first.created_at + timedelta(days=1)
    assert refused.value.message.startswith(
        "This repository got 2 DOIs in the last 24 hours, the most allowed"
    )
    assert f"You can generate the next one {try_again(until)}." in refused.value.message
    assert Doi.objects.versions().count() == 2
    # The preview says so before the owner acknowledges anything.
    with pytest.raises(DoiNotAllowed, match="This repository got 2 DOIs"):
        Doi.objects.preview(repo=repo, user=owner, creators=[alice])


def test_the_quota_frees_up_when_the_oldest_doi_is_a_day_old(repo, owner, mint):
    first, _ = mint_edits(repo, owner, mint, 2)
    Doi.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert mint(repo).revision == repo.head
    assert Doi.objects.versions().count() == 3


def test_a_user_gets_no_more_dois_in_a_day_than_their_quota(repo, owner, mint, alice):
    other = RepoFactory(namespace=owner.namespace, name="other-model")
    commit_files(other, owner, {"README.md": "---\nlicense: mit\n---\n# Other\n"})
    mint_edits(repo, owner, mint, 2)
    mint(other)
    edit(other, owner, 1)
    with pytest.raises(DoiNotAllowed, match="You got 3 DOIs in the last 24 hours"):
        Doi.objects.mint(repo=other, user=owner, creators=[alice], **CONSENT)
    assert Doi.objects.versions().filter(repo=other).count() == 1


def test_a_discarded_doi_does_not_count(repo, owner, mint):
    first, _ = mint_edits(repo, owner, mint, 2)
    Doi.objects.filter(pk=first.pk).update(discarded_at=timezone.now())
    mint(repo)
    assert Doi.objects.live().versions().count() == 2


def test_zero_means_no_limit(repo, owner, mint, settings):
    settings.DOI_QUOTA_PER_REPO_PER_DAY = 0
    settings.DOI_QUOTA_PER_USER_PER_DAY = 0
    mint_edits(repo, owner, mint, 4)
    assert Doi.objects.versions().count() == 4


def test_the_form_shows_when_the_owner_may_try_again(client, repo, owner, mint):
    first, _ = mint_edits(repo, owner, mint, 2)
    client.force_login(owner)
    response = client.post(url(repo), form_data({"name": "Alice Liddell"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This repository got 2 DOIs in the last 24 hours" in html
    assert try_again(first.created_at + timedelta(days=1)) in html
    # The preview says why there is none, without blaming the authors.
    assert "once these details are complete" not in html
    assert Doi.objects.versions().count() == 2

"""Retry: the owner asks for a failed registration to be tried again."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from doi.models import Doi, Event
from repos.models import lock_override
from tests.factories import RepoFactory, commit_files

AUTHOR = [{"type": "Personal", "name": "Alice Liddell"}]
ERROR = "DataCite refused the metadata: the URL is not in the allowed domains."


def make_failed(repo, user) -> Doi:
    doi = Doi.objects.mint(
        repo=repo, user=user, creators=AUTHOR, consent_text="Consent", consent_version="test"
    )
    Doi.objects.filter(pk=doi.pk).update(error_is_permanent=True, last_error=ERROR, attempts=3)
    doi.refresh_from_db()
    return doi


@pytest.fixture
def repo(owner):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "# Sentiment\n"})
    return repo


@pytest.fixture
def failed(repo, owner):
    return make_failed(repo, owner)


def url(doi: Doi) -> str:
    repo = doi.repo
    return reverse(f"doi-owner:{repo.type}-retry", args=[repo.namespace.name, repo.name, doi.pk])


def assert_untouched(doi: Doi) -> None:
    doi.refresh_from_db()
    assert doi.error_is_permanent and doi.last_error == ERROR
    assert not Event.objects.filter(kind=Event.Kind.RETRIED).exists()


@pytest.mark.smoke
def test_it_queues_the_registration_again(client, owner, repo, failed):
    client.force_login(owner)
    response = client.post(url(failed))
    assert response.status_code == 302
    assert response.url == repo.url("settings") + "#doi-section"
    failed.refresh_from_db()
    assert failed.state == "pending"
    assert not failed.error_is_permanent and failed.last_error == ""
    event = Event.objects.get(kind=Event.Kind.RETRIED)
    assert (event.doi, event.actor) == (failed, owner)


def test_with_htmx_it_returns_the_section_polling_again(client, owner, failed):
    client.force_login(owner)
    response = client.post(url(failed), headers={"HX-Request": "true", "HX-Target": "doi-section"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="doi-section"')
    assert f"{failed.doi} is being retried." in html
    assert 'hx-trigger="every 2s"' in html
    assert ">Retry</button>" not in html


def test_a_doi_that_has_not_failed_is_left_alone(client, owner, repo):
    doi = Doi.objects.mint(
        repo=repo, user=owner, creators=AUTHOR, consent_text="Consent", consent_version="test"
    )
    client.force_login(owner)
    response = client.post(url(doi), follow=True)
    assert "is not waiting for a retry" in response.content.decode()
    assert not Event.objects.filter(kind=Event.Kind.RETRIED).exists()


def test_a_discarded_doi_is_404(client, owner, failed):
    Doi.objects.filter(pk=failed.pk).update(discarded_at=timezone.now())
    client.force_login(owner)
    assert client.post(url(failed)).status_code == 404
    assert not Event.objects.filter(kind=Event.Kind.RETRIED).exists()


def test_a_doi_of_another_repo_is_404(client, owner, repo, failed):
    other = RepoFactory(namespace=owner.namespace, name="other")
    path = reverse("doi-owner:model-retry", args=["alice", other.name, failed.pk])
    client.force_login(owner)
    assert client.post(path).status_code == 404
    assert_untouched(failed)


def test_it_rejects_get(client, owner, failed):
    client.force_login(owner)
    assert client.get(url(failed)).status_code == 405
    assert_untouched(failed)


def test_it_requires_login(client, failed):
    response = client.post(url(failed))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert_untouched(failed)


def test_a_stranger_gets_403_on_a_public_repo_and_404_on_a_private_one(
    client, stranger, staff, repo, failed
):
    client.force_login(stranger)
    assert client.post(url(failed)).status_code == 403
    # A repository with a DOI only becomes private through staff; it must then stay hidden.
    with lock_override(actor=staff, reason="Approved support request"):
        repo.set_private(True)
    assert client.post(url(failed)).status_code == 404
    assert_untouched(failed)


@pytest.mark.parametrize("member", ["writer", "reader"])
def test_org_members_below_admin_get_403(client, request, owner, org, member):
    repo = RepoFactory(namespace=org.namespace, name="shared")
    commit_files(repo, owner, {"a.txt": "a"})
    failed = make_failed(repo, owner)
    client.force_login(request.getfixturevalue(member))
    assert client.post(url(failed)).status_code == 403
    assert_untouched(failed)

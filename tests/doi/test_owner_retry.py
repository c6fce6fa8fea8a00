"""Retry: the owner asks for a failed registration to be tried again; Retry now: for one that
failed for now, without waiting for the next automatic attempt."""

from __future__ import annotations

from datetime import timedelta

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


# Retry now: a transient failure, before its next automatic attempt ------------------------------


@pytest.fixture
def waiting(repo, owner, mint, datacite):
    """The repository's DOIs, refused for now by DataCite (HTTP 503): the hub waits to retry."""
    datacite.fail("503", "503")
    version = mint(repo)
    version.refresh_from_db()
    assert version.waiting_to_retry
    return version


@pytest.fixture
def retry_now(client, django_capture_on_commit_callbacks):
    """Press Retry now as ``user``; the push it queues runs once its transaction commits."""

    def press(user, doi, **kwargs):
        client.force_login(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url(doi), **kwargs)

    return press


def test_the_section_offers_retry_now_with_the_next_attempt(client, owner, repo, waiting):
    client.force_login(owner)
    html = client.get(repo.url("settings")).content.decode()
    assert "DataCite is not working properly right now (HTTP 503), so the hub will try" in html
    assert f'action="{url(waiting)}"' in html
    assert ">Retry now</button>" in html


def test_a_doi_being_registered_offers_no_retry_now(client, owner, repo):
    Doi.objects.mint(
        repo=repo, user=owner, creators=AUTHOR, consent_text="Consent", consent_version="test"
    )
    client.force_login(owner)
    html = client.get(repo.url("settings")).content.decode()
    assert "Registering at DataCite…" in html
    assert "Retry now" not in html


def test_retry_now_registers_at_once_once_datacite_is_back(
    retry_now, owner, repo, waiting, datacite
):
    response = retry_now(owner, waiting)
    assert response.status_code == 302
    assert response.url == repo.url("settings") + "#doi-section"
    waiting.refresh_from_db()
    assert waiting.state == "findable" and waiting.last_error == ""
    assert datacite.state(waiting.doi) == "findable"
    event = Event.objects.get(kind=Event.Kind.RETRIED)
    assert (event.doi, event.actor) == (waiting, owner)
    assert event.message.startswith("After: DataCite is not working properly right now (HTTP 503)")


@pytest.mark.django_db(transaction=True)
def test_retry_now_with_htmx_shows_the_result(client, owner, waiting):
    """Outside a test transaction the immediate backend pushes before the section is made."""
    client.force_login(owner)
    headers = {"HX-Request": "true", "HX-Target": "doi-section"}
    html = client.post(url(waiting), headers=headers).content.decode()
    assert html.lstrip().startswith('<div id="doi-section"')
    assert f"{waiting.doi} is registered at DataCite and findable." in html
    assert f'action="{url(waiting)}"' not in html
    assert f'action="{url(waiting.concept)}"' in html  # still waiting: it failed too


def test_an_org_admin_can_retry_now(retry_now, owner, org, datacite, mint):
    from tests.factories import MembershipFactory, UserFactory

    repo = RepoFactory(namespace=org.namespace, name="shared")
    commit_files(repo, owner, {"a.txt": "a"})
    datacite.fail("503", "503")
    waiting = mint(repo)
    admin = UserFactory(username="dinah", full_name="Dinah Admin")
    MembershipFactory(organization=org, user=admin, role="admin")
    assert retry_now(admin, waiting).status_code == 302
    waiting.refresh_from_db()
    assert waiting.state == "findable"
    assert Event.objects.get(kind=Event.Kind.RETRIED).actor == admin


@pytest.mark.parametrize("member", ["writer", "reader"])
def test_org_members_below_admin_cannot_retry_now(
    retry_now, request, owner, org, datacite, mint, member
):
    repo = RepoFactory(namespace=org.namespace, name="shared")
    commit_files(repo, owner, {"a.txt": "a"})
    datacite.fail("503", "503")
    waiting = mint(repo)
    puts = len(datacite.requests)
    assert retry_now(request.getfixturevalue(member), waiting).status_code == 403
    waiting.refresh_from_db()
    assert waiting.waiting_to_retry
    assert len(datacite.requests) == puts
    assert not Event.objects.filter(kind=Event.Kind.RETRIED).exists()


def test_a_stranger_cannot_retry_now(retry_now, stranger, waiting, datacite):
    puts = len(datacite.requests)
    assert retry_now(stranger, waiting).status_code == 403
    waiting.refresh_from_db()
    assert waiting.waiting_to_retry
    assert len(datacite.requests) == puts


def test_retry_now_can_be_pressed_once_a_minute(client, retry_now, owner, waiting, datacite):
    datacite.fail("503")  # DataCite is still down at the first press
    retry_now(owner, waiting)
    waiting.refresh_from_db()
    assert waiting.waiting_to_retry
    puts = len(datacite.requests)
    html = client.get(waiting.repo.url("settings")).content.decode()
    assert "Retried a moment ago: Retry now can be pressed again at " in html
    assert f'action="{url(waiting)}"' not in html

    headers = {"HX-Request": "true", "HX-Target": "doi-section"}
    html = retry_now(owner, waiting, headers=headers).content.decode()
    assert f"{waiting.doi} was retried less than a minute ago; it can be retried again at " in html
    assert len(datacite.requests) == puts
    assert Event.objects.filter(kind=Event.Kind.RETRIED).count() == 1

    # A minute later it may be pressed again.
    Event.objects.filter(kind=Event.Kind.RETRIED).update(
        created_at=timezone.now() - timedelta(minutes=1)
    )
    retry_now(owner, waiting)
    waiting.refresh_from_db()
    assert waiting.state == "findable"
    assert Event.objects.filter(kind=Event.Kind.RETRIED).count() == 2

"""The staff's desk: the admin's front page lists what is waiting for staff, oldest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from doi.models import Doi
from hubsite.admin import desk
from repos.models import RepoLock
from support.models import SupportRequest
from tests.factories import RepoFactory, UserFactory, commit_files

AUTHOR = [{"type": "Personal", "name": "Alice Liddell"}]


@pytest.fixture(autouse=True)
def _doi_settings(settings):
    settings.DOI_REGISTRAR = "local"
    settings.DOI_CONCEPT_DOIS = False  # one DOI per mint keeps the lists literal
    settings.DOI_QUOTA_PER_USER_PER_DAY = 100
    # Registrations stay pending: nothing runs the queued pushes.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def _repo(owner, name):
    repo = RepoFactory(namespace=owner.namespace, name=name)
    commit_files(repo, owner, {"README.md": f"# {name}\n"})
    return repo


def _mint(repo, owner, *, hours_ago: float = 0) -> Doi:
    """A DOI whose registration is still pending."""
    doi = Doi.objects.mint(
        repo=repo, user=owner, creators=AUTHOR, consent_text="Consent", consent_version="t"
    )
    Doi.objects.filter(repo=repo).update(created_at=timezone.now() - timedelta(hours=hours_ago))
    doi.refresh_from_db()
    return doi


def make_work(owner, staff, n: int = 1) -> dict:
    """``n`` of each kind of item, plus what must not be listed."""
    made: dict[str, list] = {
        "requests": [], "failed": [], "unconfirmed": [], "differing": [], "locked": []
    }  # fmt: skip
    for i in range(n):
        asked = _repo(owner, f"asked-{i}")
        _mint(asked, owner)
        Doi.objects.filter(repo=asked).update(remote_state="findable", pending_action="")
        made["requests"].append(
            SupportRequest.file(repo=asked, requester=owner, action="delete", reason="Wrong.")
        )
        failed = _mint(_repo(owner, f"failed-{i}"), owner, hours_ago=3 + i)
        Doi.objects.filter(repo=failed.repo).update(
            error_is_permanent=True, last_error="DataCite rejected the metadata (url — Blank)"
        )
        made["failed"].append(failed)
        made["unconfirmed"].append(_mint(_repo(owner, f"stuck-{i}"), owner, hours_ago=2 + i))
        edited = _mint(_repo(owner, f"edited-{i}"), owner)
        Doi.objects.filter(pk=edited.pk).update(
            remote_state="findable",
            pending_action="",
            remote_differences="titles",
            differs_since=timezone.now() - timedelta(hours=5 + i),
        )
        made["differing"].append(edited)
        gone = _repo(owner, f"gone-{i}")
        for doi in Doi.objects.filter(repo=_mint(gone, owner).repo).order_by("-number"):
            doi.discard(actor=staff)
        RepoLock.objects.create(repo=gone, reason="DOI", holder="doi:10.5072/left-behind")
        made["locked"].append(gone)
    _mint(_repo(owner, "fresh"), owner, hours_ago=0.5)  # not an hour yet: not listed
    return made


@pytest.fixture
def work(owner, staff):
    return make_work(owner, staff)


def test_the_admin_carries_the_hub_s_name(client, staff, settings):
    settings.SITE_NAME = "Wonderland Hub"
    client.force_login(staff)
    html = client.get(reverse("admin:index")).content.decode()
    assert "<title>Staff desk | Wonderland Hub admin</title>" in html
    assert "Wonderland Hub staff" in html
    assert "Django administration" not in html


def test_it_lists_what_needs_doing_with_age_and_link(client, staff, work):
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    html = response.content.decode()
    piles = {p.title: p for p in response.context["desk"]}

    requests = piles["Support requests: delete the repository"]
    request = work["requests"][0]
    assert requests.count == 1
    assert requests.items[0].url == reverse(
        "admin:support_supportrequest_change", args=[request.pk]
    )
    assert f"#{request.pk} Delete alice/asked-0" in html
    assert piles["Support requests: rename or move"].count == 0

    failed = piles["DOIs whose registration or update failed for good"]
    assert [i.label for i in failed.items] == [d.doi for d in work["failed"]]
    assert "so the hub has stopped trying" in failed.items[0].detail

    unconfirmed = piles["DOIs DataCite has not confirmed after an hour"]
    assert [i.label for i in unconfirmed.items] == [d.doi for d in work["unconfirmed"]]
    assert "2\xa0hours ago" in html

    locked = piles["Repositories still locked though all their DOIs were discarded"]
    assert [i.label for i in locked.items] == ["alice/gone-0"]
    assert locked.items[0].url == reverse("admin:repos_repo_change", args=[work["locked"][0].pk])
    differing = piles["DOIs whose metadata at DataCite differs from the hub's"]
    assert [i.label for i in differing.items] == [d.doi for d in work["differing"]]
    assert differing.items[0].detail == "alice/edited-0: DataCite holds different titles"
    assert "5\xa0hours ago" in html
    assert response.context["desk_total"] == 5


def test_oldest_comes_first(owner, staff):
    made = make_work(owner, staff, n=3)
    piles = {p.title: p for p in desk(staff)}
    failed = piles["DOIs whose registration or update failed for good"].items
    assert [i.label for i in failed] == [d.doi for d in reversed(made["failed"])]
    assert failed[0].since < failed[1].since < failed[2].since


def test_its_counts_cost_a_fixed_number_of_queries(owner, staff, django_assert_max_num_queries):
    make_work(owner, staff, n=1)
    with CaptureQueriesContext(connection) as few:
        desk(staff)
    make_work(UserFactory(username="dinah"), staff, n=4)
    with django_assert_max_num_queries(len(few)) as many:
        piles = desk(staff)
    assert len(many) == len(few) == 12
    assert sum(p.count for p in piles) == 5 * 5


def test_it_says_when_nothing_is_waiting(client, staff):
    client.force_login(staff)
    assert "Nothing is waiting for staff." in client.get(reverse("admin:index")).content.decode()


def test_it_shows_only_what_the_staff_member_may_see(client, work):
    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    response = client.get(reverse("admin:index"))
    assert response.context["desk"] == []

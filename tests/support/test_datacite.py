"""What carrying out a support request sends to DataCite (the local DataCite-like server), and what
happens when DataCite fails meanwhile: the local change stands, the DOI change stays pending and
is retried by ``doi_sync`` until DataCite confirms it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from doi.models import Doi
from repos.models import Repo
from support.models import SupportRequest
from tests.datacite_server import datacite  # noqa: F401  (the fixture)


@pytest.fixture
def registered(datacite, repo, mint):  # noqa: F811
    """alice/bert with a version and a concept DOI, both findable at DataCite."""
    mint(repo)
    dois = list(Doi.objects.filter(repo=repo).order_by("number"))
    assert [datacite.state(d.doi) for d in dois] == ["findable", "findable"]
    datacite.requests.clear()
    return repo


def _carry_out(repo, owner, staff, run_on_commit, action="delete", **kwargs):
    request = SupportRequest.file(
        repo=repo, requester=owner, action=action, reason="Because.", **kwargs
    )
    with run_on_commit():
        request.carry_out(staff, public_reason="Withdrawn.")
    return request


def _puts(datacite):  # noqa: F811
    return [(r["doi"], r["fault"]) for r in datacite.requests if r["method"] == "PUT"]


def test_a_deletion_hides_each_doi_at_datacite_once(
    datacite,  # noqa: F811
    registered,
    owner,
    staff,
    run_on_commit,
):
    request = _carry_out(registered, owner, staff, run_on_commit)
    assert sorted(_puts(datacite)) == [("10.5072/hub/0001", None), ("10.5072/hub/0002", None)]
    for doi in ("10.5072/hub/0001", "10.5072/hub/0002"):
        assert datacite.state(doi) == "registered"
        # The metadata stays, for the tombstone and for anyone who resolves the DOI.
        assert datacite.attributes(doi)["titles"] == [{"title": "bert"}]
    assert {d.state for d in Doi.objects.filter(repo=registered)} == {"hidden"}
    # Carrying it out again sends nothing.
    with run_on_commit():
        assert request.carry_out(staff) is False
    assert len(_puts(datacite)) == 2


def test_a_move_updates_the_metadata_but_not_the_url(
    datacite,  # noqa: F811
    registered,
    owner,
    org,
    staff,
    run_on_commit,
):
    _carry_out(
        registered,
        owner,
        staff,
        run_on_commit,
        "rename",
        new_name="bert-base",
        new_namespace=org.namespace,
    )
    assert len(_puts(datacite)) == 2
    for doi in ("10.5072/hub/0001", "10.5072/hub/0002"):
        attributes = datacite.attributes(doi)
        assert datacite.state(doi) == "findable"
        assert attributes["titles"] == [{"title": "bert-base"}]
        assert attributes["url"] == f"https://hub.example.org/doi/{doi}"


def test_visibility_hides_then_publishes_again(
    datacite,  # noqa: F811
    registered,
    owner,
    staff,
    run_on_commit,
):
    _carry_out(registered, owner, staff, run_on_commit, "visibility", target_visibility="private")
    assert {datacite.state(d) for d in ("10.5072/hub/0001", "10.5072/hub/0002")} == {"registered"}
    registered.refresh_from_db()
    _carry_out(registered, owner, staff, run_on_commit, "visibility", target_visibility="public")
    assert {datacite.state(d) for d in ("10.5072/hub/0001", "10.5072/hub/0002")} == {"findable"}
    assert len(_puts(datacite)) == 4


def test_datacite_down_leaves_the_change_pending_until_doi_sync_gets_it_through(
    datacite,  # noqa: F811
    registered,
    owner,
    staff,
    client,
    run_on_commit,
):
    datacite.go_down()
    request = SupportRequest.file(
        repo=registered, requester=owner, action="delete", reason="Because."
    )
    client.force_login(staff)
    with run_on_commit():
        response = client.post(
            reverse("admin:support_supportrequest_approve", args=[request.pk]),
            {"confirm": "yes", "public_reason": "Withdrawn."},
            follow=True,
        )
    messages = [str(m) for m in response.context["messages"]]
    assert f"Request #{request.pk} carried out: Delete alice/bert." in messages
    assert any("DataCite has not confirmed the change yet" in m for m in messages)
    # The local change stands; the DOIs wait to be hidden, and staff see why.
    assert Repo.objects.get(pk=registered.pk).is_removed
    dois = list(Doi.objects.filter(repo=registered))
    assert {(d.pending_action, d.state_label) for d in dois} == {
        ("hide", "Findable — update pending")
    }
    assert all("DataCite could not be reached" in d.last_error for d in dois)
    change_page = reverse("admin:support_supportrequest_change", args=[request.pk])
    html = client.get(change_page).content.decode()
    assert "Findable — update pending" in html
    assert "DataCite could not be reached, so the hub will try again automatically at" in html

    datacite.come_back()
    # Time passes until the retry is due.
    Doi.objects.filter(repo=registered).update(next_attempt_at=timezone.now())
    call_command("doi_sync", quiet=True)
    assert {datacite.state(d.doi) for d in dois} == {"registered"}
    assert {(d.state, d.pending_action) for d in Doi.objects.filter(repo=registered)} == {
        ("hidden", "")
    }

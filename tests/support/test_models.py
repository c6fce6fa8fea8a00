"""SupportRequest's domain methods: opening, rejecting and carrying out, with their effects."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from doi.models import Doi, Event
from hubsite.quotas import try_again
from repos.models import Repo, RepoLocked, RepoRedirect
from support.models import AlreadyOpen, RequestEvent, SupportRequest, SupportRequestError
from tests.factories import RepoFactory, UserFactory

Action = SupportRequest.Action
Status = SupportRequest.Status


def _open(repo, user, action=Action.DELETE, **kwargs):
    kwargs.setdefault("reason", "The data turned out to be licensed wrongly.")
    return SupportRequest.file(repo=repo, requester=user, action=action, **kwargs)


def _staff():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Support staff"))
    return user


def _kinds(repo):
    return list(RequestEvent.objects.filter(request__repo=repo).values_list("kind", flat=True))


# Opening ------------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_opening_records_an_event_and_emails_requester_and_support(
    locked, owner, mailoutbox, run_on_commit
):
    with run_on_commit():
        request = _open(locked, owner)
    assert (request.status, request.repo_name) == (Status.OPEN, "alice/bert")
    assert _kinds(locked) == [RequestEvent.Kind.OPENED]
    event = RequestEvent.objects.get(kind=RequestEvent.Kind.OPENED)
    assert event.actor == owner
    assert event.message == f"Request #{request.pk}: Delete alice/bert."
    assert sorted(m.to[0] for m in mailoutbox) == ["alice@example.org", "support@hub.example.org"]
    to_owner = next(m for m in mailoutbox if m.to == ["alice@example.org"])
    assert f"https://hub.example.org/support/{request.pk}" in to_owner.body
    assert to_owner.subject == f"[BOINC AI Hub] Support request #{request.pk}: Delete alice/bert"
    to_staff = next(m for m in mailoutbox if m.to == ["support@hub.example.org"])
    assert f"https://hub.example.org/admin/support/supportrequest/{request.pk}/change/" in (
        to_staff.body
    )
    assert "licensed wrongly" in to_staff.body


def test_only_administrators_can_open_a_request(locked, stranger, org, writer):
    with pytest.raises(PermissionDenied):
        _open(locked, stranger)
    org_repo = RepoFactory(namespace=org.namespace, name="rabbit")
    with pytest.raises(PermissionDenied):
        _open(org_repo, writer)
    assert not SupportRequest.objects.exists()


def test_a_repository_that_is_not_locked_needs_no_request(repo, owner):
    with pytest.raises(ValidationError, match="not locked"):
        _open(repo, owner)


def test_a_second_open_request_for_the_same_action_is_refused(locked, owner):
    first = _open(locked, owner)
    with pytest.raises(AlreadyOpen) as raised:
        _open(locked, owner)
    assert raised.value.existing == first
    # Another action is another request; a closed one makes room for a new one.
    _open(locked, owner, Action.VISIBILITY, target_visibility="private")
    first.reject(_staff(), "Not now.")
    assert _open(locked, owner).pk != first.pk


def test_a_reason_is_required(locked, owner):
    with pytest.raises(ValidationError, match="Say why"):
        _open(locked, owner, reason="   ")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("taken", "already has a model named"),
        ("bert", "current name"),
        ("no spaces", "Use only letters"),
    ],
)
def test_rename_targets_are_checked_when_opening(locked, owner, name, message):
    RepoFactory(namespace=owner.namespace, name="taken")
    with pytest.raises(ValidationError, match=message) as raised:
        _open(locked, owner, Action.RENAME, new_name=name, new_namespace=owner.namespace)
    assert "new_name" in raised.value.message_dict


def test_a_move_only_goes_to_an_owner_the_requester_administers(locked, owner, stranger):
    with pytest.raises(PermissionDenied):
        _open(locked, owner, Action.RENAME, new_name="bert", new_namespace=stranger.namespace)


def test_visibility_must_change(locked, owner):
    with pytest.raises(ValidationError, match="already public"):
        _open(locked, owner, Action.VISIBILITY, target_visibility="public")
    with pytest.raises(ValidationError, match="private or public"):
        _open(locked, owner, Action.VISIBILITY, target_visibility="hidden")


# Carrying out ------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_carrying_out_a_deletion_keeps_a_tombstone_and_hides_the_dois(
    locked, owner, staff, mailoutbox, run_on_commit
):
    request = _open(locked, owner)
    mailoutbox.clear()
    with run_on_commit():
        assert request.carry_out(staff, public_reason="Withdrawn by its authors.") is True
    repo = Repo.objects.get(pk=locked.pk)
    assert repo.is_removed and repo.removal_reason == "Withdrawn by its authors."
    assert not repo.revisions.exists()
    # The lock stays: registered DOIs never release it, and the name stays reserved.
    assert repo.is_locked
    assert {d.state for d in Doi.objects.filter(repo=repo)} == {"hidden"}
    assert (request.status, request.handled_by, request.public_reason) == (
        Status.CARRIED_OUT,
        staff,
        "Withdrawn by its authors.",
    )
    assert request.carried_out_at == request.handled_at
    assert _kinds(repo) == [
        RequestEvent.Kind.CARRIED_OUT,
        RequestEvent.Kind.APPROVED,
        RequestEvent.Kind.OPENED,
    ]
    assert Event.objects.filter(repo=repo, kind=Event.Kind.HIDDEN).count() == 2
    [mail] = mailoutbox
    assert mail.to == ["alice@example.org"] and "carried out" in mail.subject


def test_carrying_out_a_move_redirects_and_refreshes_the_doi_metadata(
    locked, owner, org, staff, run_on_commit
):
    request = _open(locked, owner, Action.RENAME, new_name="bert-base", new_namespace=org.namespace)
    with run_on_commit():
        request.carry_out(staff)
    repo = Repo.objects.get(pk=locked.pk)
    assert repo.full_name == "wonderland/bert-base"
    assert RepoRedirect.objects.get(owner="alice", name="bert").repo == repo
    for doi in Doi.objects.filter(repo=repo):
        assert doi.state == "findable" and not doi.pending_action
        assert doi.metadata["titles"] == [{"title": "bert-base"}]
        # The registered URL never changes: /doi/<doi> follows the repository.
        assert doi.metadata["url"] == f"https://hub.example.org/doi/{doi.doi}"
    assert request.summary == "Rename or move alice/bert to wonderland/bert-base"


def test_carrying_out_a_visibility_change_hides_then_shows_the_dois(
    locked, owner, staff, run_on_commit
):
    to_private = _open(locked, owner, Action.VISIBILITY, target_visibility="private")
    with run_on_commit():
        to_private.carry_out(staff)
    locked.refresh_from_db()
    assert locked.private
    assert {d.state for d in Doi.objects.filter(repo=locked)} == {"hidden"}

    to_public = _open(locked, owner, Action.VISIBILITY, target_visibility="public")
    with run_on_commit():
        to_public.carry_out(staff)
    locked.refresh_from_db()
    assert not locked.private
    assert {d.state for d in Doi.objects.filter(repo=locked)} == {"findable"}
    assert Event.objects.filter(repo=locked, kind=Event.Kind.SHOWN).count() == 2


def test_carrying_out_twice_does_it_once(locked, owner, org, staff, mailoutbox, run_on_commit):
    request = _open(locked, owner, Action.RENAME, new_name="bert2", new_namespace=org.namespace)
    mailoutbox.clear()
    with run_on_commit():
        assert request.carry_out(staff) is True
    stale = SupportRequest.objects.get(pk=request.pk)
    stale.status = Status.OPEN  # what a second browser tab still believes
    with run_on_commit():
        assert stale.carry_out(staff) is False
    assert stale.status == Status.CARRIED_OUT
    assert _kinds(locked).count(RequestEvent.Kind.CARRIED_OUT) == 1
    assert RepoRedirect.objects.filter(repo=locked).count() == 1
    assert len(mailoutbox) == 1


def test_a_taken_name_stops_the_move_and_changes_nothing(locked, owner, staff, run_on_commit):
    request = _open(locked, owner, Action.RENAME, new_name="gpt", new_namespace=owner.namespace)
    RepoFactory(namespace=owner.namespace, name="GPT")  # taken after the request was opened
    events = Event.objects.count() + RequestEvent.objects.count()
    with (
        pytest.raises(SupportRequestError, match="already has a model named") as raised,
        run_on_commit(),
    ):
        request.carry_out(staff)
    assert "Nothing was changed; the request stays open." in raised.value.message
    assert Repo.objects.get(pk=locked.pk).full_name == "alice/bert"
    assert SupportRequest.objects.get(pk=request.pk).status == Status.OPEN
    assert Event.objects.count() + RequestEvent.objects.count() == events
    assert not Doi.objects.filter(repo=locked).exclude(pending_action="").exists()


def test_only_staff_carry_out_or_reject(locked, owner):
    request = _open(locked, owner)
    with pytest.raises(PermissionDenied):
        request.carry_out(owner)
    with pytest.raises(PermissionDenied):
        request.reject(owner, "No.")
    assert SupportRequest.objects.get(pk=request.pk).status == Status.OPEN
    assert not Repo.objects.get(pk=locked.pk).is_removed


def test_staff_without_the_permissions_cannot_carry_out_or_reject(locked, owner, view_only_staff):
    request = _open(locked, owner)
    with pytest.raises(PermissionDenied, match="carry out support requests"):
        request.carry_out(view_only_staff)
    with pytest.raises(PermissionDenied, match="reject support requests"):
        request.reject(view_only_staff, "No.")
    assert SupportRequest.objects.get(pk=request.pk).status == Status.OPEN
    assert not Repo.objects.get(pk=locked.pk).is_removed
    assert _kinds(locked) == ["opened"]


def test_support_staff_carry_out_and_reject(locked, owner, support_staff, run_on_commit):
    delete = _open(locked, owner)
    hide = _open(locked, owner, Action.VISIBILITY, target_visibility="private")
    assert hide.reject(support_staff, "Cited in a paper.")
    with run_on_commit():
        assert delete.carry_out(support_staff, public_reason="Withdrawn.")
    assert Repo.objects.get(pk=locked.pk).is_removed


def test_rejecting_needs_a_note_and_emails_the_requester(
    locked, owner, staff, mailoutbox, run_on_commit
):
    request = _open(locked, owner)
    mailoutbox.clear()
    with pytest.raises(ValidationError):
        request.reject(staff, "  ")
    with run_on_commit():
        assert request.reject(staff, "The DOI is cited in a paper.") is True
        assert request.reject(staff, "Again.") is False
    request.refresh_from_db()
    assert (request.status, request.staff_note, request.handled_by) == (
        Status.REJECTED,
        "The DOI is cited in a paper.",
        staff,
    )
    assert not Repo.objects.get(pk=locked.pk).is_removed
    [mail] = mailoutbox
    assert "rejected" in mail.subject and "cited in a paper" in mail.body


def test_a_rejected_request_cannot_be_carried_out(locked, owner, staff):
    request = _open(locked, owner)
    request.reject(staff, "No.")
    with pytest.raises(SupportRequestError, match="was rejected"):
        request.carry_out(staff)
    assert not Repo.objects.get(pk=locked.pk).is_removed


def test_after_carrying_out_the_lock_still_holds_for_everyone_else(locked, owner, staff):
    _open(locked, owner, Action.VISIBILITY, target_visibility="private").carry_out(staff)
    locked.refresh_from_db()
    with pytest.raises(RepoLocked):
        locked.set_private(False)


@pytest.mark.django_db(transaction=True)
def test_two_staff_members_at_once_carry_it_out_once(locked, owner, staff, org):
    request = _open(locked, owner, Action.RENAME, new_name="bert2", new_namespace=org.namespace)
    other_staff = _staff()
    start = threading.Barrier(2)
    results = []

    def click(user):
        try:
            start.wait()
            results.append(SupportRequest.objects.get(pk=request.pk).carry_out(user))
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(u,)) for u in (staff, other_staff)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert _kinds(locked).count(RequestEvent.Kind.CARRIED_OUT) == 1
    assert RepoRedirect.objects.filter(repo=locked).count() == 1


def test_a_deletion_without_a_public_reason_gets_the_default_one(locked, owner, staff):
    _open(locked, owner).carry_out(staff)
    assert Repo.objects.get(pk=locked.pk).removal_reason == "Removed at the request of its owner."


# Quota --------------------------------------------------------------------------------------------


def test_a_user_files_no_more_requests_in_a_day_than_the_quota(locked, owner, settings):
    settings.SUPPORT_REQUESTS_PER_USER_PER_DAY = 2
    first = _open(locked, owner, Action.DELETE)
    _open(locked, owner, Action.VISIBILITY, target_visibility="private")
    with pytest.raises(ValidationError) as refused:
        _open(locked, owner, Action.RENAME, new_name="bert-2", new_namespace=owner.namespace)
    (message,) = refused.value.message_dict["__all__"]
    assert message.startswith("You filed 2 support requests in the last 24 hours")
    assert try_again(first.created_at + timedelta(days=1)) in message
    assert "support@hub.example.org" in message
    assert SupportRequest.objects.count() == 2
    # A day after the first, there is room again.
    SupportRequest.objects.filter(pk=first.pk).update(
        created_at=first.created_at - timedelta(days=1)
    )
    _open(locked, owner, Action.RENAME, new_name="bert-2", new_namespace=owner.namespace)
    assert SupportRequest.objects.count() == 3

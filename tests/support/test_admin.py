"""Staff handling support requests in the Django admin."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from repos.models import Repo
from support.models import SupportRequest
from tests.factories import RepoFactory

CHANGELIST = reverse("admin:support_supportrequest_changelist")


def _open(repo, user, action="delete", **kwargs):
    return SupportRequest.file(
        repo=repo, requester=user, action=action, reason="Wrong licence.", **kwargs
    )


def _change(request):
    return reverse("admin:support_supportrequest_change", args=[request.pk])


def _approve(request):
    return reverse("admin:support_supportrequest_approve", args=[request.pk])


def _reject(request):
    return reverse("admin:support_supportrequest_reject", args=[request.pk])


def _messages(response):
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def test_the_queue_filters_and_searches(admin_client, owner, staff, locked):
    request = _open(locked, owner)
    other = _open(locked, owner, "visibility", target_visibility="private")
    html = admin_client.get(CHANGELIST).content.decode()
    assert f"#{request.pk} Delete alice/bert" in html and f"#{other.pk} Make" in html
    html = admin_client.get(CHANGELIST, {"action__exact": "delete"}).content.decode()
    assert f"#{request.pk} Delete" in html and f"#{other.pk} Make" not in html
    other.reject(staff, "No.")
    html = admin_client.get(CHANGELIST, {"status__exact": "open"}).content.decode()
    assert f"#{request.pk} Delete" in html and f"#{other.pk} Make" not in html
    for query in ("10.5072/hub/0002", "alice", "bert"):
        assert (
            f"#{request.pk} Delete" in admin_client.get(CHANGELIST, {"q": query}).content.decode()
        )
    assert (
        f"#{request.pk} Delete" not in admin_client.get(CHANGELIST, {"q": "zzz"}).content.decode()
    )


@pytest.mark.smoke
def test_the_request_page_shows_the_dois_the_trail_and_the_actions(admin_client, owner, locked):
    request = _open(locked, owner)
    html = admin_client.get(_change(request)).content.decode()
    assert "10.5072/hub/0001" in html and "10.5072/hub/0002" in html
    assert "Findable" in html
    assert "Support request opened" in html
    assert f'href="{_approve(request)}">Approve and carry out' in html
    assert f'href="{_reject(request)}">Reject' in html
    assert 'name="_save"' not in html


def test_approving_a_deletion_asks_for_the_public_reason(admin_client, owner, locked):
    request = _open(locked, owner)
    response = admin_client.get(_approve(request))
    assert response.status_code == 200
    assert "Public reason" in response.content.decode()
    response = admin_client.post(_approve(request), {"confirm": "yes", "public_reason": ""})
    assert response.status_code == 200  # the form again, with its error
    assert "This field is required." in response.content.decode()
    assert not Repo.objects.get(pk=locked.pk).is_removed


def test_approve_and_carry_out(admin_client, owner, staff, locked, run_on_commit):
    request = _open(locked, owner)
    with run_on_commit():
        response = admin_client.post(
            _approve(request),
            {"confirm": "yes", "public_reason": "Withdrawn.", "note": "Done as asked."},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == _change(request)
    assert f"Request #{request.pk} carried out: Delete alice/bert." in _messages(response)
    request.refresh_from_db()
    assert (request.status, request.handled_by, request.staff_note) == (
        "carried_out",
        staff,
        "Done as asked.",
    )
    repo = Repo.objects.get(pk=locked.pk)
    assert repo.is_removed and repo.removal_reason == "Withdrawn."
    html = response.content.decode()
    assert "Support request carried out" in html and "Approve and carry out" not in html
    # A second click finds it handled and does nothing.
    response = admin_client.post(_approve(request), {"confirm": "yes"}, follow=True)
    assert f"Request #{request.pk} was already handled." in _messages(response)


def test_a_taken_name_is_shown_to_staff_and_nothing_changes(admin_client, owner, locked):
    request = _open(locked, owner, "rename", new_name="gpt", new_namespace=owner.namespace)
    RepoFactory(namespace=owner.namespace, name="gpt")
    response = admin_client.post(_approve(request), {"confirm": "yes"}, follow=True)
    [message] = _messages(response)
    assert "alice/bert was not moved: alice already has a model named “gpt”." in message
    assert "Nothing was changed; the request stays open." in message
    assert Repo.objects.get(pk=locked.pk).full_name == "alice/bert"
    assert SupportRequest.objects.get(pk=request.pk).status == "open"


def test_rejecting_needs_a_note(admin_client, owner, locked):
    request = _open(locked, owner)
    assert "Why it is rejected" in admin_client.get(_reject(request)).content.decode()
    response = admin_client.post(_reject(request), {"confirm": "yes", "note": ""})
    assert "This field is required." in response.content.decode()
    assert SupportRequest.objects.get(pk=request.pk).status == "open"
    response = admin_client.post(
        _reject(request), {"confirm": "yes", "note": "Cited in a paper."}, follow=True
    )
    assert f"Request #{request.pk} rejected." in _messages(response)
    request.refresh_from_db()
    assert (request.status, request.staff_note) == ("rejected", "Cited in a paper.")


def test_the_changelist_actions_confirm_first(admin_client, owner, locked, run_on_commit):
    delete = _open(locked, owner)
    hide = _open(locked, owner, "visibility", target_visibility="private")
    selected = {"action": "reject_selected", ACTION_CHECKBOX_NAME: [delete.pk]}
    response = admin_client.post(CHANGELIST, selected)
    assert response.status_code == 200 and "Why it is rejected" in response.content.decode()
    admin_client.post(CHANGELIST, {**selected, "confirm": "yes", "note": "No."})
    assert SupportRequest.objects.get(pk=delete.pk).status == "rejected"

    selected = {"action": "approve_selected", ACTION_CHECKBOX_NAME: [hide.pk]}
    response = admin_client.post(CHANGELIST, selected)
    assert "Public reason" not in response.content.decode()  # not a deletion
    with run_on_commit():
        admin_client.post(CHANGELIST, {**selected, "confirm": "yes"})
    assert SupportRequest.objects.get(pk=hide.pk).status == "carried_out"
    assert Repo.objects.get(pk=locked.pk).private


def test_requests_are_neither_added_nor_deleted_in_the_admin(admin_client, owner, locked):
    request = _open(locked, owner)
    assert admin_client.get(reverse("admin:support_supportrequest_add")).status_code == 403
    delete_url = reverse("admin:support_supportrequest_delete", args=[request.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert SupportRequest.objects.filter(pk=request.pk).exists()


def test_non_staff_cannot_reach_the_staff_actions(client, owner, locked):
    request = _open(locked, owner)
    client.force_login(owner)
    response = client.post(_approve(request), {"confirm": "yes", "public_reason": "x"})
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert not Repo.objects.get(pk=locked.pk).is_removed


# Permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "extra"),
    [("approve_selected", {"public_reason": "Withdrawn."}), ("reject_selected", {"note": "No."})],
)
def test_view_only_staff_cannot_run_the_actions(
    client, view_only_staff, owner, locked, action, extra
):
    request = _open(locked, owner)
    client.force_login(view_only_staff)
    selected = {"action": action, ACTION_CHECKBOX_NAME: [request.pk]}
    assert f'value="{action}"' not in client.get(CHANGELIST).content.decode()
    for data in (selected, {**selected, "confirm": "yes", **extra}):
        response = client.post(CHANGELIST, data, follow=True)
        assert response.redirect_chain[-1][0] == CHANGELIST
        [message] = _messages(response)
        assert "You do not have the permission to run" in message
        assert "nothing was changed" in message
    assert SupportRequest.objects.get(pk=request.pk).status == "open"
    assert not Repo.objects.get(pk=locked.pk).is_removed


@pytest.mark.parametrize(
    ("url", "what"), [(_approve, "approve and carry out"), (_reject, "reject")]
)
def test_view_only_staff_cannot_use_the_approve_and_reject_pages(
    client, view_only_staff, owner, locked, url, what
):
    request = _open(locked, owner)
    client.force_login(view_only_staff)
    html = client.get(_change(request)).content.decode()
    assert "Support request opened" in html  # they do see the request
    assert _approve(request) not in html and _reject(request) not in html
    for response in (
        client.get(url(request), follow=True),
        client.post(
            url(request),
            {"confirm": "yes", "public_reason": "Withdrawn.", "note": "No."},
            follow=True,
        ),
    ):
        assert response.redirect_chain[-1][0] == _change(request)
        assert _messages(response) == [
            f"You do not have the permission to {what} support requests; nothing was changed."
        ]
    assert SupportRequest.objects.get(pk=request.pk).status == "open"
    assert not Repo.objects.get(pk=locked.pk).is_removed


def test_support_staff_approve_and_carry_out(client, support_staff, owner, locked, run_on_commit):
    request = _open(locked, owner)
    client.force_login(support_staff)
    html = client.get(_change(request)).content.decode()
    assert _approve(request) in html and _reject(request) in html
    with run_on_commit():
        response = client.post(
            _approve(request), {"confirm": "yes", "public_reason": "Withdrawn."}, follow=True
        )
    assert f"Request #{request.pk} carried out: Delete alice/bert." in _messages(response)
    assert Repo.objects.get(pk=locked.pk).is_removed


# Everything to decide on, on the request's page ---------------------------------------------


def test_the_request_page_says_exactly_what_approving_does(admin_client, owner, locked):
    request = _open(locked, owner)
    html = admin_client.get(_change(request)).content.decode()
    assert "alice/bert&#x27;s files and 1 revision(s) are deleted" in html
    assert "DOIs hidden at DataCite (they keep resolving to a tombstone): " in html
    assert "10.5072/hub/0001, 10.5072/hub/0002." in html
    assert "The tombstone will say: “Removed at the request of its owner.”" in html


def test_a_move_names_where_it_goes_and_which_dois_are_updated(admin_client, owner, org, locked):
    request = _open(locked, owner, "rename", new_namespace=org.namespace, new_name="bert2")
    html = admin_client.get(_change(request)).content.decode()
    assert "alice/bert moves to wonderland/bert2; its old addresses redirect" in html
    assert "updated with the new name: 10.5072/hub/0001, 10.5072/hub/0002." in html


def test_the_request_page_shows_the_repository_its_owner_and_members(
    admin_client, owner, org, writer, mint
):
    repo = RepoFactory(namespace=org.namespace, name="reviews")
    from tests.factories import commit_files

    commit_files(repo, owner, {"README.md": "# Reviews\n"})
    mint(repo)
    request = _open(repo, owner, "visibility", target_visibility="private")
    html = admin_client.get(_change(request)).content.decode()
    assert f'<a href="{repo.get_absolute_url()}">wonderland/reviews</a> (public)' in html
    assert "(organization)" in html
    assert "alice (Alice Liddell) — Admin" in html and "bob (Bob Writer) — Write" in html
    assert "wonderland/reviews becomes private." in html


def test_the_request_page_lists_earlier_requests_about_the_repository(
    admin_client, owner, staff, locked
):
    earlier = _open(locked, owner, "visibility", target_visibility="private")
    earlier.reject(staff, "Not now.")
    request = _open(locked, owner)
    html = admin_client.get(_change(request)).content.decode()
    assert f'href="{_change(earlier)}">#{earlier.pk} Make alice/bert private</a> — Rejected' in html
    assert "None." not in html.split("Earlier requests")[1].split("</fieldset>")[0]


# Replying without deciding -------------------------------------------------------------------


def _reply(request):
    return reverse("admin:support_supportrequest_reply", args=[request.pk])


def test_staff_reply_without_deciding(
    admin_client, client, owner, staff, locked, mailoutbox, run_on_commit
):
    request = _open(locked, owner)
    mailoutbox.clear()
    assert f'href="{_reply(request)}">Reply to the requester' in (
        admin_client.get(_change(request)).content.decode()
    )
    assert "Reply to the requester" in admin_client.get(_reply(request)).content.decode()
    with run_on_commit():
        response = admin_client.post(
            _reply(request), {"note": "Which licence should it have had?"}, follow=True
        )
    assert f"Reply sent to {owner.username}; the request stays open." in _messages(response)
    request.refresh_from_db()
    assert request.is_open and request.handled_by is None
    event = request.events.get(kind="replied")
    assert (event.actor, event.message) == (staff, "Which licence should it have had?")
    [mail] = mailoutbox
    assert mail.to == [owner.email]
    assert "Which licence should it have had?" in mail.body
    assert "nothing was decided or changed" in mail.body

    client.force_login(owner)
    page = client.get(request.get_absolute_url()).content.decode()
    assert "Staff replied" in page and "Which licence should it have had?" in page


def test_an_empty_reply_is_refused_and_nothing_is_sent(admin_client, owner, locked, mailoutbox):
    request = _open(locked, owner)
    mailoutbox.clear()
    response = admin_client.post(_reply(request), {"note": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not request.events.filter(kind="replied").exists() and mailoutbox == []


def test_staff_without_the_permission_cannot_reply(client, owner, locked, mailoutbox):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_supportrequest"))
    request = _open(locked, owner)
    mailoutbox.clear()
    client.force_login(viewer)
    response = client.post(_reply(request), {"note": "Hello"}, follow=True)
    assert "You do not have the permission to reply to support requests" in " ".join(
        _messages(response)
    )
    assert not request.events.filter(kind="replied").exists() and mailoutbox == []


def test_a_stranger_cannot_reach_the_reply_page(client, stranger, owner, locked):
    request = _open(locked, owner)
    client.force_login(stranger)
    response = client.get(_reply(request))
    assert response.status_code == 302 and "/admin/login/" in response.url

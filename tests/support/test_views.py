"""The owner's pages: /support/new, /support/ and /support/<id>."""

from __future__ import annotations

import pytest
from django.urls import reverse

from repos.models import lock_override
from support.models import SupportRequest
from tests.factories import MembershipFactory, RepoFactory, UserFactory, commit_files

NEW = reverse("support:new")
INDEX = reverse("support:index")


def _new(repo, action="delete"):
    return f"{NEW}?repo={repo.pk}&action={action}"


def _open(repo, user, action="delete", **kwargs):
    return SupportRequest.file(
        repo=repo, requester=user, action=action, reason="Because.", **kwargs
    )


# /support/new -------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_the_form_says_what_happens_to_the_dois(client, owner, locked):
    client.force_login(owner)
    response = client.get(_new(locked))
    assert response.status_code == 200
    html = response.content.decode()
    assert "locked by DOI" in html
    assert "Delete the repository" in html
    assert "tombstone with the citation" in html
    assert "10.5072/hub/0002" in html  # the version DOI, listed with its state
    assert '<label for="id_reason">Reason</label>' in html


def test_it_files_the_request_and_shows_it(client, owner, locked, mailoutbox, run_on_commit):
    client.force_login(owner)
    with run_on_commit():
        response = client.post(_new(locked), {"reason": "Wrong licence."}, follow=True)
    request = SupportRequest.objects.get()
    assert response.redirect_chain == [(request.get_absolute_url(), 302)]
    assert (request.action, request.reason, request.requester) == (
        "delete",
        "Wrong licence.",
        owner,
    )
    assert f"Request #{request.pk} sent." in response.content.decode()
    assert len(mailoutbox) == 2


def test_a_rename_offers_the_owners_the_user_administers(client, owner, org, stranger, locked):
    client.force_login(owner)
    html = client.get(_new(locked, "rename")).content.decode()
    assert '<label for="id_new_namespace">New owner</label>' in html
    assert ">wonderland</option>" in html and ">mallory</option>" not in html
    response = client.post(
        _new(locked, "rename"),
        {
            "new_namespace": org.namespace.pk,
            "new_name": "bert-base",
            "reason": "Moving to the lab.",
        },
    )
    assert response.status_code == 302
    request = SupportRequest.objects.get()
    assert (request.new_namespace, request.new_name) == (org.namespace, "bert-base")


def test_a_forged_owner_is_a_form_error(client, owner, stranger, locked):
    client.force_login(owner)
    response = client.post(
        _new(locked, "rename"),
        {"new_namespace": stranger.namespace.pk, "new_name": "bert", "reason": "Mine now."},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not SupportRequest.objects.exists()


def test_a_taken_name_is_a_form_error(client, owner, locked):
    RepoFactory(namespace=owner.namespace, name="taken")
    client.force_login(owner)
    response = client.post(
        _new(locked, "rename"),
        {"new_namespace": owner.namespace.pk, "new_name": "taken", "reason": "Nicer."},
    )
    assert "alice already has a model named “taken”." in response.content.decode()
    assert not SupportRequest.objects.exists()


def test_visibility_asks_for_the_other_one(client, owner, locked):
    client.force_login(owner)
    html = client.get(_new(locked, "visibility")).content.decode()
    assert '<option value="private" selected>' in html
    assert "no longer publicly available" in html
    client.post(_new(locked, "visibility"), {"target_visibility": "private", "reason": "Embargo."})
    assert SupportRequest.objects.get().target_visibility == "private"


def test_a_reason_is_required(client, owner, locked):
    client.force_login(owner)
    response = client.post(_new(locked), {"reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not SupportRequest.objects.exists()


@pytest.mark.parametrize("action", ["", "destroy", "DELETE", "rename;drop"])
def test_a_forged_action_is_a_bad_request(client, owner, locked, action):
    client.force_login(owner)
    assert client.get(_new(locked, action)).status_code == 400
    assert client.post(_new(locked, action), {"reason": "x"}).status_code == 400
    assert not SupportRequest.objects.exists()


def test_a_second_open_request_is_shown_instead_of_the_form(client, owner, locked):
    existing = _open(locked, owner)
    client.force_login(owner)
    html = client.get(_new(locked)).content.decode()
    assert "You already have an open request to delete alice/bert" in html
    assert f'href="/support/{existing.pk}">see it here' in html
    assert 'id="id_reason"' not in html
    client.post(_new(locked), {"reason": "Again."})
    assert SupportRequest.objects.count() == 1


def test_another_admins_open_request_is_named(client, owner, org, locked):
    org_repo = RepoFactory(namespace=org.namespace, name="rabbit")
    org_repo.locks.create(reason="DOI", holder="doi:10.5072/hub/9999")
    admin = UserFactory(username="dodo")
    MembershipFactory(organization=org, user=admin, role="admin")
    _open(org_repo, admin)
    client.force_login(owner)
    html = client.get(_new(org_repo)).content.decode()
    assert "dodo already asked for this" in html


def test_a_repository_without_a_lock_is_sent_to_its_settings(client, owner, repo):
    client.force_login(owner)
    html = client.get(_new(repo)).content.decode()
    assert "You can do this yourself" in html and repo.url("settings") in html
    assert 'id="id_reason"' not in html


def test_it_requires_login(client, locked):
    response = client.get(_new(locked))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    client.post(_new(locked), {"reason": "x"})
    assert not SupportRequest.objects.exists()


def test_it_hides_repositories_the_user_does_not_administer(client, stranger, writer, org, locked):
    org_repo = RepoFactory(namespace=org.namespace, name="rabbit", private=True)
    for user, repo in ((stranger, locked), (writer, org_repo), (stranger, org_repo)):
        client.force_login(user)
        assert client.get(_new(repo)).status_code == 404
        assert client.post(_new(repo), {"reason": "Mine."}).status_code == 404
    assert not SupportRequest.objects.exists()


@pytest.mark.parametrize("repo_param", ["", "abc", "999999", "1.5"])
def test_an_unknown_repository_is_not_found(client, owner, locked, repo_param):
    client.force_login(owner)
    assert client.get(f"{NEW}?repo={repo_param}&action=delete").status_code == 404


def test_it_rejects_other_methods(client, owner, locked):
    client.force_login(owner)
    assert client.put(_new(locked)).status_code == 405
    assert client.post(INDEX).status_code == 405


# /support/ and /support/<id> ---------------------------------------------------------------------


def test_the_list_shows_only_the_users_own_requests(
    client, owner, org, locked, django_assert_max_num_queries
):
    mine = _open(locked, owner)
    _open(locked, owner, "visibility", target_visibility="private")
    org_repo = RepoFactory(namespace=org.namespace, name="rabbit")
    org_repo.locks.create(reason="DOI", holder="doi:10.5072/hub/9999")
    other_admin = UserFactory(username="dodo")
    MembershipFactory(organization=org, user=other_admin, role="admin")
    theirs = _open(org_repo, other_admin)
    client.force_login(owner)
    with django_assert_max_num_queries(5):
        html = client.get(INDEX).content.decode()
    assert f"#{mine.pk} Delete alice/bert" in html
    assert "Make alice/bert private" in html
    assert f"#{theirs.pk}" not in html


def test_the_request_page_shows_status_note_dates_dois_and_history(client, owner, staff, locked):
    request = _open(locked, owner)
    request.reject(staff, "It is cited in a paper.")
    client.force_login(owner)
    html = client.get(request.get_absolute_url()).content.decode()
    assert "Rejected" in html and "It is cited in a paper." in html
    assert "10.5072/hub/0002" in html
    assert "Support request opened" in html and "Support request rejected" in html
    assert "by staff" in html


def test_a_request_is_only_visible_to_its_requester(client, owner, stranger, org, locked):
    request = _open(locked, owner)
    client.force_login(stranger)
    assert client.get(request.get_absolute_url()).status_code == 404
    client.logout()
    response = client.get(request.get_absolute_url())
    assert response.status_code == 302


def test_the_request_page_leaves_out_other_requests_events(client, owner, locked):
    mine = _open(locked, owner)
    other = _open(locked, owner, "visibility", target_visibility="private")
    client.force_login(owner)
    html = client.get(mine.get_absolute_url()).content.decode()
    assert f"Request #{mine.pk}: Delete alice/bert." in html
    assert f"Request #{other.pk}" not in html


def test_the_account_menu_leads_to_the_requests(client, owner):
    client.force_login(owner)
    assert 'href="/support/">Support requests</a>' in client.get("/").content.decode()


def test_a_requester_who_lost_access_sees_their_request_but_not_the_repository_now(
    client, owner, org, staff, mint, run_on_commit
):
    repo = RepoFactory(namespace=org.namespace, name="rabbit")
    commit_files(repo, owner, {"README.md": "# Rabbit\n"})
    mint(repo)
    dodo = UserFactory(username="dodo")
    membership = MembershipFactory(organization=org, user=dodo, role="admin")
    request = _open(repo, dodo, "visibility", target_visibility="private")
    with run_on_commit():
        request.carry_out(staff, note="Done as asked.")
    # Then dodo leaves the organization, and the private repository is renamed.
    membership.delete()
    with lock_override(actor=staff, reason="test: renamed by staff"):
        repo.move(namespace=org.namespace, name="secret-burrow")
    client.force_login(dodo)
    assert f"#{request.pk} Make wonderland/rabbit private" in client.get(INDEX).content.decode()
    response = client.get(request.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    # Their own request: what they asked, its status, the staff's answer, its events.
    assert "Approved and carried out" in html and "Done as asked." in html
    assert "Support request carried out" in html
    # Not the repository as it is now: its name, its DOIs, what happened to them since.
    assert "secret-burrow" not in html
    assert "10.5072/hub/" not in html
    assert "You no longer have access to wonderland/rabbit" in html


def test_the_form_says_when_the_quota_allows_the_next_request(client, owner, locked, settings):
    settings.SUPPORT_REQUESTS_PER_USER_PER_DAY = 1
    _open(locked, owner, "visibility", target_visibility="private")
    client.force_login(owner)
    response = client.post(_new(locked), {"reason": "Wrong licence."})
    assert response.status_code == 200
    html = response.content.decode()
    assert "You filed 1 support request in the last 24 hours, the most allowed." in html
    assert "You can file the next one after" in html
    assert SupportRequest.objects.count() == 1

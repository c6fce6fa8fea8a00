"""Deleting users, organizations and memberships in the admin never orphans a name or leaves an
organization without an admin: it is handled, or refused with the reason shown."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse

from accounts.models import LastAdmin, Membership, Namespace, Organization, User
from tests.factories import MembershipFactory, OrganizationFactory, RepoFactory, UserFactory


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def _delete_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])


def _inline(org, rows):
    """The organization change form's POST with the membership rows ``rows``."""
    data = {
        "display_name": org.display_name,
        "description": org.description,
        "memberships-TOTAL_FORMS": str(len(rows)),
        "memberships-INITIAL_FORMS": str(len(rows)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, (membership, role, delete) in enumerate(rows):
        data |= {
            f"memberships-{i}-id": str(membership.pk),
            f"memberships-{i}-organization": str(org.pk),
            f"memberships-{i}-user": str(membership.user_id),
            f"memberships-{i}-role": role,
        }
        if delete:
            data[f"memberships-{i}-DELETE"] = "on"
    return data


# Users --------------------------------------------------------------------------------------


def test_deleting_a_user_frees_their_name(admin_client, client, stranger):
    page = admin_client.get(_delete_url(stranger)).content.decode()
    assert "Name: mallory (freed for others to take)" in page
    assert admin_client.post(_delete_url(stranger), {"post": "yes"}).status_code == 302
    assert not User.objects.filter(username="mallory").exists()
    assert not Namespace.objects.filter(name="mallory").exists()
    assert client.get("/mallory").status_code == 404
    UserFactory(username="mallory")  # the name can be taken again
    assert client.get("/mallory").status_code == 200


def test_a_user_whose_name_holds_repositories_is_not_deleted(admin_client, client, owner):
    RepoFactory(namespace=owner.namespace, name="bert")
    for response in (
        admin_client.get(_delete_url(owner)),
        admin_client.post(_delete_url(owner), {"post": "yes"}),
    ):
        assert response.status_code == 200
        assert "Repo: alice/bert (it uses the name “alice”)" in response.content.decode()
    with pytest.raises(ProtectedError), transaction.atomic():
        owner.delete()
    assert User.objects.filter(pk=owner.pk).exists()
    assert client.get("/alice").status_code == 200


def test_the_only_admin_of_an_organization_is_not_deleted(admin_client, client, owner, org):
    reason = (
        "wonderland would be left without an admin: make another member admin first, or "
        "delete the organization."
    )
    assert reason in admin_client.get(_delete_url(owner)).content.decode()
    bulk = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [owner.pk], "post": "yes"}
    response = admin_client.post(reverse("admin:accounts_user_changelist"), bulk)
    assert reason in response.content.decode()
    with pytest.raises(LastAdmin), transaction.atomic():
        owner.delete()
    with pytest.raises(LastAdmin), transaction.atomic():
        User.objects.filter(pk=owner.pk).delete()
    assert Membership.objects.filter(organization=org, user=owner, role="admin").exists()
    assert client.get("/wonderland").status_code == 200


def test_a_user_can_go_when_the_organization_keeps_another_admin(owner, org):
    other = UserFactory(username="dodo")
    MembershipFactory(organization=org, user=other, role="admin")
    owner.delete()
    assert list(org.memberships.values_list("user__username", flat=True)) == ["dodo"]


# Organizations ------------------------------------------------------------------------------


def test_deleting_an_organization_frees_its_name_and_its_memberships(
    admin_client, client, org, writer
):
    page = admin_client.get(_delete_url(org)).content.decode()
    assert "Name: wonderland (freed for others to take)" in page
    assert admin_client.post(_delete_url(org), {"post": "yes"}).status_code == 302
    assert not Namespace.objects.filter(name="wonderland").exists()
    assert not Membership.objects.exists()
    assert client.get("/wonderland").status_code == 404


def test_an_organization_whose_name_holds_repositories_is_not_deleted(admin_client, org):
    RepoFactory(namespace=org.namespace, name="croquet")
    response = admin_client.post(_delete_url(org), {"post": "yes"})
    assert "Repo: wonderland/croquet (it uses the name “wonderland”)" in response.content.decode()
    with pytest.raises(ProtectedError), transaction.atomic():
        Organization.objects.filter(pk=org.pk).delete()
    assert Organization.objects.filter(pk=org.pk).exists()
    assert org.memberships.count() == 1


# Memberships --------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "delete"), [("admin", True), ("write", False)])
def test_the_organization_form_keeps_an_admin(admin_client, owner, org, writer, role, delete):
    admin_row = org.memberships.get(user=owner)
    writer_row = org.memberships.get(user=writer)
    url = reverse("admin:accounts_organization_change", args=[org.pk])
    response = admin_client.post(
        url, _inline(org, [(admin_row, role, delete), (writer_row, "write", False)])
    )
    assert response.status_code == 200
    assert (
        "An organization needs an admin: keep one, or make another member admin first."
        in response.content.decode()
    )
    assert org.memberships.get(user=owner).role == "admin"
    # Handing over in one save works: the writer becomes admin as the old admin leaves.
    response = admin_client.post(
        url, _inline(org, [(admin_row, role, delete), (writer_row, "admin", False)])
    )
    assert response.status_code == 302
    assert list(org.memberships.filter(role="admin").values_list("user", flat=True)) == [writer.pk]


def test_no_path_takes_the_last_admin_away(owner, org):
    membership = org.memberships.get(user=owner)
    with pytest.raises(LastAdmin), transaction.atomic():
        membership.delete()
    with pytest.raises(LastAdmin), transaction.atomic():
        Membership.objects.filter(pk=membership.pk).delete()
    membership.role = "read"
    with pytest.raises(LastAdmin), transaction.atomic():
        membership.save()
    assert Membership.objects.get(pk=membership.pk).role == "admin"


def test_a_name_without_its_owner_answers_not_found(client, db):
    # Rows from before names were freed with their owners.
    Namespace.objects.create(name="ghost", kind="user")
    Namespace.objects.create(name="ghost-org", kind="organization")
    assert client.get("/ghost").status_code == 404
    assert client.get("/ghost-org").status_code == 404


def test_an_organization_without_members_can_be_made(db):
    # Factories (and data imports) add members after the organization: only demotions and
    # deletions are guarded.
    org = OrganizationFactory()
    MembershipFactory(organization=org, role="write")
    assert org.memberships.count() == 1

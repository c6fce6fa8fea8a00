from __future__ import annotations

import pytest

from accounts.models import AccessToken, Namespace, User
from tests.factories import PASSWORD


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/?q=alice",
        "/admin/accounts/user/?is_staff__exact=1",
        "/admin/accounts/user/add/",
        "/admin/accounts/organization/",
        "/admin/accounts/organization/?q=wonder",
        "/admin/accounts/namespace/",
        "/admin/accounts/namespace/?q=alice",
    ],
)
def test_admin_pages_load(admin_client, org, url):
    assert admin_client.get(url).status_code == 200


def test_change_pages_load(admin_client, owner, org):
    for url in (
        f"/admin/accounts/user/{owner.pk}/change/",
        f"/admin/accounts/organization/{org.pk}/change/",
        f"/admin/accounts/namespace/{owner.namespace.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_user_search_finds_full_names(admin_client, owner, stranger):
    response = admin_client.get("/admin/accounts/user/?q=Liddell")

    assert list(response.context["cl"].result_list) == [owner]


def test_adding_a_user_claims_the_namespace(admin_client, db):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "dinah",
            "email": "dinah@example.org",
            "full_name": "Dinah Cat",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="dinah")
    assert user.namespace.name == "dinah"
    assert user.namespace.kind == Namespace.Kind.USER
    assert user.check_password(PASSWORD)


def test_adding_a_user_refuses_a_taken_name(admin_client, org):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "WONDERLAND",
            "email": "w@example.org",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["username"] == ["That name is taken."]


def test_changing_a_user_keeps_the_username(admin_client, owner):
    response = admin_client.post(
        f"/admin/accounts/user/{owner.pk}/change/",
        {
            "username": "renamed",
            "full_name": "Alice L.",
            "email": owner.email,
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.username == "alice"
    assert owner.full_name == "Alice L."


def test_non_staff_cannot_use_the_admin(client, owner):
    client.force_login(owner)

    assert client.get("/admin/accounts/user/").status_code == 302


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("view_only_staff", "You do not have the permission to run “Clean up expired attempts”"),
        ("support_staff", "Cleaned up 0 expired access attempts."),
    ],
)
def test_cleaning_up_log_in_attempts_needs_the_permission_to_delete_them(
    db, client, request, who, message
):
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        user_agent="test", http_accept="*/*", path_info="/login", username="mallory",
        get_data="", post_data="", failures_since_start=1,
    )  # fmt: skip
    client.force_login(request.getfixturevalue(who))
    response = client.post(
        "/admin/axes/accessattempt/",
        {"action": "cleanup_expired_attempts", "_selected_action": [attempt.pk]},
        follow=True,
    )
    assert any(message in str(m) for m in response.context["messages"])
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_the_admin_lists_tokens_without_their_secret(admin_client, owner):
    token, secret = AccessToken.issue(user=owner, name="laptop", scope="write")

    listing = admin_client.get("/admin/accounts/accesstoken/").content.decode()
    change = admin_client.get(f"/admin/accounts/accesstoken/{token.pk}/change/").content.decode()

    assert "laptop" in listing and token.prefix in listing
    assert secret not in listing and secret not in change
    assert token.digest not in listing and token.digest not in change

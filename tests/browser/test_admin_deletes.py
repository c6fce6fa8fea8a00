"""The admin's delete page says why a user cannot be deleted instead of orphaning their name."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.factories import PASSWORD, RepoFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_deleting_a_user_whose_name_holds_repositories_is_refused_with_the_reason(
    page: Page, screenshot, staff, owner, org
):
    RepoFactory(namespace=owner.namespace, name="bert")
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("staffer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/accounts/user/{owner.pk}/delete/")
    expect(page.get_by_text("Repo: alice/bert (it uses the name “alice”)")).to_be_visible()
    expect(page.get_by_text("wonderland would be left without an admin")).to_be_visible()
    expect(page.locator('input[type="submit"]')).to_have_count(0)  # no "Yes, I am sure"
    screenshot("admin-delete-user-refused-1280")
    assert User.objects.filter(pk=owner.pk).exists()

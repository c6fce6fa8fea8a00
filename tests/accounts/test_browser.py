"""A person signs up, sets up an organization and manages its members in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.factories import PASSWORD, RepoFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

NARROW = {"width": 390, "height": 844}


def _both_widths(page: Page, screenshot, name: str) -> None:
    screenshot(f"accounts-{name}-1280")
    page.set_viewport_size(NARROW)
    screenshot(f"accounts-{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def _log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def test_sign_up_and_settings(page: Page, screenshot):
    UserFactory(username="alice")
    page.goto("/join")
    _both_widths(page, screenshot, "join")

    page.get_by_label("Username").fill("Alice")
    page.get_by_label("Email").fill("new@example.org")
    page.get_by_label("Full name").fill("Alice Again")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("That name is taken.")).to_be_visible()
    _both_widths(page, screenshot, "join-errors")

    page.get_by_label("Username").fill("dinah")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/$"))
    assert User.objects.get(username="dinah").full_name == "Alice Again"

    page.goto("/settings/profile")
    expect(page.get_by_label("Full name")).to_have_value("Alice Again")
    page.get_by_label("Full name").fill("Dinah Cat")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    _both_widths(page, screenshot, "profile")

    page.get_by_role("link", name="Password", exact=True).click()
    expect(page.get_by_label("Old password")).to_be_visible()
    _both_widths(page, screenshot, "password")

    page.get_by_text("dinah", exact=True).click()
    page.get_by_role("button", name="Log out").click()
    page.goto("/login")
    _both_widths(page, screenshot, "login")


def test_organization_and_members(page: Page, screenshot):
    alice = UserFactory(username="alice", full_name="Alice Liddell")
    UserFactory(username="bob", full_name="Bob Writer")
    RepoFactory(namespace=alice.namespace, name="rabbit-hole")
    RepoFactory(namespace=alice.namespace, name="secret-tea", private=True)
    _log_in(page, "alice")

    page.goto("/organizations/new")
    _both_widths(page, screenshot, "organization-new")
    page.get_by_label("Name", exact=True).fill("wonderland")
    page.get_by_label("Full name").fill("Wonderland Lab")
    page.get_by_role("button", name="Create organization").click()
    page.wait_for_url(re.compile(r"/wonderland$"))
    expect(page.get_by_role("heading", name="Wonderland Lab")).to_be_visible()

    page.get_by_role("link", name="Organization settings").click()
    page.get_by_label("Description").fill("We study tea parties and croquet.")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Organization profile saved.")).to_be_visible()

    members = page.locator("#members")
    members.get_by_label("Username").fill("bob")
    members.locator("form.add-member").get_by_label("Role").select_option("write")
    members.get_by_role("button", name="Add member").click()
    expect(members.get_by_text("Added bob as write.")).to_be_visible()

    page.on("dialog", lambda dialog: dialog.accept())
    members.get_by_role("button", name="Remove alice").click()
    expect(members.get_by_text("alice is the only admin and cannot be removed.")).to_be_visible()
    _both_widths(page, screenshot, "organization-settings")

    bob_row = members.get_by_role("listitem").filter(has_text="Bob Writer")
    bob_row.get_by_label("Role", exact=True).select_option("admin")
    members.get_by_role("button", name="Change role of bob").click()
    expect(members.get_by_text("bob is now admin.")).to_be_visible()

    page.goto("/wonderland")
    _both_widths(page, screenshot, "organization-page")
    page.goto("/alice")
    expect(page.get_by_role("link", name="alice/secret-tea")).to_be_visible()
    _both_widths(page, screenshot, "user-page")

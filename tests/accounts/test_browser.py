"""A person signs up, sets up an organization and manages its members in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.factories import PASSWORD, RepoFactory, UserFactory
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_and_settings(page: Page, screenshot):
    UserFactory(username="alice")
    page.goto("/join")
    shoot(page, screenshot, "accounts-join")

    page.get_by_label("Username").fill("Alice")
    page.get_by_label("Email").fill("new@example.org")
    page.get_by_label("Full name").fill("Alice Again")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("That name is taken.")).to_be_visible()
    shoot(page, screenshot, "accounts-join-errors")

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
    shoot(page, screenshot, "accounts-profile")

    page.get_by_role("link", name="Password", exact=True).click()
    expect(page.get_by_label("Old password")).to_be_visible()
    shoot(page, screenshot, "accounts-password")

    page.get_by_text("dinah", exact=True).click()
    page.get_by_role("button", name="Log out").click()
    page.goto("/login")
    shoot(page, screenshot, "accounts-login")


def test_organization_and_members(page: Page, screenshot):
    alice = UserFactory(username="alice", full_name="Alice Liddell")
    UserFactory(username="bob", full_name="Bob Writer")
    RepoFactory(namespace=alice.namespace, name="rabbit-hole")
    RepoFactory(namespace=alice.namespace, name="secret-tea", private=True)
    log_in(page, "alice")

    page.goto("/organizations/new")
    shoot(page, screenshot, "accounts-organization-new")
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
    shoot(page, screenshot, "accounts-organization-settings")

    bob_row = members.get_by_role("listitem").filter(has_text="Bob Writer")
    bob_row.get_by_label("Role", exact=True).select_option("admin")
    members.get_by_role("button", name="Change role of bob").click()
    expect(members.get_by_text("bob is now admin.")).to_be_visible()

    page.goto("/wonderland")
    shoot(page, screenshot, "accounts-organization-page")
    page.goto("/alice")
    expect(page.get_by_role("link", name="alice/secret-tea")).to_be_visible()
    shoot(page, screenshot, "accounts-user-page")


def test_a_paused_log_in_and_sign_up_say_when_to_try_again(page: Page, screenshot, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.SIGNUPS_PER_IP_PER_HOUR = 1
    UserFactory(username="alice")
    page.goto("/login")
    for _ in range(3):
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("guess")
        page.get_by_role("button", name="Log in").click()
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("Too many failed log-ins")
    expect(notice).to_contain_text(re.compile(r"try again after \d\d:\d\d UTC on "))
    expect(page.get_by_label("Username")).to_have_value("alice")
    shoot(page, screenshot, "accounts-login-paused")
    # The right password waits too.
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(notice).to_contain_text("Too many failed log-ins")

    page.goto("/join")
    for name in ("dinah", "cheshire"):
        page.get_by_label("Username").fill(name)
        page.get_by_label("Email").fill(f"{name}@example.org")
        page.get_by_label("Full name").fill(name.title())
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password (again)").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        if name == "dinah":
            page.wait_for_url(re.compile(r"/$"))
            page.context.clear_cookies()
            page.goto("/join")
    expect(page.get_by_text("1 account was created from your network")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("cheshire@example.org")
    shoot(page, screenshot, "accounts-join-paused")
    assert not User.objects.filter(username="cheshire").exists()

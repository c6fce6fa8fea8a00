"""Settings → Access tokens in a real browser: create one (htmx), copy it, use it, revoke it;
and the same without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import AccessToken
from tests.browser.axe import audit, prepare
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)


def test_create_and_revoke_a_token(page: Page, owner, screenshot):
    prepare(page.context)
    log_in(page, "alice")
    page.goto("/settings/profile")
    page.get_by_role("link", name="Access tokens").click()
    expect(page.get_by_text("You have no access tokens yet.")).to_be_visible()

    page.get_by_label("Name").fill("training server")
    page.get_by_label("Write").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token-secret")
    expect(secret).to_be_visible()
    assert page.url.endswith("/settings/tokens")
    value = secret.inner_text().strip()
    assert AccessToken.objects.authenticate(value).name == "training server"
    expect(page.get_by_role("button", name="Copy the new token")).to_be_visible()
    found = audit(page, "new token shown")
    shoot(page, screenshot, "accounts-token-created")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke training server").click()
    expect(page.get_by_text("Revoked training server")).to_be_visible()
    expect(page.locator("#new-token-secret")).to_have_count(0)
    assert not AccessToken.objects.active().exists()
    found += audit(page, "token revoked")
    shoot(page, screenshot, "accounts-token-revoked")
    assert not [str(v) for v in found if v.fails]


def test_create_and_revoke_without_javascript(browser, live_server, owner):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    log_in(page, "alice")
    page.goto("/settings/tokens")
    page.get_by_label("Name").fill("notebook")
    page.get_by_label("Read").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token-secret")).to_be_visible()
    token = AccessToken.objects.get()
    assert token.scope == "read"

    page.get_by_role("button", name="Revoke notebook").click()
    expect(page.get_by_text("Revoked notebook")).to_be_visible()
    token.refresh_from_db()
    assert token.revoked_at is not None
    context.close()

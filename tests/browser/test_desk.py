"""Staff open the admin, see what needs doing on the desk, and follow each kind of item."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.axe import audit, prepare
from tests.pages import log_in, shoot
from tests.test_desk import _doi_settings, make_work  # noqa: F401  (the settings fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_see_and_follow_each_kind_of_item(page: Page, screenshot, owner, staff):
    made = make_work(owner, staff)
    prepare(page.context)
    log_in(page, "staffer")
    page.goto("/admin/")
    desk = page.get_by_role("region", name=re.compile("^What needs doing"))
    expect(desk).to_be_visible()
    expect(page).to_have_title("Staff desk | BOINC AI Hub admin")
    shoot(page, screenshot, "admin-desk")
    assert not [str(v) for v in audit(page) if v.fails]

    request, failed = made["requests"][0], made["failed"][0]
    unconfirmed, locked = made["unconfirmed"][0], made["locked"][0]
    differing = made["differing"][0]
    followed = [
        ("Support requests: delete the repository", f"#{request.pk} Delete alice/asked-0"),
        ("DOIs whose registration or update failed for good", failed.doi),
        ("DOIs DataCite has not confirmed after an hour", unconfirmed.doi),
        ("DOIs whose metadata at DataCite differs from the hub's", differing.doi),
        ("Repositories still locked though all their DOIs were discarded", locked.full_name),
    ]
    for pile, label in followed:
        section = desk.get_by_role("region", name=re.compile(f"^{re.escape(pile)}"))
        item = section.get_by_role("listitem").filter(has_text=label)
        expect(item).to_contain_text(" ago")
        item.get_by_role("link", name=label).click()
        expect(page.locator("#content h2, #content h1").first).to_be_visible()
        expect(page.locator("#content")).to_contain_text(label.split(" ", 1)[-1])
        if pile.startswith("Support requests"):
            expect(page.get_by_text("If approved")).to_be_visible()
            shoot(page, screenshot, "admin-support-request")
            assert not [str(v) for v in audit(page) if v.fails]
        page.go_back()

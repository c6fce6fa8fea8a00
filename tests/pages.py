"""What the browser tests share: viewport sizes, logging in, and screenshots at two widths."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from tests.factories import PASSWORD

WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))


def shoot(page: Page, screenshot, name: str) -> None:
    """A screenshot at desktop width and one at phone width: <name>-1280.png, <name>-390.png."""
    screenshot(f"{name}-1280")
    page.set_viewport_size(NARROW)
    screenshot(f"{name}-390")
    page.set_viewport_size(WIDE)

"""The owner presses Retry now on a registration DataCite refused for now, in a real browser:
at most once a minute, and once DataCite is back the DOI is registered at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from doi.models import Doi, Event
from tests.datacite_server import datacite  # noqa: F401 - the fixture
from tests.doi.conftest import CONSENT
from tests.factories import RepoFactory, commit_files
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
AUTHOR = [{"type": "Personal", "name": "Alice Liddell"}]


def test_owner_retries_now_after_datacite_recovered(
    page: Page,
    screenshot,
    owner,
    datacite,  # noqa: F811
    settings,
):
    settings.TASKS = IMMEDIATE
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "# Sentiment\n\nReads moods.\n"})
    datacite.fail("503", "503")  # the concept and the version DOI: DataCite is down for now
    version = Doi.objects.mint(repo=repo, user=owner, creators=AUTHOR, **CONSENT)
    log_in(page, "alice")

    page.goto(repo.url("settings"))
    item = page.locator(".doi-item").first
    expect(item).to_contain_text(f"doi:{version.doi}")
    expect(item).to_contain_text("so the hub will try again automatically at")
    shoot(page, screenshot, "doi-retry-now-01-waiting")

    # DataCite is still down at the first press: the wait starts again, and for a minute the
    # button makes way for when it can be pressed again.
    datacite.fail("503")
    item.get_by_role("button", name="Retry now").click()
    expect(page.get_by_role("status")).to_contain_text(f"{version.doi} is not registered yet")
    expect(item).to_contain_text("Retry now can be pressed again at")
    expect(item.get_by_role("button", name="Retry now")).to_have_count(0)
    shoot(page, screenshot, "doi-retry-now-02-pressed-again-later")

    # A minute later DataCite is back: Retry now registers it at once.
    Event.objects.filter(kind=Event.Kind.RETRIED).update(
        created_at=timezone.now() - timedelta(minutes=1)
    )
    item.get_by_role("button", name="Retry now").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"{version.doi} is registered at DataCite and findable."
    )
    expect(item.locator(".badge.ok")).to_have_text("Findable")
    assert datacite.state(version.doi) == "findable"
    shoot(page, screenshot, "doi-retry-now-03-registered")

"""The counts DataCite holds, fetched by doi_sync --counts, and the hub's own, seen in a real
browser: next to the DOI tag on the repository page, per version in the owner's DOI settings and
on the DOI's own page; and the month's usage report staff download in the admin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from doi.models import Doi
from repos.models import lock_override
from tests.browser.axe import audit, prepare
from tests.datacite_server import datacite  # noqa: F401 - the fixture
from tests.doi.conftest import CONSENT
from tests.factories import PASSWORD, RepoFactory, commit_files
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

AUTHOR = [{"type": "Personal", "name": "Alice Liddell"}]


def test_the_counts_show_next_to_the_doi_and_per_version(
    page: Page,
    screenshot,
    owner,
    datacite,  # noqa: F811
):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "# Sentiment\n\nReads moods.\n"})
    version = Doi.objects.mint(repo=repo, user=owner, creators=AUTHOR, **CONSENT)
    datacite.count(version.doi, citations=3, views=120, downloads=8)
    datacite.count(version.concept.doi, citations=1)
    call_command("doi_sync", "--counts", "--quiet")
    log_in(page, "alice")

    page.goto(repo.get_absolute_url())
    usage = page.locator(".doi-cite .doi-usage")
    expect(usage).to_contain_text("3 citations · 120 views · 8 downloads")
    expect(usage).to_contain_text("(all versions: 4 citations · 120 views · 8 downloads)")
    shoot(page, screenshot, "doi-usage-01-repository")

    page.goto(repo.url("settings"))
    expect(page.locator(".doi-item .doi-usage").first).to_be_visible()
    expect(page.get_by_text("All versions together: 4 citations")).to_be_visible()
    shoot(page, screenshot, "doi-usage-02-settings")


def test_the_works_citing_a_doi_open_under_its_tag(
    page: Page,
    screenshot,
    owner,
    datacite,  # noqa: F811
):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "# Sentiment\n\nReads moods.\n"})
    version = Doi.objects.mint(repo=repo, user=owner, creators=AUTHOR, **CONSENT)
    datacite.cite(version.doi, "10.1234/paper.1", occurred_at="2026-10-01T08:00:00Z")
    datacite.cite(version.doi, "https://example.org/blog/moods", relation="cites")
    call_command("doi_sync", "--counts", "--quiet")
    prepare(page.context)

    page.goto(repo.get_absolute_url())
    expect(page.locator(".doi-cite .doi-usage")).to_contain_text("2 citations")
    page.get_by_text("Cited by 2 works").click()
    works = page.locator(".doi-cited-by .doi-citing-works li")
    expect(works).to_have_count(2)
    expect(works.nth(0)).to_contain_text("doi:10.1234/paper.1 references it (2026-10-01)")
    expect(works.nth(0).get_by_role("link")).to_have_attribute(
        "href", "https://doi.org/10.1234/paper.1"
    )
    expect(works.nth(1)).to_contain_text("https://example.org/blog/moods cites it")
    shoot(page, screenshot, "doi-usage-03-cited-by")
    found = audit(page, "Repository page with the works citing its DOI")
    assert not [str(v) for v in found if v.fails]


BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def test_the_hubs_own_counts_show_beside_datacites_and_staff_download_the_report(
    page: Page,
    browser,
    live_server,
    screenshot,
    settings,
    owner,
    staff,
    datacite,  # noqa: F811
):
    """A reader (a browser COUNTER does not take for a robot, as headless Chromium would be)
    follows the DOI and downloads a file; a program downloads one through the API. Once
    doi_sync has summed them, the counts show on the repository page, in the owner's settings
    and on the DOI's own page, whose badge snippets copy; staff download the month's report."""
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "# Sentiment\n\nReads moods.\n", "config.json": "{}"})
    version = Doi.objects.mint(repo=repo, user=owner, creators=AUTHOR, **CONSENT)
    datacite.count(version.doi, citations=3, views=120, downloads=8)
    page.set_extra_http_headers({"User-Agent": BROWSER})

    page.goto(f"/doi/{version.doi}")
    expect(page).to_have_url(f"{live_server.url}{repo.url('tree', version.revision_oid)}")
    page.get_by_role("link", name="config.json").click()
    expect(page.locator("body")).to_have_text("{}")
    client = requests.get(
        f"{live_server.url}{repo.url('hubapi-files:resolve', 'main', 'config.json')}",
        headers={"User-Agent": "huggingface_hub/2.4.0; python/3.12.1"},
        timeout=30,
    )
    assert client.status_code == 200
    call_command("doi_sync", "--counts", "--quiet")

    page.goto(repo.get_absolute_url())
    cite = page.locator(".doi-cite")
    expect(cite.locator(".doi-usage")).to_contain_text("3 citations · 120 views · 8 downloads")
    expect(cite.locator(".doi-own-usage")).to_have_text(
        "On this hub: 2 views · 2 downloads (all versions: 2 views · 2 downloads)"
    )
    shoot(page, screenshot, "doi-own-usage-01-repository")

    log_in(page, "alice")
    page.goto(repo.url("settings"))
    own = page.locator(".doi-item .doi-own-usage")
    expect(own.first).to_contain_text("2 views · 2 downloads (unique, counted on this hub,")
    expect(page.get_by_text("All versions together: 2 views · 2 downloads")).to_be_visible()
    shoot(page, screenshot, "doi-own-usage-02-settings")

    # The DOI's own page (its repository gone private): the counts, and the badge to copy.
    with lock_override(actor=staff, reason="test: made private by staff"):
        repo.set_private(True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/doi/{version.doi}")
    expect(page.locator("dd.doi-own-usage")).to_contain_text(
        "2 views · 2 downloads; all versions: 2 views · 2 downloads"
    )
    image = f"{settings.SITE_URL}/doi/badge/{version.doi}.svg"
    preview = page.get_by_role("img", name=f"DOI {version.doi}")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.complete && img.naturalWidth") > 0
    for label, start in {
        "Markdown": f"[![DOI {version.doi}]({image})](https://doi.org/{version.doi})",
        "reStructuredText": f".. image:: {image}\n   :alt: DOI {version.doi}",
        "HTML": f'<a href="https://doi.org/{version.doi}"><img src="{image}"',
    }.items():
        button = page.get_by_role("button", name=f"Copy badge as {label}")
        button.click()
        expect(button.locator("xpath=following-sibling::*[@role='status']")).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()").startswith(start)
    shoot(page, screenshot, "doi-own-usage-03-landing")

    # Staff: DOIs → Usage report → the month's DSR file.
    staff_context = browser.new_context(base_url=live_server.url)
    prepare(staff_context)
    staff_page = staff_context.new_page()
    try:
        staff_page.goto("/admin/login/")
        staff_page.get_by_label("Username").fill(staff.username)
        staff_page.get_by_label("Password").fill(PASSWORD)
        staff_page.get_by_role("button", name="Log in").click()
        staff_page.goto("/admin/doi/doi/")
        staff_page.get_by_role("link", name="Usage report").click()
        month = timezone.localdate().strftime("%Y-%m")
        staff_page.get_by_label("Month").fill(month)
        screenshot("doi-own-usage-04-report-form", staff_page)
        found = audit(staff_page, "The admin's usage report form")
        assert not [str(v) for v in found if v.fails]
        with staff_page.expect_download() as download:
            staff_page.get_by_role("button", name="Download the report (JSON)").click()
        assert download.value.suggested_filename == f"dsr-{month}.json"
        report = json.loads(Path(download.value.path()).read_text())
    finally:
        staff_context.close()
    [dataset] = report["report-datasets"]
    assert dataset["dataset-id"] == [{"type": "doi", "value": version.doi}]
    methods = {i["access-method"] for i in dataset["performance"][0]["instance"]}
    assert methods == {"regular", "machine"}

"""axe-core over every page a person can reach — as a visitor, a stranger, the owner and staff
(the admin too) — plus the states behind a click: the Cite panel and the acknowledgement form.
Any serious or critical violation fails; everything axe finds is written to
test-artifacts/axe-<role>.json."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from doi.models import Doi
from repos.models import RepoType, lock_override
from support.models import SupportRequest
from tests.browser.axe import audit, crawl, prepare
from tests.conftest import ARTIFACTS
from tests.factories import RepoFactory, UserFactory, commit_files
from tests.pages import log_in

pytestmark = pytest.mark.django_db(transaction=True)

CARD = "---\nlicense: apache-2.0\ntags: [text-classification]\n---\n# Sentiment\n\nReads moods.\n"
AUTHORS = [{"type": "Personal", "name": "Alice Liddell", "orcid": "0000-0002-1825-0097"}]


def _reserve(repo, owner, draft=False, **record) -> Doi:
    return Doi.objects.mint(
        repo=repo,
        user=owner,
        creators=AUTHORS,
        consent_text="Consent",
        consent_version="t",
        record=record,
        draft=draft,
    )


# Links to other works and a funder, for the pages that show them.
RECORD = {
    "related_works": [
        {"identifier": "10.1234/base", "identifier_type": "DOI", "relation_type": "IsDerivedFrom"},
        {"identifier": "arXiv:2106.09685", "identifier_type": "arXiv",
         "relation_type": "IsSupplementTo"},
        {"identifier": "978-3-16-148410-0", "identifier_type": "ISBN",
         "relation_type": "IsDocumentedBy"},
    ],
    "funding": [{"funder_name": "European Commission",
                 "funder_identifier": "10.13039/501100000780", "award_number": "101000001"}],
}  # fmt: skip


@pytest.fixture
def hub(owner, org, writer, staff, settings):
    """A hub with one of everything a page can show: a model with two version DOIs, one whose
    registration failed, one without a DOI, a private one with a reserved DOI (a draft), an
    organization's dataset, a removed
    repository's tombstone, and an open support request."""
    settings.DOI_REGISTRAR = "local"
    settings.DOI_CONCEPT_DOIS = True
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    model = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(model, owner, {"README.md": CARD, "config.json": '{"layers": 2}'})
    first = _reserve(model, owner)
    commit_files(model, owner, {"weights.bin": b"\x00\x01"}, message="Retrain")
    _reserve(model, owner, **RECORD)
    broken = RepoFactory(namespace=owner.namespace, name="broken-model")
    commit_files(broken, owner, {"README.md": CARD})
    failed = _reserve(broken, owner)
    Doi.objects.filter(pk=failed.pk).update(
        remote_state="none",
        error_is_permanent=True,
        last_error="DataCite rejected the metadata (url — Can't be blank)",
    )
    fresh = RepoFactory(namespace=owner.namespace, name="fresh-model")
    # Its card names a base model: the Generate DOI form proposes the link.
    commit_files(fresh, owner, {"README.md": "---\nbase_model: alice/sentiment-model\n---\n"})
    secret = RepoFactory(namespace=owner.namespace, name="secret-model", private=True)
    commit_files(secret, owner, {"README.md": CARD})
    reserved = _reserve(secret, owner, draft=True)
    dataset = RepoFactory(namespace=org.namespace, name="reviews", type=RepoType.DATASET)
    commit_files(dataset, writer, {"README.md": "# Reviews\n", "train.csv": "text,label\n"})
    gone = RepoFactory(namespace=owner.namespace, name="gone-model")
    commit_files(gone, owner, {"README.md": CARD})
    gone_doi = _reserve(gone, owner, **RECORD)
    with lock_override(actor=staff, reason="Test: a removed repository's tombstone."):
        gone.remove(reason="Withdrawn at the owner's request.")
    SupportRequest.file(repo=model, requester=owner, action="delete", reason="Wrong licence.")
    UserFactory(username="mallory", full_name="Mallory Stranger")
    return {
        "model": model,
        "secret": secret,
        "reserved": f"/doi/{reserved.doi}",
        "gone_doi": gone_doi,
        "fresh": fresh,
        "old_revision": model.url("tree", first.revision_oid),
    }


def _report(role: str, pages: list[str], found) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    rules = sorted({(v.rule, v.impact) for v in found})
    summary = {
        "pages": pages,
        "violations": [str(v) for v in found],
        "rules": [f"{rule} ({impact})" for rule, impact in rules],
    }
    (ARTIFACTS / f"axe-{role}.json").write_text(json.dumps(summary, indent=2))
    print(f"\naxe as {role}: {len(pages)} pages, {len(found)} rule violations on pages")
    for v in found:
        print(f"  {v}")


def _check(role: str, pages: list[str], found) -> None:
    _report(role, pages, found)
    failing = [str(v) for v in found if v.fails]
    assert not failing, "\n".join(failing)


def test_every_page_a_visitor_reaches(page: Page, live_server, hub):
    prepare(page.context)
    old = hub["old_revision"]  # first, so that it stands for the repository's tree pages
    start = [old, "/", "/join", "/login", hub["model"].get_absolute_url()]
    pages, found = crawl(
        page, live_server.url, [*start, f"/doi/{hub['gone_doi']}", hub["reserved"]]
    )
    assert "/join" in pages and "/doi/" + hub["gone_doi"].doi in pages and old in pages
    assert hub["reserved"] in pages  # "reserved, not yet public", a 404
    _check("visitor", pages, found)


def test_every_page_a_stranger_reaches(page: Page, live_server, hub):
    prepare(page.context)
    log_in(page, "mallory")
    secret = hub["secret"].get_absolute_url()  # a stranger gets the "not found" page
    pages, found = crawl(page, live_server.url, ["/", "/settings/profile", "/alice", secret])
    _check("stranger", pages, found)


def test_every_page_the_owner_reaches(page: Page, live_server, hub):
    prepare(page.context)
    log_in(page, "alice")
    model = hub["model"]
    start = ["/", "/settings/profile", model.url("settings"), "/support/", "/wonderland"]
    # A private repository's settings with a reserved DOI, and that DOI's page (a 404 with a note).
    start += [hub["secret"].url("settings"), hub["reserved"]]
    pages, found = crawl(page, live_server.url, start)
    _check("owner", pages, found)
    assert hub["secret"].url("settings") in pages and hub["reserved"] in pages
    assert model.url("settings") in pages and hub["fresh"].url("settings") in pages
    latest = Doi.objects.latest_version_for(model)
    assert model.url("doi-owner:edit", latest.pk) in pages  # Edit metadata


def test_every_admin_page_staff_reach(page: Page, live_server, hub):
    prepare(page.context)
    log_in(page, "staffer")
    pages, found = crawl(page, live_server.url, ["/admin/", "/"], limit=200)
    assert "/admin/" in pages
    _check("staff", pages, found)


def test_the_cite_panel_and_the_acknowledgement_form(page: Page, hub):
    """Behind a click: the open Cite panel and the acknowledgement form with its preview."""
    prepare(page.context)
    page.goto(hub["model"].get_absolute_url())
    page.get_by_text("Cite", exact=True).click()
    expect(page.locator("#cite-panel").get_by_role("heading", name="BibTeX")).to_be_visible()
    found = audit(page, "Cite panel")
    log_in(page, "alice")
    page.goto(hub["fresh"].url("settings"))
    page.get_by_role("link", name="Generate DOI").click()
    expect(page.get_by_role("heading", name="What will be sent to DataCite")).to_be_visible()
    page.get_by_role("button", name="Add funder").click()
    expect(page.locator("#funding .author-row")).to_have_count(1)
    expect(page.locator("#related-works .author-row")).to_have_count(1)
    found += audit(page, "acknowledgement form")
    # Edit metadata, with someone new among the authors: the acknowledgement joins the preview.
    page.goto(hub["model"].url("settings"))
    page.get_by_role("link", name=re.compile("^Edit metadata")).first.click()
    page.get_by_role("button", name="Add author").click()
    page.locator(".author-row").nth(1).get_by_label("Full name").fill("Jane Doe")
    page.locator(".author-row").nth(1).get_by_label("Full name").blur()
    expect(page.get_by_role("heading", name="New in the record")).to_be_visible()
    found += audit(page, "edit metadata form")
    _check("panels", ["Cite panel", "acknowledgement form", "edit metadata form"], found)


# Keyboard only ------------------------------------------------------------------------------


def _tab_to(page: Page, target, limit: int = 60) -> None:
    """Press Tab until ``target`` has the focus, then check the focus can be seen."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            break
    expect(target).to_be_focused()
    style, width = target.evaluate(
        "e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]"
    )
    assert style != "none" and width != "0px", f"no visible focus on {target}"


def test_the_cite_panel_by_keyboard(page: Page, hub):
    page.goto(hub["model"].get_absolute_url())
    cite = page.locator("summary", has_text="Cite")
    _tab_to(page, cite)
    page.keyboard.press("Enter")
    panel = page.locator("#cite-panel")
    expect(panel.get_by_role("heading", name="BibTeX")).to_be_visible()

    everything = panel.get_by_role("link", name="All versions")
    _tab_to(page, everything)
    page.keyboard.press("Enter")
    expect(page.locator("#cite-panel")).to_contain_text("All versions of sentiment-model")

    copy = page.locator("#cite-panel").get_by_role("button", name="Copy BibTeX")
    _tab_to(page, copy)
    page.keyboard.press("Space")
    expect(page.locator("#cite-panel .copy-status").first).to_have_text(
        re.compile("Copied|Selected")
    )


def test_the_acknowledgement_form_by_keyboard(page: Page, hub):
    log_in(page, "alice")
    fresh = hub["fresh"]
    page.goto(fresh.url("settings"))
    _tab_to(page, page.get_by_role("link", name="Generate DOI"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Generate DOI for alice/fresh-model")).to_be_visible()

    acknowledge = page.get_by_label(re.compile("^I acknowledge"))
    _tab_to(page, acknowledge)
    page.keyboard.press("Space")
    expect(acknowledge).to_be_checked()
    generate = page.get_by_role("button", name="Generate DOI")
    _tab_to(page, generate)
    page.keyboard.press("Enter")
    expect(page.get_by_text("locked by DOI").first).to_be_visible()
    assert Doi.objects.versions().filter(repo=fresh).count() == 1

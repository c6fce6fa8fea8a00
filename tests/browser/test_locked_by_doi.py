"""A repository with a DOI is locked: the owner asks staff to delete it, staff approve it in the
admin, the owner sees the outcome, and the DOI's page shows the tombstone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from doi.models import Doi
from repos.models import Repo
from support.models import SupportRequest
from tests.factories import PASSWORD, RepoFactory, commit_files, mint_doi
from tests.pages import WIDE, log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

CARD = "---\nlicense: apache-2.0\ntags: [text-classification]\n---\n# Bert\n\nReads moods.\n"


@pytest.fixture
def bert(owner, settings):
    settings.DOI_REGISTRAR = "local"
    settings.DOI_PREFIX = "10.5072"
    settings.DOI_SUFFIX_PATTERN = "hub/{number:04d}"
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(repo, owner, {"README.md": CARD})
    mint_doi(repo, owner)
    return repo


def test_owner_asks_staff_to_delete_a_locked_repository(
    page: Page, browser, live_server, screenshot, owner, staff, bert
):
    version = Doi.objects.versions().get(repo=bert)
    assert version.state == "findable" and bert.is_locked

    # The owner finds the delete section locked, and asks staff instead.
    log_in(page, "alice")
    page.goto(bert.url("settings"))
    danger = page.get_by_role("region", name="Danger zone")
    expect(danger).to_contain_text("locked by DOI")
    expect(danger.get_by_role("button", name="Delete this repository")).to_have_count(0)
    shoot(page, screenshot, "locked-by-doi-01-settings")
    danger.get_by_role("link", name="Request deletion").click()

    expect(page.get_by_role("heading", name="Ask staff to change alice/bert")).to_be_visible()
    expect(page.get_by_text("tombstone with the citation")).to_be_visible()
    page.get_by_label("Reason").fill("The training data turned out to be licensed wrongly.")
    shoot(page, screenshot, "locked-by-doi-02-request-form")
    page.get_by_role("button", name="Send request").click()

    request = SupportRequest.objects.get()
    page.wait_for_url(f"**/support/{request.pk}")
    expect(page.get_by_text(f"Request #{request.pk} sent.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Open")
    shoot(page, screenshot, "locked-by-doi-03-request-open")

    # Staff approve it in the admin.
    staff_context = browser.new_context(base_url=live_server.url, viewport=WIDE)
    admin = staff_context.new_page()
    admin.goto("/admin/login/")
    admin.get_by_label("Username").fill("staffer")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    admin.goto("/admin/support/supportrequest/")
    admin.get_by_role("link", name=f"#{request.pk} Delete alice/bert").click()
    expect(admin.get_by_text(version.doi).first).to_be_visible()
    screenshot("locked-by-doi-04-admin-request-1280", target=admin)
    admin.get_by_role("link", name="Approve and carry out").click()
    admin.get_by_label("Public reason").fill("Withdrawn by its authors: licensing problem.")
    screenshot("locked-by-doi-05-admin-confirm-1280", target=admin)
    admin.get_by_role("button", name="Approve and carry out").click()
    expect(admin.get_by_text(f"Request #{request.pk} carried out")).to_be_visible()
    screenshot("locked-by-doi-06-admin-done-1280", target=admin)
    staff_context.close()

    repo = Repo.objects.get(pk=bert.pk)
    assert repo.is_removed and repo.removal_reason.startswith("Withdrawn by its authors")

    # The owner sees the outcome.
    page.goto(f"/support/{request.pk}")
    expect(page.locator("main")).to_contain_text("Approved and carried out")
    expect(page.locator("main")).to_contain_text("Support request carried out")
    shoot(page, screenshot, "locked-by-doi-07-request-done")

    # The DOI still answers, with the tombstone.
    response = page.goto(f"/doi/{version.doi}")
    assert response.status == 410
    main = page.locator("main")
    expect(main).to_contain_text("Withdrawn by its authors: licensing problem.")
    expect(main).to_contain_text("Liddell")
    expect(main.get_by_role("heading", name="History")).to_be_visible()
    expect(main).to_contain_text("Support request carried out")
    shoot(page, screenshot, "locked-by-doi-08-tombstone")

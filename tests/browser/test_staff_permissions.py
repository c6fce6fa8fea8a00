"""Staff handle support requests with the permissions they were given: an account in the
"Support staff" group carries a request out; a view-only account sees it, without the buttons."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from repos.models import Repo
from support.models import SupportRequest
from tests.factories import PASSWORD, RepoFactory, commit_files, mint_doi
from tests.pages import WIDE, shoot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bert(owner, settings):
    settings.DOI_REGISTRAR = "local"
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(repo, owner, {"README.md": "# Bert\n"})
    mint_doi(repo, owner)
    return repo


def _admin_log_in(page: Page, username: str) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_support_staff_carry_out_what_view_only_staff_can_only_read(
    page: Page, browser, live_server, screenshot, owner, bert, view_only_staff, support_staff
):
    request = SupportRequest.file(
        repo=bert,
        requester=owner,
        action="visibility",
        target_visibility="private",
        reason="It names a patient.",
    )
    change = f"/admin/support/supportrequest/{request.pk}/change/"

    _admin_log_in(page, "viewer")
    page.goto(change)
    expect(page.get_by_text("It names a patient.")).to_be_visible()
    expect(page.get_by_role("link", name="Approve and carry out")).to_have_count(0)
    expect(page.get_by_role("link", name="Reject")).to_have_count(0)
    shoot(page, screenshot, "staff-permissions-01-view-only-request")
    page.goto("/admin/doi/doi/")
    expect(page.get_by_role("link", name=bert.dois.versions().get().doi)).to_be_visible()
    expect(page.get_by_label("Action:")).to_have_count(0)  # no action they may run
    shoot(page, screenshot, "staff-permissions-02-view-only-dois")

    helper = browser.new_context(base_url=live_server.url, viewport=WIDE).new_page()
    _admin_log_in(helper, "helper")
    helper.goto(change)
    helper.get_by_role("link", name="Approve and carry out").click()
    helper.get_by_label("Note to the requester").fill("Made private; the DOIs stay.")
    screenshot("staff-permissions-03-support-staff-confirm-1280", target=helper)
    helper.get_by_role("button", name="Approve and carry out").click()
    expect(helper.get_by_text(f"Request #{request.pk} carried out")).to_be_visible()
    screenshot("staff-permissions-04-support-staff-done-1280", target=helper)
    assert Repo.objects.get(pk=bert.pk).private

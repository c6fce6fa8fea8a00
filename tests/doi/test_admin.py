"""The DOI admin: staff find DOIs, read their consent and trail, and repair them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from doi.models import Doi, DoiCounter, Event


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def failed(repo, mint, datacite):
    # The version is refused, the concept registers (outside a test transaction the two are
    # pushed side by side, so the fault names the version: the second DOI handed out).
    upcoming = DoiCounter.upcoming()
    next(upcoming)
    datacite.fail("422", doi=next(upcoming)[1])
    version = mint(repo)
    version.refresh_from_db()
    return version


CHANGELIST = reverse("admin:doi_doi_changelist")


def _act(client, action, dois):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [d.pk for d in dois]},
        follow=True,
    )


@pytest.fixture
def act(staff_client, django_capture_on_commit_callbacks):
    """Run an admin action, and the pushes it queues once its transaction commits."""

    def run(action, dois):
        with django_capture_on_commit_callbacks(execute=True):
            return _act(staff_client, action, dois)

    return run


@pytest.mark.smoke
def test_the_list_shows_state_attempts_and_error(staff_client, failed):
    response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert failed.doi in page
    assert "Registration failed" in page
    assert (
        "DataCite rejected the metadata (metadata — Is invalid), so the hub has stopped trying"
        in page
    )
    assert "alice/sentiment-model" in page


def test_search_by_doi_and_repo(staff_client, failed, owner, mint):
    from tests.factories import RepoFactory, commit_files

    other = RepoFactory(namespace=owner.namespace, name="other-model")
    commit_files(other, owner, {"README.md": "# x"})
    mint(other)
    page = staff_client.get(CHANGELIST, {"q": failed.doi}).content.decode()
    assert failed.doi in page
    assert "10.5072/hub/0004" not in page
    page = staff_client.get(CHANGELIST, {"q": "other-model"}).content.decode()
    assert "10.5072/hub/0004" in page
    assert failed.doi not in page


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({"state": "failed"}, ["10.5072/hub/0002"]),
        ({"state": "findable"}, ["10.5072/hub/0001"]),
        ({"state": "attention"}, ["10.5072/hub/0002"]),
        ({"kind": "concept"}, ["10.5072/hub/0001"]),
        ({"error_is_permanent__exact": "1"}, ["10.5072/hub/0002"]),
        ({"pending_action__exact": "publish"}, ["10.5072/hub/0002"]),
    ],
)
def test_filters(staff_client, failed, params, shown):
    response = staff_client.get(CHANGELIST, params)
    assert [d.doi for d in response.context["cl"].result_list] == shown


def test_the_detail_shows_consent_payload_and_events(staff_client, failed, owner):
    response = staff_client.get(reverse("admin:doi_doi_change", args=[failed.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "alice</a> (Alice Liddell)" in page
    assert "I acknowledge that …" in page
    assert "&quot;Liddell, Alice&quot;" in page  # the payload, pretty-printed
    assert "Registration failed" in page
    assert "Audit trail" in page
    assert "Reserved" in page
    assert 'name="last_error"' not in page  # read-only
    assert 'name="doi"' not in page
    assert 'name="_save"' not in page


def test_staff_cannot_add_or_delete_dois(staff_client, failed):
    assert staff_client.get(reverse("admin:doi_doi_add")).status_code == 403
    assert staff_client.get(reverse("admin:doi_doi_delete", args=[failed.pk])).status_code == 403


def test_retry_registration_action(act, failed, datacite, staff):
    response = act("retry_registration", [failed])
    assert "1 DOI(s) queued for registration again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == "findable"
    assert datacite.state(failed.doi) == "findable"
    assert Event.objects.filter(doi=failed, kind="retried", actor=staff).exists()


@pytest.mark.django_db(transaction=True)
def test_retry_shows_a_new_failure(staff_client, failed, datacite):
    """Outside a test transaction the immediate backend pushes before the message is made."""
    datacite.fail("401")
    response = _act(staff_client, "retry_registration", [failed])
    assert "credentials" in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == "failed"


def test_resend_metadata_action(act, failed, datacite, staff):
    from repos.models import Repo, lock_override

    concept = failed.concept
    with lock_override(actor=staff, reason="A support request"):
        Repo.objects.filter(pk=failed.repo_id).update(name="renamed")
    response = act("resend_metadata", [concept])
    assert "1 DOI(s) queued to re-send their metadata." in response.content.decode()
    assert datacite.attributes(concept.doi)["titles"] == [{"title": "renamed"}]
    concept.refresh_from_db()
    assert concept.state == "findable"
    assert Event.objects.filter(doi=concept, kind="updated").exists()


def test_discard_action_refuses_dois_datacite_has(staff_client, failed):
    response = _act(staff_client, "discard", [failed, failed.concept])
    page = response.content.decode()
    assert "cannot be discarded" in page
    assert "1 DOI(s) discarded." in page
    failed.refresh_from_db()
    assert failed.state == "discarded"
    assert Doi.objects.get(pk=failed.concept_id).state == "findable"


@pytest.mark.parametrize("action", ["retry_registration", "resend_metadata", "discard"])
def test_view_only_staff_cannot_repair_dois(client, view_only_staff, failed, action):
    client.force_login(view_only_staff)
    page = client.get(CHANGELIST).content.decode()
    assert failed.doi in page and f'value="{action}"' not in page
    before = Doi.objects.values().get(pk=failed.pk)
    events = Event.objects.count()
    response = _act(client, action, [failed])
    assert response.redirect_chain[-1][0] == CHANGELIST
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("You do not have the permission to run “")
    assert message.endswith("”; nothing was changed.")
    assert Doi.objects.values().get(pk=failed.pk) == before
    assert Event.objects.count() == events
    assert failed.repo.locks.count() == 2


def test_support_staff_repair_dois(
    client, support_staff, failed, datacite, django_capture_on_commit_callbacks
):
    client.force_login(support_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(client, "retry_registration", [failed])
    assert "1 DOI(s) queued for registration again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == "findable"


def test_non_staff_cannot_see_the_admin(client, owner, failed):
    client.force_login(owner)
    response = client.get(CHANGELIST)
    assert response.status_code == 302


def test_consent_and_events_are_read_only(staff_client, failed):
    consent = failed.consents.get()
    response = staff_client.get(reverse("admin:doi_consent_change", args=[consent.pk]))
    assert response.status_code == 200
    assert 'name="text"' not in response.content.decode()
    assert staff_client.get(reverse("admin:doi_consent_add")).status_code == 403
    event = Event.objects.filter(doi=failed).first()
    response = staff_client.get(reverse("admin:doi_event_change", args=[event.pk]))
    assert response.status_code == 200
    assert (
        staff_client.get(reverse("admin:doi_event_changelist"), {"q": failed.doi}).status_code
        == 200
    )
    assert (
        staff_client.post(
            reverse("admin:doi_event_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


@pytest.mark.django_db(transaction=True)
def test_staff_repair_a_failed_doi_in_the_browser(page, screenshot, staff, failed, datacite):
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    page.goto("/admin/login/?next=/admin/doi/doi/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Registration failed").click()
    screenshot("doi-admin-list-failed")
    page.get_by_role("link", name=failed.doi).click()
    screenshot("doi-admin-detail")
    page.go_back()
    page.get_by_role("checkbox", name="Select this object for an action").first.check()
    page.get_by_label("Action:").select_option(label="Retry registration")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("1 DOI(s) queued for registration again.")).to_be_visible()
    screenshot("doi-admin-after-retry")
    page.goto(f"/admin/doi/doi/{failed.pk}/change/")
    screenshot("doi-admin-detail-after-retry")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/admin/doi/doi/{failed.pk}/change/")
    screenshot("doi-admin-detail-narrow")
    failed.refresh_from_db()
    assert failed.state == "findable"


def test_retry_registration_skips_the_wait_of_a_transient_failure(repo, mint, datacite, act):
    datacite.fail("503")  # the version, pushed first
    version = mint(repo)
    version.refresh_from_db()
    assert version.waiting_to_retry
    act("retry_registration", [version])
    version.refresh_from_db()
    assert version.state == "findable"
    assert datacite.state(version.doi) == "findable"


def test_retry_registration_is_refused_within_a_minute(act, failed, datacite):
    datacite.fail("422")
    act("retry_registration", [failed])
    response = act("retry_registration", [failed])
    page = response.content.decode()
    assert f"{failed.doi} was retried less than a minute ago; it can be retried again at " in page
    assert Event.objects.filter(doi=failed, kind="retried").count() == 1

"""The DOI section of a repository's settings: the settings slot, and its own URL for htmx."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from doi.models import Doi
from doi.owner_views import settings_slot
from repos.models import lock_override
from tests.factories import RepoFactory, commit_files

HTMX = {"HX-Request": "true", "HX-Target": "doi-section"}
AUTHOR = [{"type": "Personal", "name": "Alice Liddell"}]


@pytest.fixture
def repo(owner):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "---\nlicense: apache-2.0\n---\n# Sentiment\n"})
    return repo


def reserve(repo, user) -> Doi:
    return Doi.objects.mint(
        repo=repo, user=user, creators=AUTHOR, consent_text="Consent", consent_version="test"
    )


def text(html: str) -> str:
    """What a person reads: the HTML without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" :", ":")


def section_url(repo) -> str:
    return reverse(f"doi-owner:{repo.type}-section", args=[repo.namespace.name, repo.name])


def section(client, user, repo) -> str:
    client.force_login(user)
    response = client.get(section_url(repo), headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.smoke
def test_it_offers_generate_doi_when_the_repo_has_none(client, owner, repo):
    html = section(client, owner, repo)
    assert "A DOI (Digital Object Identifier) is a permanent name" in html
    assert ">Generate DOI</a>" in html
    assert "Generate new DOI" not in html
    generate = reverse("doi-owner:model-generate", args=["alice", "sentiment-model"])
    assert f'href="{generate}"' in html and f'hx-get="{generate}"' in html
    assert "<html" not in html


def test_it_says_the_current_revision_already_has_a_doi(client, owner, repo):
    doi = reserve(repo, owner)
    html = section(client, owner, repo)
    assert "The current revision already has a DOI." in html
    assert f"doi:{doi.doi}" in html
    assert repo.head.short_oid in html
    assert "Generate DOI</a>" not in html and "Generate new DOI</a>" not in html


def test_it_offers_generate_new_doi_once_the_repo_has_changed(client, owner, repo):
    first = reserve(repo, owner)
    commit_files(repo, owner, {"weights.bin": b"\x00\x01"})
    html = section(client, owner, repo)
    assert ">Generate new DOI</a>" in html
    assert f"revision <code>{first.revision_oid[:7]}</code>" in html


def test_it_marks_older_versions_outdated_and_lists_the_concept_doi(client, owner, repo):
    first = reserve(repo, owner)
    commit_files(repo, owner, {"weights.bin": b"\x00\x01"})
    second = reserve(repo, owner)
    html = section(client, owner, repo)
    # Newest first, the concept ("all versions") last.
    concept = Doi.objects.concepts().get(repo=repo)
    assert html.index(second.doi) < html.index(first.doi) < html.index(f"doi:{concept.doi}")
    assert html.count(">Outdated</span>") == 1
    first_item = html[html.index(f"doi:{first.doi}") :]
    assert first_item.index(">Outdated<") < first_item.index("</li>")
    assert "All versions" in html


def test_it_offers_reserve_instead_of_generate_for_a_private_repo(client, owner, repo):
    repo.set_private(True)
    html = section(client, owner, repo)
    assert "Reserve DOI</a>" in html and "does not resolve yet" in html
    assert "Generate DOI</a>" not in html


def test_it_explains_instead_of_offering_for_an_empty_repo(client, owner):
    empty = RepoFactory(namespace=owner.namespace, name="empty")
    html = section(client, owner, empty)
    assert "Add files first" in html
    assert "Generate DOI</a>" not in html


def test_it_polls_while_a_registration_is_pending(client, owner, repo):
    reserve(repo, owner)  # on_commit never runs here: the registration stays pending
    html = section(client, owner, repo)
    assert 'hx-trigger="every 2s"' in html
    assert f'hx-get="{section_url(repo)}"' in html
    assert "Registration in progress" in html
    assert "Registering at DataCite" in html


def test_it_stops_polling_once_datacite_confirmed(client, owner, repo):
    reserve(repo, owner)
    Doi.objects.filter(repo=repo).update(remote_state="findable", pending_action="")
    html = section(client, owner, repo)
    assert "every 2s" not in html
    assert "Findable" in html


def test_a_failed_doi_shows_datacite_message_and_retry(client, owner, repo):
    doi = reserve(repo, owner)
    Doi.objects.filter(pk=doi.pk).update(
        error_is_permanent=True,
        last_error="DataCite refused the URL: it is not in the repository's allowed domains.",
    )
    html = section(client, owner, repo)
    assert "DataCite did not register this DOI." in html
    assert "not in the repository&#x27;s allowed domains" in html
    retry = reverse("doi-owner:model-retry", args=["alice", "sentiment-model", doi.pk])
    assert f'action="{retry}"' in html and f'hx-post="{retry}"' in html
    assert ">Retry</button>" in html
    assert "Registration failed" in html


def test_an_outage_says_in_one_sentence_what_happened_and_when_the_next_try_is(client, owner, repo):
    doi = reserve(repo, owner)
    soon = timezone.now() + timedelta(seconds=1)
    Doi.objects.filter(pk=doi.pk).update(
        last_error="DataCite is not working properly right now (HTTP 503)", next_attempt_at=soon
    )
    html = text(section(client, owner, repo))
    assert (
        "DataCite is not working properly right now (HTTP 503), so the hub will try again "
        f"automatically at {timezone.localtime(soon):%H:%M} UTC."
    ) in html
    assert "Trying again automatically" not in html


def test_a_retry_after_today_names_the_day(client, owner, repo):
    doi = reserve(repo, owner)
    later = timezone.now() + timedelta(days=2)
    Doi.objects.filter(pk=doi.pk).update(
        last_error="DataCite asked the hub to send fewer requests", next_attempt_at=later
    )
    at = timezone.localtime(later)
    assert (
        "DataCite asked the hub to send fewer requests, so the hub will try again automatically "
        f"at {at:%H:%M} UTC on {at.day} {at:%B}."
    ) in text(section(client, owner, repo))


def test_it_says_when_the_registrar_is_a_sandbox(client, owner, repo, settings):
    settings.DOI_REGISTRAR = "local"
    html = section(client, owner, repo)
    assert "sandbox: nothing is registered at datacite" in text(html).lower()


def test_it_does_not_say_sandbox_with_the_datacite_registrar(client, owner, repo, settings):
    settings.DOI_REGISTRAR = "datacite"
    settings.DATACITE_API_URL = "https://api.datacite.org"
    html = section(client, owner, repo)
    assert "sandbox" not in html.lower()


def test_without_htmx_it_redirects_to_the_settings_page(client, owner, repo):
    client.force_login(owner)
    response = client.get(section_url(repo))
    assert response.status_code == 302
    assert response.url == repo.url("settings") + "#doi-section"


def test_it_rejects_post(client, owner, repo):
    client.force_login(owner)
    assert client.post(section_url(repo), headers=HTMX).status_code == 405


def test_it_requires_login(client, repo):
    response = client.get(section_url(repo), headers=HTMX)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_stranger_gets_404_on_a_private_repo_and_403_on_a_public_one(client, stranger, repo):
    client.force_login(stranger)
    assert client.get(section_url(repo), headers=HTMX).status_code == 403
    repo.set_private(True)
    assert client.get(section_url(repo), headers=HTMX).status_code == 404


def test_it_follows_a_renamed_repository_like_its_other_pages(client, owner, repo):
    client.force_login(owner)
    old_url = section_url(repo)
    repo.move(namespace=owner.namespace, name="sentiment")
    response = client.get(old_url, headers=HTMX)
    assert response.status_code == 301
    assert response.url == "/alice/sentiment/settings/doi"


def test_it_redirects_a_differently_cased_url_to_the_canonical_one(client, owner, repo):
    client.force_login(owner)
    response = client.get("/Alice/Sentiment-Model/settings/doi", headers=HTMX)
    assert response.status_code == 301
    assert response.url == "/alice/sentiment-model/settings/doi"


@pytest.mark.parametrize("member", ["writer", "reader"])
def test_org_members_below_admin_get_403(client, request, owner, org, member):
    user = request.getfixturevalue(member)
    repo = RepoFactory(namespace=org.namespace, name="shared", private=True)
    commit_files(repo, owner, {"a.txt": "a"})
    client.force_login(user)
    assert client.get(section_url(repo), headers=HTMX).status_code == 403


def test_an_org_admin_sees_the_section(client, owner, org):
    repo = RepoFactory(namespace=org.namespace, name="shared")
    commit_files(repo, owner, {"a.txt": "a"})
    assert "Generate DOI</a>" in section(client, owner, repo)


def test_the_settings_slot_renders_only_for_admins(rf: RequestFactory, owner, writer, org):
    repo = RepoFactory(namespace=org.namespace, name="shared")
    commit_files(repo, owner, {"a.txt": "a"})
    request = rf.get("/")
    request.user = writer
    assert settings_slot(request, repo, repo.head) == ""
    request.user = owner
    html = settings_slot(request, repo, repo.head)
    assert 'id="doi-section"' in html and "<h2>DOI</h2>" in html


def test_the_section_costs_few_queries_whatever_the_number_of_dois(
    client, owner, repo, django_assert_max_num_queries
):
    for i in range(3):
        commit_files(repo, owner, {f"f{i}.txt": str(i)})
        reserve(repo, owner)
    client.force_login(owner)
    for _ in range(2):  # rendered, then its rows cached
        with django_assert_max_num_queries(6):
            assert client.get(section_url(repo), headers=HTMX).status_code == 200


# The cached rows (one per DOI row as stored): a change shows on the next request ------------

each_backend = pytest.mark.usefixtures("cache_backend")


def items(html: str) -> list[str]:
    return [text(item) for item in re.findall(r'<li class="doi-item">.*?</li>', html, re.S)]


@each_backend
def test_a_state_change_by_another_process_shows_on_the_next_request(client, owner, repo):
    doi = reserve(repo, owner)
    assert "Registration in progress" in items(section(client, owner, repo))[0]
    Doi.objects.filter(pk=doi.pk).update(remote_state=Doi.RemoteState.FINDABLE, pending_action="")
    first = items(section(client, owner, repo))[0]
    assert "Findable" in first and "Registration in progress" not in first
    Doi.objects.filter(pk=doi.pk).update(remote_state=Doi.RemoteState.REGISTERED)
    first = items(section(client, owner, repo))[0]
    assert "Hidden" in first and "Findable" not in first


@each_backend
def test_counts_summed_by_another_process_show_on_the_next_request(client, owner, repo):
    doi = reserve(repo, owner)
    assert "counted on this hub" not in section(client, owner, repo)
    Doi.objects.filter(pk=doi.pk).update(own_view_count=7, own_counted_at=timezone.now())
    assert "counted on this hub" in items(section(client, owner, repo))[0]


@each_backend
def test_a_new_version_outdates_the_cached_row_of_the_previous_one(client, owner, repo):
    first = reserve(repo, owner)
    assert "Outdated" not in section(client, owner, repo)
    commit_files(repo, owner, {"v2.txt": "2"})
    reserve(repo, owner)
    rows = items(section(client, owner, repo))
    assert first.doi in rows[1] and "Outdated" in rows[1] and "Outdated" not in rows[0]


@each_backend
def test_a_rename_shows_in_the_rows_links_on_the_next_request(client, owner, repo, staff):
    reserve(repo, owner)
    assert "/alice/sentiment-model/settings/doi/" in section(client, owner, repo)
    with lock_override(actor=staff, reason="test: renamed by staff"):
        repo.move(namespace=repo.namespace, name="sentiment-v2")
    html = section(client, owner, repo)
    assert "/alice/sentiment-v2/settings/doi/" in html
    assert "/alice/sentiment-model/settings/doi/" not in html


@each_backend
def test_a_discarded_doi_leaves_the_section_at_once(client, owner, repo):
    doi = reserve(repo, owner)
    assert doi.doi in section(client, owner, repo)
    Doi.objects.filter(pk=doi.pk).update(discarded_at=timezone.now())
    assert f"doi:{doi.doi}" not in section(client, owner, repo)


@each_backend
def test_a_failure_is_never_served_from_the_cache(client, owner, repo):
    doi = reserve(repo, owner)
    assert "Retry" not in section(client, owner, repo)
    Doi.objects.filter(pk=doi.pk).update(
        remote_state=Doi.RemoteState.NONE,
        pending_action=Doi.Action.PUBLISH,
        error_is_permanent=True,
        last_error="DataCite refused the record",
    )
    for _ in range(2):  # each with this request's CSRF token
        html = section(client, owner, repo)
        assert "DataCite refused the record" in html and 'name="csrfmiddlewaretoken"' in html


# On the settings page ---------------------------------------------------------------------


def settings_page(client, user, repo) -> str:
    client.force_login(user)
    response = client.get(repo.url("settings"))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(("private", "queries"), [(False, 6), (True, 8)])
def test_the_settings_page_costs_the_same_queries_whatever_the_number_of_dois(
    client, owner, repo, private, queries, settings, django_assert_num_queries
):
    settings.DOI_QUOTA_PER_REPO_PER_DAY = settings.DOI_QUOTA_PER_USER_PER_DAY = 0  # no limit
    repo.set_private(private)  # a private one's are drafts, which the page speaks of too
    for i in range(5):
        commit_files(repo, owner, {f"f{i}.txt": str(i)})
        Doi.objects.mint(
            repo=repo,
            user=owner,
            creators=AUTHOR,
            consent_text="Consent",
            consent_version="test",
            draft=private,
        )
    client.force_login(owner)
    # Session, user, repository, its locks, the section's DOIs (its drafts among them), and the
    # header's; the rename form's namespaces where the repository is not locked (a draft does not
    # lock it). Rendered, then its rows cached.
    for _ in range(2):
        with django_assert_num_queries(queries):
            html = client.get(repo.url("settings")).content.decode()
        assert len(items(html)) == 6
        assert ("also publishes the reserved DOIs" in html) is private


@each_backend
def test_a_change_to_a_doi_shows_on_the_settings_page_at_the_next_request(client, owner, repo):
    doi = reserve(repo, owner)
    for _ in range(2):  # rendered, then cached: the section polls while it registers
        html = settings_page(client, owner, repo)
        assert "Registration in progress" in items(html)[0] and 'hx-trigger="every 2s"' in html
    # (the version and its concept DOI)
    Doi.objects.filter(repo=repo).update(remote_state=Doi.RemoteState.FINDABLE, pending_action="")
    html = settings_page(client, owner, repo)
    first = items(html)[0]
    assert "Findable" in first and "update pending" not in first and "hx-trigger" not in html
    doi.refresh_from_db()
    changes = doi.edit(
        user=owner, creators=AUTHOR, record={**doi.record_defaults(), "description": "New words"}
    )
    assert changes
    first = items(settings_page(client, owner, repo))[0]
    assert "Findable — update pending" in first and "Updating at DataCite" in first
    Doi.objects.filter(pk=doi.pk).update(remote_state=Doi.RemoteState.REGISTERED, pending_action="")
    first = items(settings_page(client, owner, repo))[0]
    assert "Hidden" in first and "Findable" not in first and "update pending" not in first

"""The repository settings page of a locked repository: each locked section says "locked by DOI",
why, and links to the support request form for that action instead of showing its form."""

from __future__ import annotations

import pytest

ACTIONS = ("rename", "visibility", "delete")


@pytest.mark.smoke
def test_locked_sections_lead_to_a_prefilled_support_request(client, owner, locked):
    client.force_login(owner)
    html = client.get(locked.url("settings")).content.decode()
    assert html.count("locked by DOI") >= 3
    for action in ACTIONS:
        assert f'href="/support/new?repo={locked.pk}&amp;action={action}"' in html
    assert "Delete this repository</button>" not in html
    assert "Make private</button>" not in html
    assert 'name="name"' not in html


def test_unlocked_repositories_keep_their_forms(client, owner, repo):
    client.force_login(owner)
    html = client.get(repo.url("settings")).content.decode()
    assert "locked by DOI" not in html and "/support/new" not in html
    assert "Delete this repository</button>" in html and "Make private</button>" in html


@pytest.mark.urls("tests.support.urls_without_support")
def test_without_the_support_app_it_points_to_the_support_address(client, owner, locked):
    client.force_login(owner)
    html = client.get(locked.url("settings")).content.decode()
    assert "locked by DOI" in html and "/support/new" not in html
    assert 'href="mailto:support@hub.example.org"' in html


def test_a_refused_post_shows_why_with_the_link(client, owner, locked):
    client.force_login(owner)
    response = client.post(locked.url("delete"), {"confirm": "alice/bert"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "it cannot be deleted by its owner" in html
    assert f'href="/support/new?repo={locked.pk}&amp;action=delete"' in html

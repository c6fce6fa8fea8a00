from __future__ import annotations

import pytest
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from repos import slots
from tests.factories import RepoFactory


@pytest.fixture
def registered():
    """Register callables for a test; unregister them afterwards."""
    added = []

    def add(slot, fn):
        slots.register(slot, fn)
        added.append((slot, fn))
        return fn

    yield add
    for slot, fn in added:
        slots.unregister(slot, fn)


def test_header_and_banner_slots_render_on_repository_pages(client, repo, registered):
    seen = []

    def header(request, repo, revision):
        seen.append((repo.full_name, revision.short_oid))
        return format_html('<a class="doi-tag" href="/doi/x">doi:{}</a>', "10.5072/hub/0001")

    registered("header", header)
    registered("banner", lambda request, repo, revision: mark_safe("<p>Outdated DOI</p>"))
    text = client.get("/alice/bert").text
    assert (
        '<div class="repo-ext repo-ext-header"><a class="doi-tag" href="/doi/x">'
        "doi:10.5072/hub/0001</a></div>"
    ) in text
    assert '<div class="repo-ext repo-ext-banner"><p>Outdated DOI</p></div>' in text
    assert text.index("repo-ext-header") < text.index('aria-label="Repository"')
    assert seen == [("alice/bert", repo.head.short_oid)]


def test_slots_receive_the_revision_shown(client, repo, registered):
    first = repo.revisions.get(message="Add card")
    seen = []
    registered("banner", lambda request, repo, revision: seen.append(revision) or "")
    client.get(f"/alice/bert/tree/{first.oid}")
    assert seen == [first]


def test_the_settings_slot_sits_between_visibility_and_the_danger_zone(
    client, repo, owner, registered
):
    registered("settings", lambda request, repo, revision: mark_safe("<h2>DOI</h2>"))
    client.force_login(owner)
    text = client.get("/alice/bert/settings").text
    section = '<section class="settings-section repo-ext-settings"><h2>DOI</h2></section>'
    assert section in text
    assert text.index("Change visibility") < text.index(section) < text.index("Danger zone")


def test_plain_strings_are_escaped_and_empty_output_adds_nothing(client, repo, registered):
    registered("header", lambda request, repo, revision: "<script>x</script>")
    registered("banner", lambda request, repo, revision: "")
    text = client.get("/alice/bert").text
    assert "&lt;script&gt;x&lt;/script&gt;" in text
    assert "repo-ext-banner" not in text


def test_an_empty_repository_passes_no_revision(client, owner, registered):
    RepoFactory(namespace=owner.namespace, name="empty")
    seen = []
    registered("header", lambda request, repo, revision: seen.append(revision) or "")
    client.get("/alice/empty")
    assert seen == [None]


def test_registering_twice_renders_once_and_unregister_removes(client, repo):
    def fn(request, repo, revision):
        return mark_safe("<b>once</b>")

    slots.register("header", fn)
    slots.register("header", fn)
    try:
        assert client.get("/alice/bert").text.count("<b>once</b>") == 1
    finally:
        slots.unregister("header", fn)
    assert "<b>once</b>" not in client.get("/alice/bert").text


def test_unknown_slots_are_refused():
    with pytest.raises(ValueError, match="Unknown slot"):
        slots.register("footer", lambda request, repo, revision: "")

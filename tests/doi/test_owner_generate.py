"""The acknowledgement form behind Generate DOI / Generate new DOI."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from doi.forms import CONSENT_POINTS, CONSENT_TEXT, CONSENT_VERSION
from doi.models import Consent, Doi, DoiNotAllowed
from tests.factories import RepoFactory, UserFactory, commit_files

VALID_ORCID = "0000-0002-1825-0097"
BAD_ORCID = "0000-0002-1825-0098"


@pytest.fixture
def repo(owner):
    repo = RepoFactory(namespace=owner.namespace, name="sentiment-model")
    commit_files(repo, owner, {"README.md": "---\nlicense: apache-2.0\n---\n# Sentiment\n"})
    return repo


def url(repo) -> str:
    return reverse(f"doi-owner:{repo.type}-generate", args=[repo.namespace.name, repo.name])


def form_data(*authors: dict, action="generate", acknowledge=True) -> dict:
    data = {"authors-TOTAL_FORMS": str(len(authors)), "authors-INITIAL_FORMS": "0"}
    for i, author in enumerate(authors):
        row = {"type": "Personal", "name": "", "given_name": "", "family_name": ""}
        row |= {"orcid": "", "affiliation": ""} | author
        data |= {f"authors-{i}-{k}": v for k, v in row.items()}
    if acknowledge:
        data["acknowledge"] = "on"
    return data | {"action": action}


def names_in_order(html: str) -> list[str]:
    """The values of the Full name inputs, top to bottom."""
    out = []
    for tag in re.findall(r'<input[^>]*name="authors-\d+-name"[^>]*>', html):
        value = re.search(r'value="([^"]*)"', tag)
        out.append(value.group(1) if value else "")
    return out


# Showing the form ----------------------------------------------------------------------------


@pytest.mark.smoke
def test_it_shows_the_acknowledgement_and_the_exact_payload(logged_in, repo):
    response = logged_in.get(url(repo))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "will be locked" in html and "support request" in html
    assert "full names will be transferred to DataCite" in html
    # The words shown are the words stored with the consent.
    for lead, rest in CONSENT_POINTS:
        assert escape(lead) in html and escape(rest) in html
        assert f"{lead} {rest}" in CONSENT_TEXT
    assert "I acknowledge" in html
    assert ">Generate DOI</button>" in html
    # The preview, from Doi.objects.preview: the values a person checks …
    assert "Liddell, Alice" in html
    for text in ("sentiment-model", "BOINC AI Hub", "Machine learning model", "Apache License 2.0"):
        assert text in html
    assert repo.head.short_oid in html
    # … and the raw JSON inside a <details>.
    assert "<details" in html and "&quot;publicationYear&quot;" in html
    assert Doi.objects.count() == 0


def test_the_author_list_defaults_to_the_users_full_name(logged_in, repo):
    html = logged_in.get(url(repo)).content.decode()
    assert names_in_order(html) == ["Alice Liddell"]
    assert "Your profile has no full name" not in html


def test_without_a_full_name_the_first_row_is_empty_and_the_form_asks(client, repo):
    nameless = UserFactory(username="nameless", full_name="")
    repo = RepoFactory(namespace=nameless.namespace, name="m")
    commit_files(repo, nameless, {"a.txt": "a"})
    client.force_login(nameless)
    html = client.get(url(repo)).content.decode()
    assert names_in_order(html) == [""]
    assert "Your profile has no full name" in html
    assert "nameless" not in names_in_order(html)


def test_with_htmx_it_returns_the_section_fragment(logged_in, repo):
    response = logged_in.get(url(repo), headers={"HX-Request": "true", "HX-Target": "doi-section"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="doi-section"')
    assert "I acknowledge" in html


def test_it_says_generate_new_doi_for_a_later_revision(logged_in, owner, repo):
    logged_in.post(url(repo), form_data({"name": "Alice Liddell"}))
    commit_files(repo, owner, {"weights.bin": b"\x00"})
    html = logged_in.get(url(repo)).content.decode()
    assert ">Generate new DOI</button>" in html
    assert "earlier DOIs stay valid and are marked outdated" in html


def test_when_the_current_revision_has_a_doi_it_goes_back_to_the_settings(logged_in, repo):
    logged_in.post(url(repo), form_data({"name": "Alice Liddell"}))
    response = logged_in.get(url(repo), follow=True)
    assert response.redirect_chain[-1][0].startswith(repo.url("settings"))
    assert "already has a DOI" in response.content.decode()


# Editing the authors without JavaScript ------------------------------------------------------


def test_add_author_adds_an_empty_row_and_keeps_the_rest(logged_in, repo):
    data = form_data({"name": "Alice Liddell", "affiliation": "Oxford"}, action="add")
    html = logged_in.post(url(repo), data).content.decode()
    assert names_in_order(html) == ["Alice Liddell", ""]
    assert 'value="Oxford"' in html
    assert "checked" in html.split('name="acknowledge"')[1].split(">")[0]
    assert Doi.objects.count() == 0


def test_remove_takes_out_that_row(logged_in, repo):
    data = form_data({"name": "Alice Liddell"}, {"name": "Bob Writer"}, action="remove:0")
    assert names_in_order(logged_in.post(url(repo), data).content.decode()) == ["Bob Writer"]


def test_move_up_and_down_reorder_rows(logged_in, repo):
    rows = ({"name": "A One"}, {"name": "B Two"}, {"name": "C Three"})
    up = logged_in.post(url(repo), form_data(*rows, action="up:2")).content.decode()
    assert names_in_order(up) == ["A One", "C Three", "B Two"]
    down = logged_in.post(url(repo), form_data(*rows, action="down:0")).content.decode()
    assert names_in_order(down) == ["B Two", "A One", "C Three"]


@pytest.mark.parametrize(
    "action",
    [
        "up:0",
        "down:1",
        "remove:7",
        "up:x",
        "explode",
        "add-organization",
        # Digits to str.isdigit() that int() refuses or reads otherwise: never a 500.
        "remove:²",
        "remove:\u0661",  # ARABIC-INDIC DIGIT ONE
        "remove:" + "0" * 5000,
    ],
)
def test_row_actions_that_make_no_sense_change_nothing(logged_in, repo, action):
    rows = ({"name": "A One"}, {"name": "B Two"})
    html = logged_in.post(url(repo), form_data(*rows, action=action)).content.decode()
    assert names_in_order(html) == ["A One", "B Two"]
    assert Doi.objects.count() == 0


def test_focus_stays_with_the_row_a_button_moved_or_added(logged_in, repo):
    rows = ({"name": "A One"}, {"name": "B Two"}, {"name": "C Three"})
    up = logged_in.post(url(repo), form_data(*rows, action="up:2")).content.decode()
    assert re.search(r'id="author-1-up"[^>]*autofocus', up)
    assert up.count("autofocus") == 1
    top = logged_in.post(url(repo), form_data(*rows, action="up:1")).content.decode()
    assert re.search(r'id="author-0-down"[^>]*autofocus', top)
    added = logged_in.post(url(repo), form_data(*rows, action="add")).content.decode()
    assert re.search(r'<input[^>]*name="authors-3-name"[^>]*autofocus', added)


def test_the_preview_follows_the_edited_author_order(logged_in, repo):
    rows = ({"name": "Alice Liddell"}, {"name": "Bob Writer", "orcid": VALID_ORCID})
    html = logged_in.post(url(repo), form_data(*rows, action="up:1")).content.decode()
    preview = html[html.index('id="doi-preview"') :]
    assert preview.index("Writer, Bob") < preview.index("Liddell, Alice")
    assert f"https://orcid.org/{VALID_ORCID}" in preview


def test_an_organization_owner_can_be_added_as_author(client, owner, org):
    repo = RepoFactory(namespace=org.namespace, name="shared")
    commit_files(repo, owner, {"a.txt": "a"})
    client.force_login(owner)
    html = client.get(url(repo)).content.decode()
    assert f"Add {org.display_name} as author" in html
    data = form_data({"name": "Alice Liddell"}, action="add-organization")
    html = client.post(url(repo), data).content.decode()
    assert names_in_order(html) == ["Alice Liddell", org.display_name]
    assert 'value="Organizational" selected' in html


def test_update_preview_with_htmx_returns_only_the_preview(logged_in, repo):
    data = form_data({"name": "Jane Doe"}, action="preview")
    headers = {"HX-Request": "true", "HX-Target": "doi-preview"}
    html = logged_in.post(url(repo), data, headers=headers).content.decode()
    assert html.lstrip().startswith('<div id="doi-preview"')
    assert "Doe, Jane" in html and "I acknowledge" not in html


# Validation: nothing is lost ------------------------------------------------------------------


def test_an_orcid_with_a_wrong_check_digit_is_refused_next_to_the_field(logged_in, repo):
    data = form_data({"name": "Alice Liddell", "orcid": BAD_ORCID, "affiliation": "Oxford"})
    response = logged_in.post(url(repo), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert f"{BAD_ORCID} is not a valid ORCID iD" in html
    assert "Some details need attention" in html
    assert f'value="{BAD_ORCID}"' in html and 'value="Oxford"' in html
    assert Doi.objects.count() == 0


def test_a_missing_name_is_refused(logged_in, repo):
    html = logged_in.post(url(repo), form_data({"name": ""})).content.decode()
    assert "Add at least one author." in html
    assert Doi.objects.count() == 0


def test_an_orcid_without_a_name_asks_for_the_name(logged_in, repo):
    html = logged_in.post(url(repo), form_data({"orcid": VALID_ORCID})).content.decode()
    assert "Enter the author" in html and "full name" in html
    assert Doi.objects.count() == 0


def test_without_the_acknowledgement_nothing_happens_and_the_authors_stay(logged_in, repo):
    data = form_data({"name": "Jane Doe", "orcid": VALID_ORCID}, acknowledge=False)
    html = logged_in.post(url(repo), data).content.decode()
    assert "Tick the box to confirm" in html
    assert names_in_order(html) == ["Jane Doe"] and f'value="{VALID_ORCID}"' in html
    assert Doi.objects.count() == 0 and Consent.objects.count() == 0


def test_a_refusal_from_mint_is_shown_in_the_form(logged_in, repo, monkeypatch):
    def refuse(**kwargs):
        raise DoiNotAllowed("The current revision already has a DOI: 10.5072/hub/0002.")

    monkeypatch.setattr(Doi.objects, "mint", refuse)
    html = logged_in.post(url(repo), form_data({"name": "Jane Doe"})).content.decode()
    assert "already has a DOI: 10.5072/hub/0002." in html
    assert names_in_order(html) == ["Jane Doe"]


# Generating --------------------------------------------------------------------------------


@pytest.mark.smoke
def test_it_reserves_one_doi_and_records_the_consent(logged_in, owner, repo):
    rows = (
        {"name": "Alice Liddell", "affiliation": "Oxford"},
        {"given_name": "Bob", "family_name": "Writer", "orcid": VALID_ORCID},
    )
    response = logged_in.post(url(repo), form_data(*rows))
    assert response.status_code == 302
    assert response.url == repo.url("settings") + "#doi-section"
    version = Doi.objects.versions().get()
    assert version.revision == repo.head
    assert [c["name"] for c in version.creators] == ["Alice Liddell", "Bob Writer"]
    assert version.creators[1]["orcid"] == VALID_ORCID
    consent = Consent.objects.get()
    assert (consent.doi, consent.user, consent.repo) == (version, owner, repo)
    assert consent.text == CONSENT_TEXT and consent.text_version == CONSENT_VERSION
    assert consent.payload == version.metadata
    assert consent.payload["creators"][0]["affiliation"] == [{"name": "Oxford"}]


def test_the_description_starts_from_the_card_and_the_owner_may_change_it(logged_in, owner):
    repo = RepoFactory(namespace=owner.namespace, name="described")
    commit_files(repo, owner, {"README.md": "---\nsummary: Tells happy from sad.\n---\n# X\n"})
    html = logged_in.get(url(repo)).content.decode()
    assert re.search(r'<textarea name="description"[^>]*>\s*Tells happy from sad.</textarea>', html)
    data = form_data({"name": "Jane Doe"}) | {"description": "  Our own words.\n\nTwo lines. "}
    logged_in.post(url(repo), data)
    version = Doi.objects.versions().get()
    assert version.record["description"] == "Our own words.\n\nTwo lines."
    assert version.metadata["descriptions"] == [
        {"description": "Our own words.\n\nTwo lines.", "descriptionType": "Abstract"}
    ]


def test_a_description_left_out_of_the_post_is_the_card_s(logged_in, owner):
    repo = RepoFactory(namespace=owner.namespace, name="described")
    commit_files(repo, owner, {"README.md": "---\nsummary: Tells happy from sad.\n---\n# X\n"})
    logged_in.post(url(repo), form_data({"name": "Jane Doe"}))
    assert Doi.objects.versions().get().record["description"] == "Tells happy from sad."


def test_a_description_with_an_invisible_character_is_refused_and_kept(logged_in, repo):
    data = form_data({"name": "Jane Doe"}) | {"description": "Evil \u202e text"}
    html = logged_in.post(url(repo), data).content.decode()
    assert "Remove the invisible character U+202E" in html
    assert "Evil \u202e text</textarea>" in html
    assert Doi.objects.count() == 0


def test_the_payload_shown_is_the_payload_stored(logged_in, repo):
    shown = logged_in.post(url(repo), form_data({"name": "Jane Doe"}, action="preview"))
    logged_in.post(url(repo), form_data({"name": "Jane Doe"}))
    payload = Consent.objects.get().payload
    html = shown.content.decode()
    assert payload["doi"] in html and payload["url"] in html and payload["version"] in html


def test_with_htmx_success_reloads_the_settings_page_which_is_locked_now(logged_in, repo):
    headers = {"HX-Request": "true", "HX-Target": "doi-section"}
    response = logged_in.post(url(repo), form_data({"name": "Jane Doe"}), headers=headers)
    version = Doi.objects.versions().get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == repo.url("settings")

    html = logged_in.get(repo.url("settings")).content.decode()
    assert f"doi:{version.doi}" in html
    assert "locked by DOI" in html
    assert f"{version.doi} is reserved; its registration is under way." in html
    assert "now needs a support request" in html
    assert "The current revision already has a DOI." in html


def test_a_second_submit_makes_no_second_doi(logged_in, repo):
    logged_in.post(url(repo), form_data({"name": "Jane Doe"}))
    response = logged_in.post(url(repo), form_data({"name": "Jane Doe"}), follow=True)
    assert Doi.objects.versions().count() == 1
    assert Consent.objects.count() == 1
    assert "already has a DOI" in response.content.decode()


def test_generate_new_doi_gives_the_new_revision_its_own_doi(logged_in, owner, repo):
    logged_in.post(url(repo), form_data({"name": "Jane Doe"}))
    commit_files(repo, owner, {"weights.bin": b"\x00"})
    logged_in.post(url(repo), form_data({"name": "Jane Doe"}))
    first, second = Doi.objects.versions().order_by("number")
    assert second.revision == repo.head and first.revision != repo.head
    assert first.is_outdated and not second.is_outdated


# Access ------------------------------------------------------------------------------------


def test_it_rejects_other_methods(logged_in, repo):
    assert logged_in.put(url(repo)).status_code == 405


def test_it_requires_login(client, repo):
    response = client.post(url(repo), form_data({"name": "Jane Doe"}))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert Doi.objects.count() == 0


def test_a_stranger_gets_403_on_a_public_repo_and_404_on_a_private_one(client, stranger, repo):
    client.force_login(stranger)
    assert client.get(url(repo)).status_code == 403
    assert client.post(url(repo), form_data({"name": "M S"})).status_code == 403
    repo.set_private(True)
    assert client.get(url(repo)).status_code == 404
    assert Doi.objects.count() == 0


@pytest.mark.parametrize("member", ["writer", "reader"])
def test_org_members_below_admin_get_403(client, request, owner, org, member):
    user = request.getfixturevalue(member)
    repo = RepoFactory(namespace=org.namespace, name="shared")
    commit_files(repo, owner, {"a.txt": "a"})
    client.force_login(user)
    assert client.get(url(repo)).status_code == 403
    assert client.post(url(repo), form_data({"name": "Bob Writer"})).status_code == 403
    assert Doi.objects.count() == 0


def test_a_private_repo_gets_the_reserve_form_and_a_draft(logged_in, repo):
    repo.set_private(True)
    assert ">Reserve DOI</button>" in logged_in.get(url(repo)).content.decode()
    logged_in.post(url(repo), form_data({"name": "Jane Doe"}))
    assert Doi.objects.versions().get().pending_action in ("reserve", "")
    assert Doi.objects.drafts().versions().count() == 1


def test_datasets_have_their_own_urls(client, owner):
    dataset = RepoFactory(namespace=owner.namespace, name="corpus", type="dataset")
    commit_files(dataset, owner, {"data.csv": "a,b\n"})
    client.force_login(owner)
    assert url(dataset) == "/datasets/alice/corpus/settings/doi/generate"
    html = client.get(url(dataset)).content.decode()
    assert "Dataset" in html
    client.post(url(dataset), form_data({"name": "Alice Liddell"}))
    assert Doi.objects.versions().get().repo == dataset


@pytest.mark.django_db(transaction=True)
def test_when_the_registration_runs_at_once_the_section_says_it_is_findable(
    logged_in, repo, settings
):
    # Committed for real, so the ImmediateBackend registers within the request.
    settings.DOI_REGISTRAR = "local"
    response = logged_in.post(url(repo), form_data({"name": "Jane Doe"}), follow=True)
    version = Doi.objects.versions().get()
    html = response.content.decode()
    assert f"{version.doi} is registered in the sandbox (nothing was sent to DataCite)." in html
    assert "every 2s" not in html


@pytest.mark.django_db(transaction=True)
def test_during_an_outage_it_says_the_doi_is_not_registered_yet_and_when_it_is_retried(
    logged_in, repo, datacite
):
    """Outside a test transaction the immediate backend pushes before the notice is made."""
    datacite.go_down()
    response = logged_in.post(url(repo), form_data({"name": "Jane Doe"}))
    version = Doi.objects.versions().get()
    html = logged_in.get(response.url).content.decode()
    assert (
        f"{version.doi} is not registered yet: DataCite could not be reached, so the hub will "
        "try again automatically at "
    ) in html

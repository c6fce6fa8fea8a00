"""Related works, funders and ROR ids in the Generate DOI form: proposed from the card, edited
by the owner, checked next to the field, and minted as confirmed."""

from __future__ import annotations

import re

import pytest

from doi.models import Doi
from tests.doi.test_owner_generate import form_data, url
from tests.factories import RepoFactory, commit_files
from tests.factories import mint_doi as mint_doi_now

EC = "10.13039/501100000780"


@pytest.fixture
def base(owner, django_capture_on_commit_callbacks):
    base = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(base, owner, {"README.md": "# BERT"})
    with django_capture_on_commit_callbacks(execute=True):
        return mint_doi_now(base, owner)


@pytest.fixture
def repo(owner, base):
    repo = RepoFactory(namespace=owner.namespace, name="tuned")
    card = "---\nbase_model: alice/bert\ntags:\n  - arxiv:2106.09685\n---\n# Tuned\n"
    commit_files(repo, owner, {"README.md": card})
    return repo


def related(*rows: dict) -> dict:
    data = {"related-TOTAL_FORMS": str(len(rows)), "related-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        full = {"relation_type": "IsDerivedFrom", "identifier": "", "identifier_type": ""} | row
        data |= {f"related-{i}-{k}": v for k, v in full.items()}
    return data


def funding(*rows: dict) -> dict:
    data = {"funding-TOTAL_FORMS": str(len(rows)), "funding-INITIAL_FORMS": "0"}
    fields = ("funder_name", "funder_identifier", "award_number", "award_title")
    for i, row in enumerate(rows):
        data |= {f"funding-{i}-{k}": row.get(k, "") for k in fields}
    return data


def values(html: str, name: str) -> list[str]:
    out = []
    for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', html):
        value = re.search(r'value="([^"]*)"', tag)
        out.append(value.group(1) if value else "")
    return out


AUTHOR = {"name": "Alice Liddell"}


def test_the_form_proposes_the_cards_links(logged_in, repo, base):
    html = logged_in.get(url(repo)).content.decode()
    assert values(html, r"related-\d+-identifier") == [base.doi, "arXiv:2106.09685"]
    assert '<option value="IsDerivedFrom" selected>is derived from</option>' in html
    assert '<option value="IsSupplementTo" selected>is a supplement to</option>' in html
    # …and the preview shows them as they will be sent.
    assert f"is derived from doi:{base.doi}; is a supplement to arXiv:2106.09685" in html


def test_the_owner_drops_changes_and_adds_links_and_funders(logged_in, repo, base):
    data = form_data(AUTHOR) | related(
        {"relation_type": "IsVariantFormOf", "identifier": base.doi},
        {"relation_type": "References", "identifier": "https://example.org/data"},
    )
    data |= funding(
        {"funder_name": "European Commission", "funder_identifier": EC, "award_number": "42"}
    )
    assert logged_in.post(url(repo), data).status_code == 302
    doi = Doi.objects.get(repo=repo, kind="version")
    assert doi.record["related_works"] == [
        {"identifier": base.doi, "identifier_type": "DOI", "relation_type": "IsVariantFormOf"},
        {"identifier": "https://example.org/data", "identifier_type": "URL",
         "relation_type": "References"},
    ]  # fmt: skip
    assert doi.metadata["fundingReferences"] == [
        {"funderName": "European Commission", "funderIdentifier": f"https://doi.org/{EC}",
         "funderIdentifierType": "Crossref Funder ID", "awardNumber": "42"}
    ]  # fmt: skip
    # The consent stores exactly what was sent.
    assert doi.consents.get().payload["relatedIdentifiers"] == doi.metadata["relatedIdentifiers"]


def test_a_client_that_sends_only_authors_gets_the_cards_links(logged_in, repo, base):
    assert logged_in.post(url(repo), form_data(AUTHOR)).status_code == 302
    doi = Doi.objects.get(repo=repo, kind="version")
    related = doi.record["related_works"]
    assert [r["relation_type"] for r in related] == ["IsDerivedFrom", "IsSupplementTo"]
    assert doi.metadata["fundingReferences"] == []


def test_bad_rows_are_refused_next_to_the_field_and_kept(logged_in, repo):
    data = form_data(AUTHOR | {"affiliation": "Andes", "affiliation_ror": "02mhbdp95"})
    data |= related({"identifier": "10.1234", "identifier_type": "DOI"})
    data |= funding({"funder_name": "EC", "funder_identifier": "10.5072/nope"})
    response = logged_in.post(url(repo), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "“10.1234” is not a valid DOI (one looks like 10.1234/abcd)." in html
    assert "Related work 1 (Identifier): “10.1234” is not a valid DOI" in html
    assert "Funder 1 (Funder&#x27;s ROR id or Crossref Funder ID): “10.5072/nope” is a DOI" in html
    assert "its check digits do not match" in html
    assert values(html, "related-0-identifier") == ["10.1234"]
    assert values(html, "funding-0-funder_identifier") == ["10.5072/nope"]
    assert not Doi.objects.filter(repo=repo).exists()


def test_add_and_remove_rows_keep_the_rest_and_move_the_focus(logged_in, repo, base):
    data = form_data(AUTHOR, action="related-add") | related({"identifier": base.doi})
    html = logged_in.post(url(repo), data).content.decode()
    assert values(html, r"related-\d+-identifier") == [base.doi, ""]
    assert re.search(r'<input[^>]*name="related-1-identifier"[^>]*autofocus', html)
    data = form_data(AUTHOR, action="funding-add") | related() | funding()
    html = logged_in.post(url(repo), data).content.decode()
    assert values(html, r"funding-\d+-funder_name") == [""]
    assert values(html, r"related-\d+-identifier") == []  # the owner removed the card's
    data = form_data(AUTHOR, action="related-remove:0") | related(
        {"identifier": base.doi}, {"identifier": "arXiv:2106.09685"}
    )
    html = logged_in.post(url(repo), data).content.decode()
    assert values(html, r"related-\d+-identifier") == ["arXiv:2106.09685"]
    assert re.search(r'<input[^>]*name="related-0-identifier"[^>]*autofocus', html)
    data = form_data(AUTHOR, action="funding-remove:7") | funding({"funder_name": "EC"})
    html = logged_in.post(url(repo), data).content.decode()
    assert values(html, r"funding-\d+-funder_name") == ["EC"]


def test_the_preview_shows_the_ror_id_of_an_affiliation(logged_in, repo):
    author = AUTHOR | {"affiliation": "Universidad de los Andes", "affiliation_ror": "02mhbdp94"}
    response = logged_in.post(url(repo), form_data(author, action="preview"))
    html = response.content.decode()
    assert 'ROR</span> <span class="mono">https://ror.org/02mhbdp94</span>' in html

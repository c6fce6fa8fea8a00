"""Edit metadata of a live DOI: its related works, funders and affiliations' ROR ids change
through the same record form as at generation, and DataCite gets them without an event."""

from __future__ import annotations

import json
import re

from doi.models import Doi
from tests.doi.test_owner_edit import form_data, url
from tests.doi.test_owner_related import funding, related

EC = "10.13039/501100000780"


def test_an_edit_adds_a_paper_a_funder_and_a_ror_id(
    logged_in, minted, alice, datacite, django_capture_on_commit_callbacks
):
    html = logged_in.get(url(minted)).content.decode()
    assert "Add related work" in html and "Add funder" in html
    author = alice | {"affiliation_ror": "https://ror.org/02mhbdp94"}
    data = form_data(author) | related(
        {"relation_type": "IsSupplementTo", "identifier": "arxiv:2106.09685"}
    )
    data |= funding({"funder_name": "European Commission", "funder_identifier": EC})
    with django_capture_on_commit_callbacks(execute=True):
        assert logged_in.post(url(minted), data).status_code == 302
    *_, put = datacite.requests_for(minted.doi)
    body = json.loads(put["body"])["data"]["attributes"]
    assert "event" not in body
    assert body["relatedIdentifiers"][-1] == {
        "relatedIdentifier": "arXiv:2106.09685",
        "relatedIdentifierType": "arXiv",
        "relationType": "IsSupplementTo",
    }
    assert body["fundingReferences"] == [
        {"funderName": "European Commission", "funderIdentifier": f"https://doi.org/{EC}",
         "funderIdentifierType": "Crossref Funder ID"}
    ]  # fmt: skip
    assert body["creators"][0]["affiliation"][0]["affiliationIdentifier"] == (
        "https://ror.org/02mhbdp94"
    )
    minted.refresh_from_db()
    assert minted.state == Doi.State.FINDABLE


def test_an_edit_with_a_bad_funder_is_refused_and_kept(logged_in, minted, alice, datacite):
    sent_before = len(datacite.requests_for(minted.doi))
    data = form_data(alice) | funding({"funder_name": "EC", "funder_identifier": "EC-1"})
    html = logged_in.post(url(minted), data).content.decode()
    assert "neither a ROR id (https://ror.org/…) nor a Crossref Funder ID" in html
    assert re.search(r'name="funding-0-funder_identifier"[^>]*value="EC-1"', html)
    assert len(datacite.requests_for(minted.doi)) == sent_before


def test_the_add_funder_button_works_in_the_edit_form(logged_in, minted, alice):
    data = form_data(alice, action="funding-add") | funding()
    html = logged_in.post(url(minted), data).content.decode()
    assert re.search(r'<input[^>]*name="funding-0-funder_name"[^>]*autofocus', html)

"""DOIs from code: list a repository's DOIs, read the acknowledgement, mint — through the
client's own HTTP session and error handling, and through ``requests`` as the README shows."""

from __future__ import annotations

import json

import pytest
import requests
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from doi.forms import CONSENT_TEXT, CONSENT_VERSION
from doi.models import Consent, Doi
from tests.factories import RepoFactory, UserFactory, commit_files, mint_doi

CARD = "---\nlicense: mit\n---\n# Bert\n"
ALICE = {"name": "Alice Liddell", "orcid": "0000-0002-1825-0097", "affiliation": "Wonderland"}


@pytest.fixture(autouse=True)
def _doi_settings(settings):
    settings.DOI_REGISTRAR = "local"
    settings.DOI_CONCEPT_DOIS = True
    settings.DOI_INLINE_RETRIES = 0


@pytest.fixture
def bert(owner):
    repo = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(repo, owner, {"README.md": CARD})
    return repo


@pytest.fixture
def call(live_server, hf_home):
    """``call(method, path, token, json=…)``: the client's session and error handling."""

    def send(method: str, path: str, token: str | None, **kwargs):
        headers = build_hf_headers(token=token if token is not None else False)
        response = get_session().request(
            method, f"{live_server.url}{path}", headers=headers, **kwargs
        )
        hf_raise_for_status(response)
        return response.json()

    return send


DOIS = "/api/models/alice/bert/dois"


def test_it_lists_a_repositorys_dois_with_state_revision_and_concept(call, owner, bert):
    first = mint_doi(bert, owner)
    commit_files(bert, owner, {"weights.bin": b"v2"})
    second = mint_doi(bert, owner)
    listed = call("GET", DOIS, None)
    assert listed["id"] == "alice/bert"
    assert listed["concept"]["doi"] == first.concept.doi
    assert listed["concept"]["kind"] == "concept"
    versions = [(v["doi"], v["revision"], v["state"], v["outdated"]) for v in listed["versions"]]
    assert versions == [
        (second.doi, second.revision_oid, "findable", False),
        (first.doi, first.revision_oid, "findable", True),
    ]


def test_a_private_repositorys_dois_are_not_found_by_strangers(call, token_for, owner):
    RepoFactory(namespace=owner.namespace, name="bert", private=True)
    stranger = UserFactory(username="mallory")
    with pytest.raises(RepositoryNotFoundError):
        call("GET", DOIS, token_for(stranger))
    assert call("GET", DOIS, token_for(owner, "read"))["versions"] == []


def test_the_acknowledgement_gives_the_text_its_version_and_the_exact_payload(
    call, token_for, owner, bert
):
    got = call("GET", f"{DOIS}/acknowledgement", token_for(owner, "read"))
    assert got["acknowledgement"] == {"version": CONSENT_VERSION, "text": CONSENT_TEXT}
    assert got["authors"] == [{"type": "Personal", "name": "Alice Liddell"}]
    assert got["datacite"]["creators"][0]["name"] == "Liddell, Alice"
    assert got["datacite"]["titles"] == [{"title": "bert"}]
    assert not Doi.objects.exists()


def test_the_acknowledgement_previews_the_authors_given(call, token_for, owner, bert):
    got = call(
        "GET",
        f"{DOIS}/acknowledgement",
        token_for(owner, "read"),
        params={"authors": json.dumps([ALICE, {"type": "Organizational", "name": "Tea Lab"}])},
    )
    creators = got["datacite"]["creators"]
    assert [c["name"] for c in creators] == ["Liddell, Alice", "Tea Lab"]
    assert creators[0]["nameIdentifiers"][0]["nameIdentifier"].endswith("0000-0002-1825-0097")


def test_minting_without_the_acknowledgement_answers_the_text_to_acknowledge(
    call, token_for, owner, bert
):
    with pytest.raises(HfHubHTTPError) as refused:
        call("POST", DOIS, token_for(owner), json={"authors": [ALICE]})
    assert refused.value.response.status_code == 400
    body = refused.value.response.json()
    assert body["acknowledgement"] == {"version": CONSENT_VERSION, "text": CONSENT_TEXT}
    assert CONSENT_TEXT.splitlines()[0] in str(refused.value)
    with pytest.raises(HfHubHTTPError):
        call("POST", DOIS, token_for(owner), json={"acknowledgement": "2020-01-01"})
    assert not Doi.objects.exists()


def test_minting_with_requests_as_the_readme_shows(live_server, token_for, owner, bert, datacite):
    token = token_for(owner)
    url = f"{live_server.url}/api/models/alice/bert/dois"
    headers = {"Authorization": f"Bearer {token}"}
    ack = requests.get(f"{url}/acknowledgement", headers=headers, timeout=10).json()
    assert ack["acknowledgement"]["text"] == CONSENT_TEXT
    response = requests.post(
        url,
        headers=headers,
        json={"acknowledgement": ack["acknowledgement"]["version"], "authors": [ALICE]},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    minted = response.json()
    assert minted["state"] == "findable"
    assert datacite.state(minted["doi"]) == "findable"
    doi = Doi.objects.get(doi=minted["doi"])
    assert (doi.revision_oid, doi.created_by) == (bert.head.oid, owner)
    consent = Consent.objects.get(doi=doi)
    assert (consent.text, consent.text_version, consent.user) == (
        CONSENT_TEXT,
        CONSENT_VERSION,
        owner,
    )
    assert bert.is_locked


def test_minting_needs_a_write_token(call, token_for, owner, bert):
    with pytest.raises(HfHubHTTPError) as refused:
        body = {"acknowledgement": CONSENT_VERSION, "authors": [ALICE]}
        call("POST", DOIS, token_for(owner, "read"), json=body)
    assert refused.value.response.status_code == 403
    assert "has read scope only" in str(refused.value)
    assert not Doi.objects.exists()


def test_only_the_owner_or_an_organization_admin_mints(call, token_for, org, writer, reader):
    repo = RepoFactory(namespace=org.namespace, name="cards")
    commit_files(repo, writer, {"README.md": CARD})
    body = {"acknowledgement": CONSENT_VERSION, "authors": [ALICE]}
    for member in (writer, reader):
        with pytest.raises(HfHubHTTPError) as refused:
            call("POST", "/api/models/wonderland/cards/dois", token_for(member), json=body)
        assert refused.value.response.status_code == 403
    assert not Doi.objects.exists()


def test_a_revision_gets_one_doi_and_the_quota_holds(call, token_for, owner, bert, settings):
    settings.DOI_QUOTA_PER_REPO_PER_DAY = 1
    token, body = token_for(owner), {"acknowledgement": CONSENT_VERSION, "authors": [ALICE]}
    first = call("POST", DOIS, token, json=body)
    with pytest.raises(HfHubHTTPError) as refused:
        call("POST", DOIS, token, json=body)
    assert refused.value.response.status_code == 409
    assert f"The current revision already has a DOI: {first['doi']}." in str(refused.value)
    commit_files(bert, owner, {"weights.bin": b"v2"})
    with pytest.raises(HfHubHTTPError) as refused:
        call("POST", DOIS, token, json=body)
    assert "in the last 24 hours, the most allowed" in str(refused.value)
    assert Doi.objects.versions().count() == 1


def test_a_bad_author_is_refused_naming_it(call, token_for, owner, bert):
    body = {"acknowledgement": CONSENT_VERSION, "authors": [{"name": "A", "orcid": "nonsense"}]}
    with pytest.raises(HfHubHTTPError) as refused:
        call("POST", DOIS, token_for(owner), json=body)
    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["field"] == "creators[1].orcid"
    with pytest.raises(HfHubHTTPError) as refused:
        call("POST", DOIS, token_for(owner), json={"acknowledgement": CONSENT_VERSION})
    assert "Send the authors" in str(refused.value)
    assert not Doi.objects.exists()

"""/doi/<doi>?format=cff: CITATION.cff, read back with PyYAML and checked against the Citation
File Format 1.2.0 schema (doi/data/cff-1.2.0.schema.json, the schema as cffconvert 2.0.0 ships
it; cffconvert itself pins jsonschema below 4, which the datacite package cannot use)."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from django.urls import reverse

from doi.citation_file import SCHEMA_FILE
from doi.models import Doi

SCHEMA = json.loads(SCHEMA_FILE.read_text())


@pytest.fixture
def version(repo, mint) -> Doi:
    doi = mint(repo)
    doi.refresh_from_db()
    return doi


def fetch(client, doi: Doi) -> dict:
    response = client.get(reverse("doi:resolve", args=[doi.doi]) + "?format=cff")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    data = yaml.safe_load(response.content)
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return data


def test_a_version_dois_citation_file_is_valid_cff(client, repo, version):
    data = fetch(client, version)
    assert data["cff-version"] == "1.2.0"
    assert data["type"] == "software"
    assert data["title"] == "sentiment-model"
    assert data["version"] == repo.head.short_oid
    assert data["doi"] == version.doi
    assert data["url"] == f"https://hub.example.org/doi/{version.doi}"
    assert data["date-released"] == version.created_at.date().isoformat()
    assert data["authors"] == [
        {
            "family-names": "Liddell",
            "given-names": "Alice",
            "orcid": "https://orcid.org/0000-0002-1825-0097",
            "affiliation": "Wonderland University",
        }
    ]
    assert data["identifiers"] == [
        {"type": "doi", "value": version.concept.doi, "description": "All versions"}
    ]
    assert data["license-url"].startswith("http")
    assert data["keywords"] == ["text-classification", "sentiment"]


def test_an_organization_is_one_name(client, repo, mint):
    data = fetch(
        client, mint(repo, creators=[{"type": "Organizational", "name": "Wonderland Labs"}])
    )
    assert data["authors"] == [{"name": "Wonderland Labs"}]


def test_the_concept_dois_file_has_no_version(client, version):
    data = fetch(client, version.concept)
    assert data["doi"] == version.concept.doi
    assert "version" not in data
    assert "identifiers" not in data


def test_text_that_looks_like_yaml_stays_text(client, version):
    metadata = {**version.metadata, "titles": [{"title": "yes: [1, 2] # not a comment"}]}
    Doi.objects.filter(pk=version.pk).update(metadata=metadata)
    version.refresh_from_db()
    assert fetch(client, version)["title"] == "yes: [1, 2] # not a comment"


def test_it_downloads_as_a_cff_file_and_is_not_negotiated(client, version):
    path = reverse("doi:resolve", args=[version.doi])
    response = client.get(path + "?format=cff")
    assert response["Content-Disposition"].endswith('.cff"')
    assert client.get(path, headers={"Accept": "application/yaml"}).status_code == 302


def test_the_cite_panel_offers_it(client, repo, version):
    html = client.get(repo.get_absolute_url()).content.decode()
    assert f'href="/doi/{version.doi}?format=cff" download>CITATION.cff</a>' in html

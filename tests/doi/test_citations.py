"""Every citation format, derived from a DOI's DataCite attributes, field by field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from lxml import etree
from pybtex.database import parse_string

from doi import citations
from doi.models import Doi

ORCID = "https://orcid.org/0000-0002-1825-0097"


def attributes(**overrides) -> dict:
    """DataCite kernel-4 attributes as the minting side builds them for a model version."""
    data = {
        "doi": "10.5072/hub/0002",
        "creators": [
            {
                "name": "Liddell, Alice",
                "nameType": "Personal",
                "givenName": "Alice",
                "familyName": "Liddell",
                "nameIdentifiers": [
                    {
                        "nameIdentifier": ORCID,
                        "nameIdentifierScheme": "ORCID",
                        "schemeUri": "https://orcid.org",
                    }
                ],
                "affiliation": [{"name": "Wonderland University"}],
            },
            {"name": "Wonderland Labs", "nameType": "Organizational"},
        ],
        "titles": [{"title": "sentiment-model"}],
        "publisher": {"name": "BOINC AI Hub"},
        "publicationYear": "2026",
        "types": {"resourceTypeGeneral": "Model", "resourceType": "Machine learning model"},
        "version": "909a290",
        "rightsList": [
            {
                "rights": "Apache License 2.0",
                "rightsIdentifier": "apache-2.0",
                "rightsIdentifierScheme": "SPDX",
                "rightsUri": "https://spdx.org/licenses/Apache-2.0",
            }
        ],
        "subjects": [{"subject": "text-classification"}, {"subject": "sentiment"}],
        "descriptions": [{"description": "Tells happy from sad.", "descriptionType": "Abstract"}],
        "relatedIdentifiers": [
            {
                "relatedIdentifier": "10.5072/hub/0001",
                "relatedIdentifierType": "DOI",
                "relationType": "IsVersionOf",
            }
        ],
        "url": "https://hub.example.org/doi/10.5072/hub/0002",
        "schemaVersion": "http://datacite.org/schema/kernel-4",
    }
    data.update(overrides)
    return data


def make_doi(kind: str = "version", **overrides) -> Doi:
    metadata = attributes(**overrides)
    if kind == "concept":
        metadata.pop("version")
    return Doi(
        doi=metadata["doi"],
        kind=kind,
        metadata=metadata,
        created_at=datetime(2026, 11, 25, tzinfo=UTC),
    )


def person(family: str, given: str = "") -> dict:
    return {
        "name": f"{family}, {given}",
        "nameType": "Personal",
        "givenName": given,
        "familyName": family,
    }


def org(name: str) -> dict:
    return {"name": name, "nameType": "Organizational"}


# BibTeX -------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_bibtex_is_hub_style_for_a_version():
    assert citations.bibtex(make_doi()) == (
        "@misc{sentiment-model_2026,\n"
        "    author = {Liddell, Alice and {Wonderland Labs}},\n"
        "    title = {sentiment-model (Revision 909a290)},\n"
        "    year = {2026},\n"
        "    url = {https://hub.example.org/doi/10.5072/hub/0002},\n"
        "    doi = {10.5072/hub/0002},\n"
        "    publisher = {BOINC AI Hub}\n"
        "}\n"
    )


def test_bibtex_of_a_concept_doi_names_no_revision():
    text = citations.bibtex(make_doi("concept", doi="10.5072/hub/0001"))
    assert "title = {sentiment-model}," in text
    assert "Revision" not in text
    assert "doi = {10.5072/hub/0001}" in text


def test_bibtex_parses_back_to_the_same_people_and_fields():
    entry = parse_string(citations.bibtex(make_doi()), "bibtex").entries["sentiment-model_2026"]
    people = entry.persons["author"]
    assert [str(p) for p in people] == ["Liddell, Alice", "{Wonderland Labs}"]
    assert people[0].first_names == ["Alice"] and people[0].last_names == ["Liddell"]
    assert entry.fields["year"] == "2026"
    assert entry.fields["publisher"] == "BOINC AI Hub"


def test_bibtex_escapes_latex_specials_in_names():
    doi = make_doi(
        creators=[
            person("O'Brien & Sons", "Seán"),
            person("Smith, Jr.", "John"),
            org("R&D {Lab} 100% #1 $x^2 back\\slash ~tilde"),
        ]
    )
    author = next(
        line for line in citations.bibtex(doi).splitlines() if line.lstrip().startswith("author")
    )
    assert author == (
        r"    author = {O'Brien \& Sons, Seán and {Smith, Jr.}, John and "
        r"{R\&D \textbraceleft{}Lab\textbraceright{} 100\% \#1 \$x\textasciicircum{}2 "
        r"back\textbackslash{}slash \textasciitilde{}tilde}},"
    )
    # Still well-formed: pybtex reads it back with three authors.
    entry = parse_string(citations.bibtex(doi), "bibtex").entries["sentiment-model_2026"]
    assert len(entry.persons["author"]) == 3


@pytest.mark.parametrize(
    ("family", "given"),
    [
        ("Evil", " title = {Injected}, note = {x}"),
        ("Smith AND Jones", "Ann"),
        ("Smith", "Anna and Bob"),
        ("Smith", "Mary, Queen, of Scots"),
    ],
)
def test_bibtex_keeps_each_author_whole_whatever_the_name_holds(family, given):
    doi = make_doi(creators=[person(family, given), org("Lab")])
    entry = parse_string(citations.bibtex(doi), "bibtex").entries["sentiment-model_2026"]
    assert len(entry.persons["author"]) == 2
    assert set(entry.fields) == {"title", "year", "url", "doi", "publisher"}


def test_bibtex_keeps_doi_and_url_verbatim():
    doi = make_doi(doi="10.5072/hub_0002", url="https://hub.example.org/doi/10.5072/hub_0002")
    text = citations.bibtex(doi)
    assert "doi = {10.5072/hub_0002}" in text
    assert "url = {https://hub.example.org/doi/10.5072/hub_0002}" in text


def test_bibtex_key_is_name_and_year_with_safe_characters():
    doi = make_doi(titles=[{"title": "my model, v2"}], publicationYear="2025")
    assert citations.bibtex(doi).startswith("@misc{my-model-v2_2025,")


# CSL-JSON and APA ---------------------------------------------------------------------------


@pytest.mark.smoke
def test_csl_json_of_a_model():
    assert json.loads(citations.csl_json(make_doi())) == {
        "id": "10.5072/hub/0002",
        "type": "software",
        "genre": "Machine learning model",
        "title": "sentiment-model",
        "author": [{"family": "Liddell", "given": "Alice"}, {"literal": "Wonderland Labs"}],
        "issued": {"date-parts": [[2026]]},
        "publisher": "BOINC AI Hub",
        "DOI": "10.5072/hub/0002",
        "URL": "https://hub.example.org/doi/10.5072/hub/0002",
        "version": "909a290",
        "keyword": "text-classification, sentiment",
        "abstract": "Tells happy from sad.",
    }


def test_csl_json_of_a_dataset_is_a_dataset():
    doi = make_doi(types={"resourceTypeGeneral": "Dataset", "resourceType": "Dataset"})
    item = citations.csl(doi)
    assert item["type"] == "dataset"
    assert item["genre"] == "Dataset"


def test_csl_json_of_a_concept_has_no_version():
    assert "version" not in citations.csl(make_doi("concept"))


def test_csl_json_uses_the_name_as_literal_when_a_person_has_no_family_name():
    doi = make_doi(creators=[{"name": "Plato", "nameType": "Personal"}])
    assert citations.csl(doi)["author"] == [{"literal": "Plato"}]


@pytest.mark.smoke
def test_apa_of_a_model_version():
    assert citations.bibliography(make_doi()).text == (
        "Liddell, A., & Wonderland Labs. (2026). sentiment-model (Version 909a290) "
        "[Machine learning model]. BOINC AI Hub. https://doi.org/10.5072/hub/0002"
    )


def test_apa_of_a_dataset_concept():
    doi = make_doi(
        "concept",
        doi="10.5072/hub/0001",
        titles=[{"title": "squad-fr"}],
        types={"resourceTypeGeneral": "Dataset", "resourceType": "Dataset"},
        creators=[person("O'Brien", "Seán")],
    )
    assert citations.bibliography(doi).text == (
        "O'Brien, S. (2026). squad-fr [Dataset]. BOINC AI Hub. https://doi.org/10.5072/hub/0001"
    )


def test_apa_html_italicises_the_title_and_escapes_everything_once():
    doi = make_doi(creators=[org("<script>alert(1)</script> & Co")])
    html = citations.bibliography(doi).html
    assert html.startswith("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co. (2026). ")
    assert "<i>sentiment-model</i> (Version 909a290)" in html
    assert "<script>" not in html and "&amp;amp;" not in html


def test_apa_follows_a_change_of_the_metadata():
    before = citations.bibliography(make_doi()).text
    after = citations.bibliography(make_doi(creators=[person("Hatter", "Mad")])).text
    assert before.startswith("Liddell, A.")
    assert after.startswith("Hatter, M. (2026).")


# RIS ----------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_ris_of_a_model():
    assert citations.ris(make_doi()).split("\r\n") == [
        "TY  - COMP",
        "AU  - Liddell, Alice",
        "AU  - Wonderland Labs",
        "TI  - sentiment-model",
        "PY  - 2026",
        "PB  - BOINC AI Hub",
        "ET  - 909a290",
        "DO  - 10.5072/hub/0002",
        "UR  - https://hub.example.org/doi/10.5072/hub/0002",
        "KW  - text-classification",
        "KW  - sentiment",
        "AB  - Tells happy from sad.",
        "ER  - ",
        "",
    ]


def test_ris_of_a_dataset_is_data_and_keeps_values_on_one_line():
    doi = make_doi(
        types={"resourceTypeGeneral": "Dataset", "resourceType": "Dataset"},
        descriptions=[{"description": "Line one.\nER  - injected", "descriptionType": "Abstract"}],
    )
    lines = citations.ris(doi).split("\r\n")
    assert lines[0] == "TY  - DATA"
    assert "AB  - Line one. ER - injected" in lines
    assert lines.count("ER  - ") == 1


# DataCite and schema.org --------------------------------------------------------------------

NS = {"d": "http://datacite.org/schema/kernel-4"}


def test_datacite_xml_carries_the_identifier_and_the_metadata():
    root = etree.fromstring(citations.datacite_xml(make_doi()).encode())
    assert root.findtext("d:identifier", namespaces=NS) == "10.5072/hub/0002"
    assert root.find("d:identifier", NS).get("identifierType") == "DOI"
    names = [e.text for e in root.iterfind("d:creators/d:creator/d:creatorName", NS)]
    assert names == ["Liddell, Alice", "Wonderland Labs"]
    assert root.findtext("d:creators/d:creator/d:nameIdentifier", namespaces=NS) == ORCID
    assert root.findtext("d:titles/d:title", namespaces=NS) == "sentiment-model"
    assert root.findtext("d:publisher", namespaces=NS) == "BOINC AI Hub"
    assert root.findtext("d:publicationYear", namespaces=NS) == "2026"
    assert root.find("d:resourceType", NS).get("resourceTypeGeneral") == "Model"
    assert root.findtext("d:version", namespaces=NS) == "909a290"
    related = root.find("d:relatedIdentifiers/d:relatedIdentifier", NS)
    assert (related.text, related.get("relationType")) == ("10.5072/hub/0001", "IsVersionOf")


def test_datacite_xml_escapes_markup_in_names():
    xml = citations.datacite_xml(make_doi(creators=[org("A & <B>")]))
    assert '<creatorName nameType="Organizational">A &amp; &lt;B&gt;</creatorName>' in xml


def test_schema_org_of_a_model():
    data = citations.schema_org(make_doi())
    assert data["@type"] == "CreativeWork"
    assert data["additionalType"] == "Machine learning model"
    assert data["@id"] == "https://doi.org/10.5072/hub/0002"
    assert data["identifier"] == {
        "@type": "PropertyValue",
        "propertyID": "DOI",
        "value": "10.5072/hub/0002",
    }
    assert data["name"] == "sentiment-model (Revision 909a290)"
    assert data["creator"] == [
        {
            "@type": "Person",
            "name": "Alice Liddell",
            "givenName": "Alice",
            "familyName": "Liddell",
            "@id": ORCID,
            "affiliation": [{"@type": "Organization", "name": "Wonderland University"}],
        },
        {"@type": "Organization", "name": "Wonderland Labs"},
    ]
    assert data["license"] == "https://spdx.org/licenses/Apache-2.0"
    assert data["version"] == "909a290"
    assert data["keywords"] == ["text-classification", "sentiment"]


def test_schema_org_is_published_on_the_day_the_highwire_and_dublin_core_tags_say():
    assert citations.schema_org(make_doi())["datePublished"] == "2026-11-25"
    # Metadata that names another year is believed, and only its year is known.
    assert citations.schema_org(make_doi(publicationYear="2025"))["datePublished"] == "2025"


def test_schema_org_of_a_dataset_is_a_dataset():
    doi = make_doi(types={"resourceTypeGeneral": "Dataset", "resourceType": "Dataset"})
    data = citations.schema_org(doi)
    assert data["@type"] == "Dataset"
    assert "additionalType" not in data


def related(identifier: str, kind: str, relation: str) -> dict:
    return {
        "relatedIdentifier": identifier,
        "relatedIdentifierType": kind,
        "relationType": relation,
    }


def test_schema_org_names_what_a_work_is_based_on_and_what_it_cites():
    doi = make_doi(
        relatedIdentifiers=[
            related("10.5072/hub/0001", "DOI", "IsVersionOf"),
            related("10.5072/hub/0009", "DOI", "IsDerivedFrom"),
            related("https://example.org/base", "URL", "IsDerivedFrom"),
            related("10.5072/hub/0007", "DOI", "References"),
            related("2101.00001", "arXiv", "Cites"),
            related("10.1000/paper", "DOI", "Cites"),
            related("arXiv:1810.04805", "arXiv", "IsSupplementTo"),
            related("https://example.org/collection", "URL", "IsPartOf"),
            related("javascript:alert(1)", "URL", "Cites"),
            related("not an identifier", "Handle-ish", "Cites"),
        ]
    )
    data = citations.schema_org(doi)
    assert data["isBasedOn"] == [
        "https://doi.org/10.5072/hub/0009",
        "https://example.org/base",
        "https://doi.org/10.5072/hub/0007",
    ]
    assert data["citation"] == [
        {"@type": "CreativeWork", "@id": "https://arxiv.org/abs/arXiv:2101.00001"},
        {"@type": "CreativeWork", "@id": "https://doi.org/10.1000/paper"},
        {"@type": "CreativeWork", "@id": "https://arxiv.org/abs/arXiv:1810.04805"},
    ]
    assert data["isPartOf"] == ["https://example.org/collection"]


def test_schema_org_names_no_related_works_when_there_are_none():
    data = citations.schema_org(make_doi(relatedIdentifiers=[]))
    assert "isBasedOn" not in data and "citation" not in data


def test_schema_org_gives_a_licence_without_a_url_as_a_named_work():
    data = citations.schema_org(make_doi(rightsList=[{"rights": "Our own terms"}]))
    assert data["license"] == {"@type": "CreativeWork", "name": "Our own terms"}


def test_schema_org_script_cannot_close_its_element():
    script = citations.schema_org_script(make_doi(creators=[org("</script><b>x</b>")]))
    assert script.count("</script>") == 1
    assert "\\u003C/script\\u003E" in script


def test_every_format_has_a_media_type_and_renders():
    doi = make_doi()
    for fmt in citations.FORMATS.values():
        if fmt.negotiable:
            assert citations.FORMATS_BY_MEDIA_TYPE[fmt.media_type] is fmt
        else:
            assert fmt.media_type not in citations.FORMATS_BY_MEDIA_TYPE
        assert fmt.render(doi).strip()

"""The DataCite metadata, field by field, and the author clean-up the form reuses."""

from __future__ import annotations

import pytest
from datacite import schema45
from django.core.exceptions import ValidationError

from doi.metadata import (
    DoiMetadataError,
    clean_creator,
    creator_attributes,
    rights,
    split_name,
    summary,
    validate_attributes,
)
from doi.models import Doi
from repos.cards import Card
from repos.models import RepoType, lock_override
from tests.doi.conftest import CONSENT
from tests.factories import RepoFactory, commit_files


def _creator(**fields):
    return clean_creator({"type": "Personal", **fields})


@pytest.fixture
def version(repo, owner, alice):
    return Doi.objects.mint(repo=repo, user=owner, creators=[alice], **CONSENT)


# Authors ---------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_clean_creator_normalises_a_person():
    assert clean_creator(
        {"name": "  Alice   Liddell ", "orcid": "https://orcid.org/0000-0002-1825-0097"}
    ) == {
        "type": "Personal",
        "name": "Alice Liddell",
        "given_name": "Alice",
        "family_name": "Liddell",
        "orcid": "0000-0002-1825-0097",
        "affiliation": "",
        "affiliation_ror": "",
    }


@pytest.mark.parametrize(
    ("name", "given", "family"),
    [
        ("Jane Doe", "Jane", "Doe"),
        ("Doe, Jane", "Jane", "Doe"),
        ("Mary Ann Evans", "Mary Ann", "Evans"),
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
        ("Plato", "", ""),
    ],
)
def test_names_are_split_sensibly(name, given, family):
    assert split_name(name) == (given, family)


def test_explicit_given_and_family_names_win():
    creator = _creator(name="", given_name="Jean-Luc", family_name="Picard Jr")
    assert (creator["name"], creator["given_name"], creator["family_name"]) == (
        "Jean-Luc Picard Jr",
        "Jean-Luc",
        "Picard Jr",
    )


@pytest.mark.parametrize(
    "orcid", ["0000-0002-1694-233X", "0000-0002-1694-233x", "http://orcid.org/0000-0002-1694-233X"]
)
def test_orcids_are_accepted_in_their_usual_forms(orcid):
    assert _creator(name="Jo Lo", orcid=orcid)["orcid"] == "0000-0002-1694-233X"


@pytest.mark.parametrize(
    ("orcid", "message"),
    [
        ("0000-0002-1825-0098", "check digit does not match"),
        ("0000-0002-1825", "16 digits"),
        ("https://example.org/0000-0002-1825-0097", "16 digits"),
    ],
)
def test_bad_orcids_are_refused_clearly(orcid, message):
    with pytest.raises(ValidationError) as caught:
        _creator(name="Jo Lo", orcid=orcid)
    assert message in caught.value.message_dict["orcid"][0]


def test_an_organization_has_no_orcid_or_person_names():
    creator = clean_creator({"type": "Organizational", "name": "Wonderland", "given_name": "x"})
    assert (creator["given_name"], creator["family_name"]) == ("", "")
    with pytest.raises(ValidationError, match="identifies a person"):
        clean_creator({"type": "Organizational", "name": "W", "orcid": "0000-0002-1825-0097"})


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"type": "Robot", "name": "R2"}, "type"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Jo", "affiliation": "y" * 201}, "affiliation"),
    ],
)
def test_bad_creators_name_the_field(data, field):
    with pytest.raises(ValidationError) as caught:
        clean_creator(data)
    assert field in caught.value.message_dict


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("name", "Bell\x07 Ringer", "U+0007 (a control character)"),
        ("family_name", "Escape\x1b[31m", "U+001B (a control character)"),
        ("affiliation", "\u202eevil", "U+202E (right-to-left override)"),
        ("given_name", "Iso\u2066late", "U+2066 (left-to-right isolate)"),
    ],
)
def test_invisible_characters_in_authors_are_refused_by_name(field, value, named):
    data = {"name": "Jo Doe", "given_name": "Jo", "family_name": "Doe", field: value}
    with pytest.raises(ValidationError) as caught:
        clean_creator(data)
    assert caught.value.message_dict[field] == [f"Remove the invisible character {named}."]


def test_names_keep_the_marks_and_joiners_scripts_need():
    name = "\u200fمحمد\u200c رضا"
    assert clean_creator({"name": name})["name"] == name


def test_a_person_becomes_a_datacite_personal_creator():
    creator = _creator(name="Alice Liddell", orcid="0000-0002-1825-0097", affiliation="Oxford")
    assert creator_attributes(creator) == {
        "name": "Liddell, Alice",
        "nameType": "Personal",
        "givenName": "Alice",
        "familyName": "Liddell",
        "nameIdentifiers": [
            {
                "nameIdentifier": "https://orcid.org/0000-0002-1825-0097",
                "nameIdentifierScheme": "ORCID",
                "schemeUri": "https://orcid.org",
            }
        ],
        "affiliation": [{"name": "Oxford"}],
    }


def test_a_single_name_stays_whole():
    assert creator_attributes(_creator(name="Plato")) == {"name": "Plato", "nameType": "Personal"}


def test_an_organization_becomes_an_organizational_creator():
    creator = clean_creator({"type": "Organizational", "name": "Wonderland AI"})
    assert creator_attributes(creator) == {"name": "Wonderland AI", "nameType": "Organizational"}


# The attributes of a version DOI ------------------------------------------------------------------


def test_identity_fields(version, repo):
    meta = version.metadata
    assert meta["doi"] == "10.5072/hub/0002"
    assert meta["titles"] == [{"title": "sentiment-model"}]
    assert meta["publicationYear"] == str(version.created_at.year)
    assert meta["version"] == repo.head.oid[:7]
    assert meta["url"] == "https://hub.example.org/doi/10.5072/hub/0002"
    assert meta["schemaVersion"] == "http://datacite.org/schema/kernel-4"


def test_creators_in_the_order_given(repo, owner, alice):
    org = {"type": "Organizational", "name": "Wonderland AI"}
    version = Doi.objects.mint(repo=repo, user=owner, creators=[org, alice], **CONSENT)
    assert [c["name"] for c in version.metadata["creators"]] == ["Wonderland AI", "Liddell, Alice"]


def test_publisher_is_the_site_with_an_optional_ror(repo, owner, alice, settings):
    settings.SITE_NAME = "Example Hub"
    settings.DOI_PUBLISHER_ROR = "https://ror.org/04wxnsj81"
    meta = Doi.objects.preview(repo=repo, user=owner, creators=[alice])
    assert meta["publisher"] == {
        "name": "Example Hub",
        "publisherIdentifier": "https://ror.org/04wxnsj81",
        "publisherIdentifierScheme": "ROR",
        "schemeUri": "https://ror.org/",
    }
    settings.DOI_PUBLISHER_ROR = ""
    meta = Doi.objects.preview(repo=repo, user=owner, creators=[alice])
    assert meta["publisher"] == {"name": "Example Hub"}


def test_types_for_models_and_datasets(owner, alice):
    model = RepoFactory(namespace=owner.namespace, name="m", type=RepoType.MODEL)
    dataset = RepoFactory(namespace=owner.namespace, name="d", type=RepoType.DATASET)
    for repo in (model, dataset):
        commit_files(repo, owner, {"README.md": "# x"})
    assert Doi.objects.preview(repo=model, user=owner, creators=[alice])["types"] == {
        "resourceTypeGeneral": "Model",
        "resourceType": "Machine learning model",
    }
    assert Doi.objects.preview(repo=dataset, user=owner, creators=[alice])["types"] == {
        "resourceTypeGeneral": "Dataset",
        "resourceType": "Dataset",
    }


def test_rights_from_the_card_licence(version):
    assert version.metadata["rightsList"] == [
        {
            "rights": "Apache License 2.0",
            "rightsUri": "https://spdx.org/licenses/Apache-2.0",
            "rightsIdentifier": "apache-2.0",
            "rightsIdentifierScheme": "SPDX",
            "schemeUri": "https://spdx.org/licenses/",
        }
    ]


@pytest.mark.parametrize(
    ("licence", "expected"),
    [
        ("MIT", ("MIT License", "mit")),
        ("cc-by-4.0", ("Creative Commons Attribution 4.0 International", "cc-by-4.0")),
        ("gpl-3.0", ("GNU General Public License v3.0 only", "gpl-3.0-only")),
        ("odbl", ("Open Data Commons Open Database License v1.0", "odbl-1.0")),
    ],
)
def test_common_licences_map_to_spdx(licence, expected):
    (entry,) = rights(licence)
    assert (entry["rights"], entry["rightsIdentifier"]) == expected
    assert entry["rightsIdentifierScheme"] == "SPDX"


def test_an_unknown_licence_is_sent_as_text_only():
    assert rights("llama2") == [{"rights": "llama2"}]


@pytest.mark.parametrize("licence", [None, "", "other", "unknown"])
def test_no_licence_means_no_rights(licence):
    assert rights(licence) == []


def test_subjects_from_tags(version):
    assert version.metadata["subjects"] == [
        {"subject": "text-classification"},
        {"subject": "sentiment"},
    ]


def test_abstract_is_the_first_paragraph_as_plain_text(version):
    assert version.metadata["descriptions"] == [
        {
            "description": "A small model that tells happy from sad sentences, trained on reviews.",
            "descriptionType": "Abstract",
        }
    ]


def test_a_summary_in_the_card_wins():
    assert summary({"summary": "  Short\n summary. "}, "Body paragraph.") == "Short summary."


def test_a_long_abstract_is_trimmed_at_a_word():
    text = summary({}, "word " * 400)
    assert len(text) <= 1000
    assert text.endswith("word…")


def test_no_text_means_no_description(owner, alice):
    repo = RepoFactory(namespace=owner.namespace, name="bare")
    commit_files(repo, owner, {"model.bin": "x"})
    meta = Doi.objects.preview(repo=repo, user=owner, creators=[alice])
    assert meta["descriptions"] == []
    assert meta["rightsList"] == []
    assert meta["subjects"] == []


def test_the_lists_are_sent_even_when_empty(owner, alice, settings):
    """A PUT keeps attributes it does not mention: a removed licence must be sent as []."""
    settings.DOI_CONCEPT_DOIS = False
    repo = RepoFactory(namespace=owner.namespace, name="bare")
    commit_files(repo, owner, {"model.bin": "x"})
    meta = Doi.objects.preview(repo=repo, user=owner, creators=[alice])
    for key in (
        "rightsList", "subjects", "descriptions", "relatedIdentifiers", "fundingReferences"
    ):  # fmt: skip
        assert meta[key] == []


def test_the_card_links_base_models_and_datasets_with_dois_here(owner, alice, mint):
    base = RepoFactory(namespace=owner.namespace, name="bert", type=RepoType.MODEL)
    data = RepoFactory(namespace=owner.namespace, name="reviews", type=RepoType.DATASET)
    for r in (base, data):
        commit_files(r, owner, {"README.md": "# x"})
    base_doi, data_doi = mint(base), mint(data)
    tuned = RepoFactory(namespace=owner.namespace, name="tuned")
    card = "---\nbase_model: Alice/BERT\ndatasets:\n  - alice/reviews\n  - elsewhere/none\n---\n"
    commit_files(tuned, owner, {"README.md": card})
    meta = Doi.objects.preview(repo=tuned, user=owner, creators=[alice])
    links = [
        (r["relationType"], r["relatedIdentifier"])
        for r in meta["relatedIdentifiers"]
        if r["relationType"] != "IsVersionOf"
    ]
    assert links == [("IsDerivedFrom", base_doi.doi), ("References", data_doi.doi)]


def test_the_card_links_no_private_repos(owner, alice, mint, staff):
    base = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(base, owner, {"README.md": "# x"})
    mint(base)
    with lock_override(actor=staff, reason="A support request"):
        base.set_private(True)
    tuned = RepoFactory(namespace=owner.namespace, name="tuned")
    commit_files(tuned, owner, {"README.md": "---\nbase_model: alice/bert\n---\n"})
    meta = Doi.objects.preview(repo=tuned, user=owner, creators=[alice])
    assert [r["relationType"] for r in meta["relatedIdentifiers"]] == ["IsVersionOf"]


def test_the_concept_has_no_version_and_lists_every_version(repo, owner, mint):
    first = mint(repo)
    commit_files(repo, owner, {"weights.bin": "2"})
    second = mint(repo)
    concept = second.concept
    concept.refresh_from_db()
    meta = concept.metadata
    assert "version" not in meta
    assert meta["url"] == "https://hub.example.org/doi/10.5072/hub/0001"
    assert meta["relatedIdentifiers"] == [
        {"relatedIdentifier": d.doi, "relatedIdentifierType": "DOI", "relationType": "HasVersion"}
        for d in (first, second)
    ]
    assert meta["titles"] == [{"title": "sentiment-model"}]


def test_everything_built_is_valid_kernel_4(version):
    assert schema45.validate(version.metadata)
    assert schema45.validate(version.concept.metadata)
    assert "<resource" in schema45.tostring(version.metadata)


# Validation ----------------------------------------------------------------------------------


def test_validation_names_the_field(version):
    meta = {**version.metadata, "publicationYear": 2026}
    with pytest.raises(DoiMetadataError) as caught:
        validate_attributes(meta)
    assert caught.value.field == "publicationYear"
    assert "publicationYear" in caught.value.message


def test_validation_names_nested_fields(version):
    creators = [dict(version.metadata["creators"][0], nameType="Robot")]
    with pytest.raises(DoiMetadataError) as caught:
        validate_attributes({**version.metadata, "creators": creators})
    assert caught.value.field == "creators[1].nameType"


def test_validation_refuses_what_xml_cannot_carry_naming_the_field(version):
    subjects = [{"subject": "ok"}, {"subject": "bell\x07"}]
    with pytest.raises(DoiMetadataError) as caught:
        validate_attributes({**version.metadata, "subjects": subjects})
    assert caught.value.field == "subjects[2].subject"
    assert "U+0007 (a control character)" in caught.value.message


def test_validation_refuses_doi_names_datacite_refuses(version):
    with pytest.raises(DoiMetadataError) as caught:
        validate_attributes({**version.metadata, "doi": "10.5072/hub 1"})
    assert caught.value.field == "doi"


def test_the_proposed_abstract_leaves_out_what_a_citation_cannot_carry():
    # A right-to-left override in the card would be refused as the DOI's description; the
    # proposal drops it, so the owner is not stopped by a character they cannot see.
    assert summary({"summary": "Happy \u202egnorw or sad"}, "") == "Happy gnorw or sad"
    body = "# Title\n\n\u2066\u0007\n\nTells\u2066 happy\u0007 from sad.\n"
    assert summary({}, Card(body=body).outline()["lead"]) == "Tells happy from sad."

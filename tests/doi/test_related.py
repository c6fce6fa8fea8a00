"""Links to other works, funders and ROR ids: what the card proposes, what an owner enters by
hand, how each is checked, and what DataCite gets."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from lxml import etree

from doi import citations
from doi.metadata import DoiMetadataError, clean_creator
from doi.models import Doi
from doi.related import clean_funder, clean_identifier, clean_related, clean_ror, from_card
from repos.models import RepoType
from tests.doi.test_repo_header import count_queries, without_doi_slots  # noqa: F401
from tests.factories import RepoFactory, commit_files

NS = {"d": "http://datacite.org/schema/kernel-4"}
EC = "10.13039/501100000780"  # the European Commission's Crossref Funder ID


def _repo(owner, name, files, type=RepoType.MODEL):
    repo = RepoFactory(namespace=owner.namespace, name=name, type=type)
    commit_files(repo, owner, files)
    return repo


def _card(**front) -> str:
    return "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in front.items()) + "---\n# x\n"


def _proposed(repo, owner, alice):
    """The non-version links the preview proposes for ``repo``, as (relation, type, id)."""
    meta = Doi.objects.preview(repo=repo, user=owner, creators=[alice])
    return [
        (r["relationType"], r["relatedIdentifierType"], r["relatedIdentifier"])
        for r in meta["relatedIdentifiers"]
        if r["relationType"] not in ("IsVersionOf", "IsNewVersionOf")
    ]


def _sent(datacite, doi):
    """The non-version links the DataCite-like server got for ``doi``, as (relation, type, id)."""
    (put,) = datacite.requests_for(doi.doi)
    return [
        (r["relationType"], r["relatedIdentifierType"], r["relatedIdentifier"])
        for r in json.loads(put["body"])["data"]["attributes"]["relatedIdentifiers"]
        if r["relationType"] not in ("IsVersionOf", "IsNewVersionOf")
    ]


# Identifiers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("10.1234/ABC", "", ("10.1234/ABC", "DOI")),
        ("doi:10.1234/abc", "DOI", ("10.1234/abc", "DOI")),
        ("https://doi.org/10.1234/abc", "", ("10.1234/abc", "DOI")),
        ("arxiv:2106.09685", "", ("arXiv:2106.09685", "arXiv")),
        ("2106.09685", "arXiv", ("arXiv:2106.09685", "arXiv")),
        ("https://example.org/paper", "", ("https://example.org/paper", "URL")),
        ("978-3-16-148410-0", "ISBN", ("978-3-16-148410-0", "ISBN")),
        ("12082125", "PMID", ("12082125", "PMID")),
    ],
)
def test_identifiers_are_recognised_and_normalised(value, kind, expected):
    assert clean_identifier(value, kind) == expected


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("", "", "Enter the identifier"),
        ("hello", "", "“hello” is not a DOI, URL, arXiv id or other identifier"),
        ("10.1234", "DOI", "“10.1234” is not a valid DOI (one looks like 10.1234/abcd)"),
        ("javascript:alert(1)", "URL", "is not a valid URL"),
        ("ftp://example.org/x", "URL", "is not a valid URL"),
        ("978-3-16-148410-1", "ISBN", "is not a valid ISBN"),
        ("2106.09685", "DOI", "is not a valid DOI"),
        ("10.1234/a b", "DOI", "no spaces"),
        ("10.1234/a\u202eb", "DOI", "invisible characters"),
        ("10.1234/x", "Pigeon", "Choose the identifier's type"),
    ],
)
def test_bad_identifiers_are_refused_saying_what_is_wrong(value, kind, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        clean_identifier(value, kind)


def test_a_related_work_needs_a_relation_datacite_knows():
    row = {"identifier": "10.1234/x", "identifier_type": "", "relation_type": "IsFriendOf"}
    with pytest.raises(ValidationError) as exc:
        clean_related(row)
    assert exc.value.message_dict == {
        "relation_type": ["Choose how this work relates to the other one."]
    }


@pytest.mark.parametrize(
    "value",
    ["02mhbdp94", "https://ror.org/02mhbdp94", "ror.org/02MHBDP94", "http://ror.org/02mhbdp94"],
)
def test_ror_ids_are_accepted_in_their_usual_forms(value):
    assert clean_ror(value) == "https://ror.org/02mhbdp94"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("02mhbdp95", "its check digits do not match"),
        ("https://ror.org/12mhbdp94", "is not a ROR id"),
        ("02mhbdpi4", "is not a ROR id"),
        ("Wonderland University", "is not a ROR id"),
    ],
)
def test_bad_ror_ids_are_refused_clearly(value, message):
    with pytest.raises(ValueError, match=message):
        clean_ror(value)


def test_an_affiliation_keeps_its_ror_id_and_needs_its_name():
    creator = clean_creator(
        {"name": "Jo Lo", "affiliation": "Universidad de los Andes", "affiliation_ror": "02mhbdp94"}
    )
    assert creator["affiliation_ror"] == "https://ror.org/02mhbdp94"
    with pytest.raises(ValidationError) as exc:
        clean_creator({"name": "Jo Lo", "affiliation_ror": "02mhbdp94"})
    assert list(exc.value.message_dict) == ["affiliation"]
    with pytest.raises(ValidationError) as exc:
        clean_creator({"name": "Jo Lo", "affiliation": "Andes", "affiliation_ror": "02mhbdp95"})
    assert "check digits" in exc.value.message_dict["affiliation_ror"][0]


# Funders ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        (EC, (f"https://doi.org/{EC}", "Crossref Funder ID")),
        (f"https://doi.org/{EC}", (f"https://doi.org/{EC}", "Crossref Funder ID")),
        ("https://ror.org/00k4n6c32", ("https://ror.org/00k4n6c32", "ROR")),
        ("", ("", "")),
    ],
)
def test_a_funder_is_identified_by_crossref_funder_id_or_ror(identifier, expected):
    funder = clean_funder(
        {"funder_name": " European  Commission ", "funder_identifier": identifier,
         "award_number": "101000001", "award_title": "Models for all"}
    )  # fmt: skip
    assert funder == {
        "funder_name": "European Commission",
        "funder_identifier": expected[0],
        "funder_identifier_type": expected[1],
        "award_number": "101000001",
        "award_title": "Models for all",
    }


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"funder_identifier": EC}, "funder_name", "Enter the funder's name."),
        ({"funder_name": "EC", "funder_identifier": "10.5072/x"}, "funder_identifier",
         "is a DOI, but not a Crossref Funder ID: those start with 10.13039/"),
        ({"funder_name": "EC", "funder_identifier": "EC-123"}, "funder_identifier",
         "neither a ROR id (https://ror.org/…) nor a Crossref Funder ID"),
        ({"funder_name": "EC", "award_number": "1\x002"}, "award_number", "control characters"),
        ({"funder_name": "E" * 501}, "funder_name", "at most 500"),
    ],
)  # fmt: skip
def test_bad_funders_are_refused_naming_the_field(data, field, message):
    with pytest.raises(ValidationError) as exc:
        clean_funder(data)
    assert message in exc.value.message_dict[field][0]


# From the model card ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relation", "files", "expected"),
    [
        ("finetune", {}, "IsDerivedFrom"),
        ("merge", {}, "IsDerivedFrom"),
        ("quantized", {}, "IsVariantFormOf"),
        ("adapter", {}, "Requires"),
        # Without base_model_relation, what the Hub infers from the files.
        (None, {"adapter_config.json": "{}"}, "Requires"),
        (None, {"model-Q4_K_M.gguf": "x"}, "IsVariantFormOf"),
        (None, {"model.safetensors": "x"}, "IsDerivedFrom"),
    ],
)
def test_base_model_relations_map_to_datacite(
    owner, alice, mint, datacite, relation, files, expected
):
    base_doi = mint(_repo(owner, "bert", {"README.md": "# x"}))
    front = {"base_model": "alice/bert"} | ({"base_model_relation": relation} if relation else {})
    tuned = _repo(owner, "tuned", {"README.md": _card(**front), **files})
    assert _proposed(tuned, owner, alice) == [(expected, "DOI", base_doi.doi)]
    assert _sent(datacite, mint(tuned)) == [(expected, "DOI", base_doi.doi)]


def test_several_base_models_without_a_relation_are_a_merge(owner, alice, mint):
    one = mint(_repo(owner, "one", {"README.md": "# x"}))
    two = mint(_repo(owner, "two", {"README.md": "# x"}))
    merged = _repo(owner, "merged", {"README.md": _card(base_model=["alice/one", "alice/two"])})
    assert _proposed(merged, owner, alice) == [
        ("IsDerivedFrom", "DOI", one.doi),
        ("IsDerivedFrom", "DOI", two.doi),
    ]


def test_datasets_are_references_and_new_version_is_a_previous_version(
    owner, alice, mint, datacite
):
    data = mint(_repo(owner, "reviews", {"README.md": "# x"}, type=RepoType.DATASET))
    newer = mint(_repo(owner, "sentiment-v2", {"README.md": "# x"}))
    repo = _repo(
        owner,
        "sentiment",
        {"README.md": _card(datasets=["alice/reviews"], new_version="alice/sentiment-v2")},
    )
    expected = [("References", "DOI", data.doi), ("IsPreviousVersionOf", "DOI", newer.doi)]
    assert _proposed(repo, owner, alice) == expected
    assert _sent(datacite, mint(repo)) == expected


def test_a_target_without_a_doi_is_linked_by_its_revision_url(owner, alice):
    base = _repo(owner, "bert", {"README.md": "# x"})
    tuned = _repo(owner, "tuned", {"README.md": _card(base_model="alice/bert")})
    url = f"https://hub.example.org/alice/bert/tree/{base.head.oid}"
    assert _proposed(tuned, owner, alice) == [("IsDerivedFrom", "URL", url)]


def test_names_not_on_this_hub_and_wrong_types_are_left_out(owner, alice, mint):
    mint(_repo(owner, "reviews", {"README.md": "# x"}))  # a model, not a dataset
    repo = _repo(
        owner,
        "tuned",
        {"README.md": _card(base_model="google-bert/bert-base-uncased", datasets="alice/reviews")},
    )
    assert _proposed(repo, owner, alice) == []


def test_papers_in_tags_and_links_are_supplemented(owner, alice, mint):
    repo = _repo(owner, "lora", {"README.md": "# x"})
    own = mint(repo)  # its own DOI badge in the README is no paper
    body = (
        "---\ntags:\n  - arxiv:2106.09685\n  - doi:10.1000/XYZ123\n  - lora\n---\n"
        "See [the paper](https://arxiv.org/abs/2307.09288v2), "
        "[its DOI](https://doi.org/10.48550/arXiv.2307.09288) and "
        f"[![DOI](https://hub.example.org/doi/badge/{own.doi}.svg)](https://doi.org/{own.doi}).\n"
    )
    commit_files(repo, owner, {"README.md": body})
    assert _proposed(repo, owner, alice) == [
        ("IsSupplementTo", "arXiv", "arXiv:2106.09685"),
        ("IsSupplementTo", "DOI", "10.1000/XYZ123"),
        ("IsSupplementTo", "arXiv", "arXiv:2307.09288"),
        ("IsSupplementTo", "DOI", "10.48550/arXiv.2307.09288"),
    ]


def test_the_proposals_are_stored_when_the_owner_confirms_none(owner, alice, mint):
    base = mint(_repo(owner, "bert", {"README.md": "# x"}))
    tuned = _repo(owner, "tuned", {"README.md": _card(base_model="alice/bert")})
    assert from_card(tuned, tuned.head) == [
        {"identifier": base.doi, "identifier_type": "DOI", "relation_type": "IsDerivedFrom"}
    ]
    doi = mint(tuned, related_works=[])
    assert doi.record["related_works"] == []
    assert [r["relationType"] for r in doi.metadata["relatedIdentifiers"]] == ["IsVersionOf"]


def test_the_cards_links_reach_datacite(owner, alice, mint, datacite):
    """What the preview proposes (above) is what the DataCite-like server gets, when the owner
    keeps the proposals."""
    base = _repo(owner, "bert", {"README.md": "# x"})  # no DOI: its revision's URL
    data = mint(_repo(owner, "reviews", {"README.md": "# x"}, type=RepoType.DATASET))
    front = {"base_model": "alice/bert", "base_model_relation": "quantized"}
    card = _card(**front, datasets=["alice/reviews"], tags=["arxiv:2106.09685"])
    doi = mint(_repo(owner, "tuned", {"README.md": card}))
    assert _sent(datacite, doi) == [
        ("IsVariantFormOf", "URL", f"https://hub.example.org/alice/bert/tree/{base.head.oid}"),
        ("References", "DOI", data.doi),
        ("IsSupplementTo", "arXiv", "arXiv:2106.09685"),
    ]
    (put,) = datacite.requests_for(doi.doi)
    sent = json.loads(put["body"])["data"]["attributes"]["relatedIdentifiers"]
    assert datacite.attributes(doi.doi)["relatedIdentifiers"] == sent


# By hand, at DataCite ----------------------------------------------------------------------


def test_links_funders_and_ror_reach_datacite(owner, repo, mint, datacite):
    creator = {
        "type": "Personal",
        "name": "Alice Liddell",
        "affiliation": "Universidad de los Andes",
        "affiliation_ror": "https://ror.org/02mhbdp94",
    }
    doi = mint(
        repo,
        creators=[creator],
        related_works=[
            {"identifier": "https://doi.org/10.1234/Base", "identifier_type": "",
             "relation_type": "IsDerivedFrom"},
            {"identifier": "arxiv:2106.09685", "identifier_type": "arXiv",
             "relation_type": "IsSupplementTo"},
            {"identifier": "https://example.org/data", "identifier_type": "URL",
             "relation_type": "References"},
            {"identifier": "978-3-16-148410-0", "identifier_type": "ISBN",
             "relation_type": "IsDocumentedBy"},
        ],
        funding=[
            {"funder_name": "European Commission", "funder_identifier": EC,
             "award_number": "101000001", "award_title": "Models for all"},
            {"funder_name": "Wonderland Trust"},
        ],
    )  # fmt: skip
    (put,) = datacite.requests_for(doi.doi)
    sent = json.loads(put["body"])["data"]["attributes"]
    assert sent["relatedIdentifiers"] == [
        {"relatedIdentifier": "10.5072/hub/0001", "relatedIdentifierType": "DOI",
         "relationType": "IsVersionOf"},
        {"relatedIdentifier": "10.1234/Base", "relatedIdentifierType": "DOI",
         "relationType": "IsDerivedFrom"},
        {"relatedIdentifier": "arXiv:2106.09685", "relatedIdentifierType": "arXiv",
         "relationType": "IsSupplementTo"},
        {"relatedIdentifier": "https://example.org/data", "relatedIdentifierType": "URL",
         "relationType": "References"},
        {"relatedIdentifier": "978-3-16-148410-0", "relatedIdentifierType": "ISBN",
         "relationType": "IsDocumentedBy"},
    ]  # fmt: skip
    assert sent["fundingReferences"] == [
        {"funderName": "European Commission", "funderIdentifier": f"https://doi.org/{EC}",
         "funderIdentifierType": "Crossref Funder ID", "awardNumber": "101000001",
         "awardTitle": "Models for all"},
        {"funderName": "Wonderland Trust"},
    ]  # fmt: skip
    assert sent["creators"][0]["affiliation"] == [
        {
            "name": "Universidad de los Andes",
            "affiliationIdentifier": "https://ror.org/02mhbdp94",
            "affiliationIdentifierScheme": "ROR",
            "schemeUri": "https://ror.org",
        }
    ]
    doi.refresh_from_db()
    assert doi.state == "findable"
    assert datacite.attributes(doi.doi)["fundingReferences"] == sent["fundingReferences"]


def test_the_concept_links_and_funds_as_its_latest_version(repo, mint):
    funding = [{"funder_name": "Wonderland Trust"}]
    related = [{"identifier": "10.1234/x", "identifier_type": "", "relation_type": "Cites"}]
    version = mint(repo, related_works=related, funding=funding)
    concept = Doi.objects.get(pk=version.concept_id)
    assert concept.metadata["fundingReferences"] == [{"funderName": "Wonderland Trust"}]
    assert concept.metadata["relatedIdentifiers"][-1] == {
        "relatedIdentifier": "10.1234/x", "relatedIdentifierType": "DOI", "relationType": "Cites"
    }  # fmt: skip


def test_a_bad_row_is_refused_by_number_and_nothing_is_minted(repo, mint):
    good = {"identifier": "10.1234/x", "identifier_type": "", "relation_type": "Cites"}
    bad = {"identifier": "10.1234", "identifier_type": "DOI", "relation_type": "Cites"}
    with pytest.raises(DoiMetadataError, match=r"^Related work 2: “10.1234” is not a valid DOI"):
        mint(repo, related_works=[good, bad])
    with pytest.raises(DoiMetadataError, match=r"^The related works must be a list of rows"):
        mint(repo, related_works="10.1234/x")
    with pytest.raises(DoiMetadataError, match=r"^Funder 1: Enter the funder's name"):
        mint(repo, funding=[{"award_number": "12"}])
    assert not Doi.objects.exists()


def test_the_same_link_twice_is_sent_once(repo, mint):
    row = {"identifier": "10.1234/x", "identifier_type": "", "relation_type": "Cites"}
    doi = mint(repo, related_works=[row, dict(row, identifier="doi:10.1234/x")])
    assert len(doi.record["related_works"]) == 1


def test_existing_dois_keep_the_links_they_were_sent(repo, owner, alice, mint):
    """The migration: links once derived from the card at each push are stored, so the next
    push sends the same."""
    doi = mint(repo)
    derived = {"relatedIdentifier": "10.5072/hub/9999", "relatedIdentifierType": "DOI",
               "relationType": "IsDerivedFrom"}  # fmt: skip
    metadata = doi.metadata | {"relatedIdentifiers": [*doi.metadata["relatedIdentifiers"], derived]}
    Doi.objects.filter(pk=doi.pk).update(metadata=metadata, record={"description": "Kept."})
    migration = importlib.import_module("doi.migrations.0008_record_related_works")
    migration.keep_what_was_sent(apps, None)
    doi.refresh_from_db()
    assert doi.record["description"] == "Kept."
    assert doi.record["related_works"] == [
        {
            "identifier": "10.5072/hub/9999",
            "identifier_type": "DOI",
            "relation_type": "IsDerivedFrom",
        }
    ]
    Doi.objects.filter(pk=doi.pk).update(pending_action="update")
    Doi.objects.push(doi.pk)
    doi.refresh_from_db()
    assert doi.metadata["relatedIdentifiers"] == metadata["relatedIdentifiers"]


# What readers get --------------------------------------------------------------------------


@pytest.fixture
def linked(repo, mint):
    return mint(
        repo,
        related_works=[
            {"identifier": "10.1234/base", "identifier_type": "DOI",
             "relation_type": "IsDerivedFrom"},
            {"identifier": "arXiv:2106.09685", "identifier_type": "arXiv",
             "relation_type": "IsSupplementTo"},
        ],
        funding=[{"funder_name": "European Commission", "funder_identifier": EC,
                  "award_number": "101000001"}],
    )  # fmt: skip


def test_csl_json_carries_links_and_funding_in_custom(linked):
    item = json.loads(citations.csl_json(linked))
    assert item["custom"]["relatedIdentifiers"] == [
        {"relatedIdentifier": "10.1234/base", "relatedIdentifierType": "DOI",
         "relationType": "IsDerivedFrom"},
        {"relatedIdentifier": "arXiv:2106.09685", "relatedIdentifierType": "arXiv",
         "relationType": "IsSupplementTo"},
    ]  # fmt: skip
    assert item["custom"]["fundingReferences"][0]["funderName"] == "European Commission"


def test_datacite_xml_carries_links_funding_and_ror(linked):
    linked.metadata["creators"][0]["affiliation"] = [
        {"name": "Andes", "affiliationIdentifier": "https://ror.org/02mhbdp94",
         "affiliationIdentifierScheme": "ROR", "schemeUri": "https://ror.org"}
    ]  # fmt: skip
    root = etree.fromstring(citations.datacite_xml(linked).encode())
    links = [
        (e.text, e.get("relatedIdentifierType"), e.get("relationType"))
        for e in root.iterfind("d:relatedIdentifiers/d:relatedIdentifier", NS)
    ]
    assert links[1:] == [
        ("10.1234/base", "DOI", "IsDerivedFrom"),
        ("arXiv:2106.09685", "arXiv", "IsSupplementTo"),
    ]
    funder = root.find("d:fundingReferences/d:fundingReference", NS)
    assert funder.findtext("d:funderName", namespaces=NS) == "European Commission"
    identifier = funder.find("d:funderIdentifier", NS)
    assert (identifier.text, identifier.get("funderIdentifierType")) == (
        f"https://doi.org/{EC}",
        "Crossref Funder ID",
    )
    assert funder.findtext("d:awardNumber", namespaces=NS) == "101000001"
    affiliation = root.find("d:creators/d:creator/d:affiliation", NS)
    assert affiliation.text == "Andes"
    assert affiliation.get("affiliationIdentifier") == "https://ror.org/02mhbdp94"
    assert affiliation.get("affiliationIdentifierScheme") == "ROR"


def test_schema_org_names_what_it_is_based_on_and_the_funder(linked):
    data = citations.schema_org(linked)
    assert data["isBasedOn"] == ["https://doi.org/10.1234/base"]
    assert data["funder"] == [
        {"@type": "Organization", "name": "European Commission", "@id": f"https://doi.org/{EC}"}
    ]


def test_the_landing_page_lists_links_and_funding(client, linked, repo, staff):
    from repos.models import lock_override

    with lock_override(actor=staff, reason="A support request"):
        repo.set_private(True)
    html = client.get(f"/doi/{linked.doi}").content.decode()
    assert 'Is derived from <a href="https://doi.org/10.1234/base">doi:10.1234/base</a>' in html
    assert (
        'Is a supplement to <a href="https://arxiv.org/abs/2106.09685">arXiv:2106.09685</a>' in html
    )
    assert f'<a href="https://doi.org/{EC}">European Commission</a>, award 101000001' in html


def test_the_repository_page_says_what_it_is_cited_as_derived_from(
    client,
    linked,
    repo,
    without_doi_slots,  # noqa: F811 (the fixture imported above)
):
    html = client.get(repo.get_absolute_url()).content.decode()
    assert (
        'Cited as derived from <a href="https://doi.org/10.1234/base">doi:10.1234/base</a>' in html
    )
    # Still one DOI query for the page: the links come with the DOI's row.
    url = repo.get_absolute_url()
    with_doi = count_queries(client, url, cached=False)
    without_doi_slots()
    assert with_doi - count_queries(client, url, cached=False) <= 1

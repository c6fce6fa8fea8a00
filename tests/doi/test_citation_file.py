"""A repository's CITATION.cff proposes the authors and related works of Generate DOI: read
safely, checked against the Citation File Format 1.2.0 schema, and named where it is wrong."""

from __future__ import annotations

import re
from html import unescape

from doi.citation_file import MAX_KB, parse
from doi.models import Doi
from tests.doi.test_owner_generate import form_data, names_in_order, url
from tests.doi.test_owner_related import values
from tests.factories import RepoFactory, commit_files
from tests.factories import mint_doi as mint_doi_now

ORCID = "0000-0002-1825-0097"
PAPER = "10.48550/arXiv.1810.04805"

CFF = f"""cff-version: 1.2.0
message: If you use this model, please cite it as below.
title: Tuned sentiment model
authors:
  - given-names: Alice
    family-names: Liddell
    orcid: https://orcid.org/{ORCID}
    affiliation: Wonderland University
  - given-names: Ludwig
    name-particle: van
    family-names: Beethoven
  - name: The Hatters' Collective
identifiers:
  - type: doi
    value: 10.5281/zenodo.1234567
  - type: url
    value: https://example.org/tuned
preferred-citation:
  type: article
  title: BERT
  authors:
    - family-names: Devlin
      given-names: Jacob
  doi: {PAPER}
references:
  - type: data
    title: Reviews
    authors:
      - name: Wonderland
    url: https://example.org/reviews
  - type: book
    title: A book with neither DOI nor URL
    authors:
      - name: Somebody
"""


def repo_with(owner, files: dict, name="tuned"):
    repo = RepoFactory(namespace=owner.namespace, name=name)
    commit_files(repo, owner, {"README.md": "# Tuned\n", **files})
    return repo


def notice(html: str) -> str:
    found = re.search(r'<p class="notice[^"]*" id="citation-file-notice">(.*?)</p>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


# Reading the file ----------------------------------------------------------------------------


def test_it_maps_people_and_entities_to_author_rows():
    cff = parse(CFF)
    assert cff.problem == ""
    assert [(a["type"], a["name"], a["given_name"], a["family_name"]) for a in cff.authors] == [
        ("Personal", "", "Alice", "Liddell"),
        ("Personal", "", "Ludwig", "van Beethoven"),
        ("Organizational", "The Hatters' Collective", "", ""),
    ]
    assert cff.authors[0]["orcid"] == f"https://orcid.org/{ORCID}"
    assert cff.authors[0]["affiliation"] == "Wonderland University"


def test_it_links_the_preferred_citation_references_and_identifiers():
    cff = parse(CFF)
    assert [
        (r["relation_type"], r["identifier_type"], r["identifier"]) for r in cff.related_works
    ] == [
        ("IsSupplementTo", "DOI", PAPER),
        ("References", "URL", "https://example.org/reviews"),
        ("IsIdenticalTo", "DOI", "10.5281/zenodo.1234567"),
        ("IsIdenticalTo", "URL", "https://example.org/tuned"),
    ]
    assert cff.notes == [
        "CITATION.cff: reference 2 has no DOI or URL the hub can link to, so not proposed."
    ]


def test_it_leaves_out_the_repositorys_own_dois_and_pages(settings):
    settings.SITE_URL = "https://hub.example.org"
    text = CFF.replace("https://example.org/tuned", "https://hub.example.org/alice/tuned")
    cff = parse(text, own={"10.5281/ZENODO.1234567"})
    assert [r["identifier"] for r in cff.related_works] == [PAPER, "https://example.org/reviews"]


def test_it_names_the_field_and_line_the_schema_refuses():
    text = CFF.replace(f"https://orcid.org/{ORCID}", ORCID)
    cff = parse(text)
    assert cff.authors == [] and cff.related_works == []
    assert cff.problem.startswith(
        "CITATION.cff does not follow the Citation File Format 1.2.0 at authors[0].orcid "
        f"(line 7): '{ORCID}' "
    )
    assert cff.problem.endswith("Its authors and related works were not used.")


def test_it_names_a_missing_required_field():
    cff = parse("cff-version: 1.2.0\nmessage: Cite me\nauthors:\n  - name: Someone\n")
    assert cff.problem == (
        "CITATION.cff does not follow the Citation File Format 1.2.0 (line 1): 'title' is a "
        "required property. Its authors and related works were not used."
    )


def test_it_refuses_yaml_aliases_as_the_card_parser_does():
    text = CFF.replace("  - name: The Hatters' Collective", "  - &who\n    name: Hatters\n  - *who")
    cff = parse(text)
    assert cff.authors == []
    assert cff.problem == (
        "CITATION.cff uses the YAML alias “*who” (line 14); aliases are not accepted: write "
        "the value out in full. Its authors and related works were not used."
    )


def test_it_says_on_which_line_the_yaml_breaks():
    cff = parse("cff-version: 1.2.0\ntitle: [unclosed\nmessage: x\n")
    assert cff.problem.startswith("CITATION.cff is not valid YAML (line ")
    assert cff.authors == []


def test_it_reads_dates_as_the_schema_expects():
    assert parse(CFF + "date-released: 2026-11-30\n").problem == ""


# In the Generate DOI form --------------------------------------------------------------------


def test_the_form_proposes_the_files_authors_instead_of_the_owner(logged_in, owner):
    repo = repo_with(owner, {"CITATION.cff": CFF})
    html = logged_in.get(url(repo)).content.decode()
    assert values(html, r"authors-\d+-given_name") == ["Alice", "Ludwig", ""]
    assert values(html, r"authors-\d+-family_name") == ["Liddell", "van Beethoven", ""]
    assert names_in_order(html) == ["", "", "The Hatters&#x27; Collective"]
    assert values(html, r"authors-\d+-orcid")[0] == f"https://orcid.org/{ORCID}"
    assert notice(html).startswith(
        "The authors are proposed from the repository\u2019s CITATION.cff"
    )
    # The preview sends them with the ORCID as DataCite takes it.
    preview = html[html.index('class="doi-preview"') :]
    assert "Liddell, Alice" in preview and f"https://orcid.org/{ORCID}" in preview
    assert "reference 2 has no DOI or URL the hub can link to" in html


def test_the_files_works_join_the_cards_without_repeats(logged_in, owner):
    card = f"---\ntags:\n  - doi:{PAPER}\n---\n# Tuned\n"
    repo = repo_with(owner, {"CITATION.cff": CFF})
    commit_files(repo, owner, {"README.md": card})
    html = logged_in.get(url(repo)).content.decode()
    assert values(html, r"related-\d+-identifier") == [
        PAPER,
        "https://example.org/reviews",
        "10.5281/zenodo.1234567",
        "https://example.org/tuned",
    ]


def test_the_owner_generates_with_the_proposed_authors(logged_in, owner):
    repo = repo_with(owner, {"CITATION.cff": CFF})
    html = logged_in.get(url(repo)).content.decode()
    rows = [
        {
            "type": t,
            "name": n.replace("&#x27;", "'"),
            "given_name": g,
            "family_name": f,
            "orcid": o,
            "affiliation": a,
        }
        for t, n, g, f, o, a in zip(
            re.findall(r'<option value="(\w+)" selected', html)[:3],
            names_in_order(html),
            values(html, r"authors-\d+-given_name"),
            values(html, r"authors-\d+-family_name"),
            values(html, r"authors-\d+-orcid"),
            values(html, r"authors-\d+-affiliation"),
            strict=True,
        )
    ]
    response = logged_in.post(url(repo), form_data(*rows))
    assert response.status_code == 302
    doi = Doi.objects.get(repo=repo, kind=Doi.Kind.VERSION)
    assert [c["name"] for c in doi.creators] == [
        "Alice Liddell",
        "Ludwig van Beethoven",
        "The Hatters' Collective",
    ]
    assert doi.creators[0]["orcid"] == ORCID
    # Submitted without the list, the related works are the proposal, card's and file's.
    assert [r["identifier"] for r in doi.record["related_works"]][:2] == [
        PAPER,
        "https://example.org/reviews",
    ]


def test_an_invalid_file_is_named_and_the_form_still_works(logged_in, owner):
    repo = repo_with(
        owner, {"CITATION.cff": CFF.replace("cff-version: 1.2.0", "cff-version: 1.1.0")}
    )
    html = logged_in.get(url(repo)).content.decode()
    assert notice(html).startswith(
        "CITATION.cff does not follow the Citation File Format 1.2.0 at cff-version (line 1): "
        "'1.1.0' does not match"
    )
    # The owner is proposed as before, and Generate DOI works.
    assert names_in_order(html) == [owner.full_name]
    response = logged_in.post(url(repo), form_data({"name": "Alice Liddell"}))
    assert response.status_code == 302
    assert Doi.objects.filter(repo=repo, kind=Doi.Kind.VERSION).exists()


def test_an_oversized_file_is_not_read(logged_in, owner):
    padding = "# " + "x" * 1000 + "\n"
    repo = repo_with(owner, {"CITATION.cff": CFF + padding * (MAX_KB + 10)})
    html = logged_in.get(url(repo)).content.decode()
    assert re.fullmatch(
        rf"CITATION.cff is [\d.]+\xa0KB, over the limit of {MAX_KB} KB, so it was not read.",
        notice(html),
    )
    assert names_in_order(html) == [owner.full_name]


def test_a_file_naming_the_repositorys_own_doi_does_not_link_to_itself(
    logged_in, owner, django_capture_on_commit_callbacks
):
    repo = repo_with(owner, {"CITATION.cff": CFF})
    with django_capture_on_commit_callbacks(execute=True):
        first = mint_doi_now(repo, owner)
    concept = first.concept.doi
    text = CFF.replace("10.5281/zenodo.1234567", concept)
    commit_files(repo, owner, {"CITATION.cff": text})
    html = logged_in.get(url(repo)).content.decode()
    assert concept not in values(html, r"related-\d+-identifier")
    assert PAPER in values(html, r"related-\d+-identifier")

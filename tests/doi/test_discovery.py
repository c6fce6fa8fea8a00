"""What machines read from landing pages: FAIR Signposting Link headers and linksets (read back
with the `signposting` package), and the page head's schema.org JSON-LD (expanded with pyld
against schema.org's own context), Highwire Press and Dublin Core tags (parsed with lxml).

schemaorg-30.0-context.jsonld is schema.org's JSON-LD context of release 30.0, as published in
the schemaorg/schemaorg repository (data/releases/30.0/schemaorgcontext.jsonld; schema.org's
terms are CC BY-SA 3.0), so that no test reaches the network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import signposting
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import html as lxml_html
from pyld import jsonld
from signposting.htmllinks import DownloadedText

from doi import discovery, slots
from doi.models import Doi
from repos import slots as repo_slots
from repos.models import lock_override
from tests.factories import commit_files

SITE = "https://hub.example.org"
ORCID = "https://orcid.org/0000-0002-1825-0097"
SPDX = "https://spdx.org/licenses/Apache-2.0"
CONTEXT = json.loads((Path(__file__).parent / "schemaorg-30.0-context.jsonld").read_text())
FORMAT_TYPES = {
    "bibtex": "application/x-bibtex",
    "apa": "text/x-bibliography",
    "csl": "application/vnd.citationstyles.csl+json",
    "ris": "application/x-research-info-systems",
    "xml": "application/vnd.datacite.datacite+xml",
    "datacite-json": "application/vnd.datacite.datacite+json",
    "jsonld": "application/vnd.schemaorg.ld+json",
    "cff": "application/yaml",
}


@pytest.fixture
def version(repo, mint) -> Doi:
    return mint(repo)


def signposts_of(response, page: str) -> signposting.Signposting:
    """The signposts of a response's Link header, read by the `signposting` package."""
    return signposting.find_signposting_http_link([response["Link"]], SITE + page)


def described_by(doi: Doi) -> set[tuple[str, str]]:
    return {(f"{SITE}/doi/{doi.doi}?format={name}", t) for name, t in FORMAT_TYPES.items()}


# Link headers ---------------------------------------------------------------------------------


def test_the_repository_page_signposts_its_concept_doi(client, repo, version):
    page = repo.url("page")
    response = client.get(page)
    s = signposts_of(response, page)
    concept = version.concept
    assert s.citeAs.target == f"https://doi.org/{concept.doi}"
    assert {(d.target, str(d.type)) for d in s.describedBy} == described_by(concept)
    assert {str(t.target) for t in s.types} == {
        "https://schema.org/CreativeWork",
        "https://schema.org/AboutPage",
    }
    assert [a.target for a in s.authors] == [ORCID]
    assert s.license.target == SPDX
    oid = repo.head.oid
    assert {(i.target, str(i.type)) for i in s.items} == {
        (f"{SITE}/alice/sentiment-model/blob/{oid}/README.md?download", "text/markdown"),
        (f"{SITE}/alice/sentiment-model/blob/{oid}/config.json?download", "application/json"),
    }
    linkset = f"{SITE}/doi/linkset/{concept.doi}"
    assert {(ls.target, str(ls.type)) for ls in s.linksets} == {
        (linkset, "application/linkset+json"),
        (linkset, "application/linkset"),
    }
    # Every link is about the page itself.
    assert {str(sp.context) for sp in s} == {SITE + page}


def test_each_file_is_sent_with_the_media_type_its_item_link_announces(client, owner, repo, mint):
    commit_files(repo, owner, {"data/train.csv": "a,b\n", "weights.safetensors": b"\0\1"})
    version = mint(repo)
    page = repo.url("tree", version.revision_oid)
    items = signposts_of(client.get(page), page).items
    assert len(items) == 4
    for item in items:
        path = item.target.removeprefix(SITE)
        for method in (client.get, client.head):
            response = method(path)
            assert response.status_code == 200, (method, path)
            assert response["Content-Type"] == str(item.type), path
            assert response["Content-Disposition"].startswith("attachment;"), path
    assert {str(i.type) for i in items} == {
        "text/markdown", "application/json", "text/csv", "application/octet-stream"
    }  # fmt: skip


def test_a_revision_page_signposts_its_version_doi(client, owner, repo, version):
    page = repo.url("tree", version.revision_oid)
    commit_files(repo, owner, {"later.txt": "later"})
    s = signposts_of(client.get(page), page)
    assert s.citeAs.target == f"https://doi.org/{version.doi}"
    assert {(d.target, str(d.type)) for d in s.describedBy} == described_by(version)
    assert "later.txt" not in " ".join(i.target for i in s.items)
    assert len(s.items) == 2


def test_the_links_can_be_read_with_head(client, repo, version):
    """The profile expects machines to read the links with HEAD, even where GET is costly."""
    for page in (repo.url("page"), repo.url("tree", version.revision_oid)):
        response = client.head(page)
        assert response.status_code == 200
        assert response["Link"] == client.get(page)["Link"]


def test_a_dataset_is_signposted_as_a_schema_org_dataset(client, owner, mint):
    from tests.factories import RepoFactory

    dataset = RepoFactory(namespace=owner.namespace, name="reviews", type="dataset")
    commit_files(dataset, owner, {"data.csv": "a,b\n"})
    mint(dataset)
    page = dataset.url("page")
    s = signposts_of(client.get(page), page)
    assert {str(t.target) for t in s.types} == {
        "https://schema.org/Dataset",
        "https://schema.org/AboutPage",
    }
    assert [(i.target.rsplit("/", 1)[1], str(i.type)) for i in s.items] == [
        ("data.csv?download", "text/csv")
    ]


def test_each_signposted_doi_resolves_to_the_page_that_signposts_it(client, repo, version):
    """cite-as must lead back to the page carrying it: /doi/<doi> redirects there."""
    for doi, page in (
        (version.concept, repo.url("page")),
        (version, repo.url("tree", version.revision_oid)),
    ):
        assert client.get(reverse("doi:resolve", args=[doi.doi]))["Location"] == page
        assert signposts_of(client.get(page), page).citeAs.target.endswith(doi.doi)


def test_pages_no_doi_resolves_to_carry_no_signposts(client, owner, repo, version):
    old_page = repo.url("tree", version.revision_oid)
    later = commit_files(repo, owner, {"later.txt": "later"})
    # The newest revision has no DOI of its own; the commits page is no landing page.
    for page in (
        repo.url("tree", later.oid),
        repo.url("commits"),
        repo.url("tree", version.revision_oid[:7]),
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert "Link" not in response, page
        assert "application/ld+json" not in response.text
    assert "Link" in client.get(old_page)


def test_a_doi_datacite_does_not_have_yet_is_not_signposted(client, repo, version):
    Doi.objects.filter(repo=repo).update(remote_state=Doi.RemoteState.NONE)
    response = client.get(repo.url("page"))
    assert "Link" not in response
    assert "citation_doi" not in response.text
    assert client.get(reverse("doi:linkset", args=[version.doi])).status_code == 404


def test_the_header_lists_ten_authors_and_ten_files_and_the_linkset_all(client, owner, repo, mint):
    commit_files(repo, owner, {f"shard-{n:02d}.safetensors": b"\0" for n in range(12)})
    orcids = ["0000-0002-1825-0097", "0000-0001-5109-3700", "0000-0002-1694-233X"]
    people = [
        {"type": "Personal", "name": f"Person {n}", "given_name": "", "family_name": "",
         "orcid": orcids[n % 3] if n < 3 else "", "affiliation": ""}
        for n in range(12)
    ]  # fmt: skip
    version = mint(repo, creators=people)
    page = repo.url("tree", version.revision_oid)
    s = signposts_of(client.get(page), page)
    assert len(s.items) == discovery.HEADER_ITEMS == 10
    assert len(s.authors) == 3  # only those with an ORCID
    linkset = client.get(reverse("doi:linkset", args=[version.doi]))
    landing = json.loads(linkset.content)["linkset"][0]
    assert len(landing["item"]) == 14
    assert {i["type"] for i in landing["item"][2:]} == {"application/octet-stream"}


def test_authors_beyond_ten_are_in_the_linkset_only(repo, version):
    many = [f"https://orcid.org/0000-0000-0000-{n:04d}" for n in range(13)]
    version.metadata["creators"] = [
        {
            "name": f"P{n}",
            "nameIdentifiers": [{"nameIdentifier": o, "nameIdentifierScheme": "ORCID"}],
        }
        for n, o in enumerate(many)
    ]
    signposts = discovery.Signposts.of(version, repo.head)
    header = signposting.find_signposting_http_link([signposts.header()])
    assert {a.target for a in header.authors} == set(many[:10])
    assert [a["href"] for a in signposts.linkset_json()["linkset"][0]["author"]] == many


# Linksets -------------------------------------------------------------------------------------


def read_linkset(response, url: str) -> signposting.Signposting:
    """A linkset document as the `signposting` package reads a downloaded one."""
    content_type = response["Content-Type"]
    text = response.content.decode()
    cls = signposting.linkset.LinksetJSON if "json" in content_type else signposting.linkset.Linkset
    document: DownloadedText = cls(text, content_type, url, url)
    if cls is signposting.linkset.LinksetJSON:
        return signposting.linkset._parse_linkset_json(document)
    return signposting.linkset._parse_linkset(document)


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/linkset+json", "application/linkset+json"),
        ("application/linkset", "application/linkset"),
        ("*/*", "application/linkset+json"),
    ],
)
def test_the_linkset_has_every_link_with_its_origin(client, repo, version, accept, media_type):
    path = reverse("doi:linkset", args=[version.doi])
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == media_type
    assert response["Vary"] == "Accept"
    everything = read_linkset(response, SITE + path)
    landing = f"{SITE}{repo.url('tree', version.revision_oid)}"
    s = everything.for_context(landing)
    assert {sp.rel.value for sp in s} == {
        "cite-as", "describedby", "type", "author", "license", "item"
    }  # fmt: skip
    assert s.citeAs.target == f"https://doi.org/{version.doi}"
    assert {(d.target, str(d.type)) for d in s.describedBy} == described_by(version)
    # Each file belongs to the landing page's collection, each metadata document describes it.
    files = {i.target for i in s.items}
    assert len(files) == 2
    for file in files:
        assert everything.for_context(file).collection.target == landing
    for metadata in s.describedBy:
        (describes,) = everything.for_context(metadata.target).describes
        assert describes.target == landing
    # RFC 9264: every origin and target is an absolute URI.
    assert all(
        str(sp.context).startswith("https://") and sp.target.startswith("https://")
        for sp in everything.signposts
    )


def test_the_linkset_is_fetched_over_http_by_the_signposting_client(
    live_server, settings, repo, version
):
    settings.SITE_URL = live_server.url
    for media_type in ("application/linkset+json", "application/linkset"):
        s = signposting.find_signposting_linkset(
            f"{live_server.url}/doi/linkset/{version.concept.doi}", media_type
        )
        landing = s.for_context(f"{live_server.url}{repo.url('page')}")
        assert landing.citeAs.target == f"https://doi.org/{version.concept.doi}"
        assert len(landing.items) == 2


def test_an_unknown_doi_has_no_linkset(client, version):
    assert client.get("/doi/linkset/10.5072/nothing").status_code == 404
    upper = client.get(f"/doi/linkset/{version.doi.upper()}")
    assert upper.status_code == 301
    assert upper["Location"] == f"/doi/linkset/{version.doi}"


# The DOI's own page and its metadata ---------------------------------------------------------


def test_the_page_of_a_private_repositorys_doi_signposts_it_without_files(
    client, staff, repo, version
):
    with lock_override(actor=staff, reason="test"):
        repo.set_private(True)
    page = reverse("doi:resolve", args=[version.doi])
    response = client.get(page)
    assert response.status_code == 200
    s = signposts_of(response, page)
    assert s.citeAs.target == f"https://doi.org/{version.doi}"
    assert list(s.items) == []
    assert s.license.target == SPDX
    linkset = json.loads(client.get(reverse("doi:linkset", args=[version.doi])).content)
    assert linkset["linkset"][0]["anchor"] == SITE + page
    assert "item" not in linkset["linkset"][0]


def test_the_tombstone_signposts_the_doi(client, staff, repo, version):
    with lock_override(actor=staff, reason="test"):
        repo.remove(reason="Gone")
    page = reverse("doi:resolve", args=[version.doi])
    response = client.get(page)
    assert response.status_code == 410
    assert signposts_of(response, page).citeAs.target == f"https://doi.org/{version.doi}"


@pytest.mark.parametrize("name", FORMAT_TYPES)
def test_each_metadata_document_says_what_it_describes(client, repo, version, name):
    path = reverse("doi:resolve", args=[version.doi])
    response = client.get(path, {"format": name})
    assert response["Content-Type"].split(";")[0] == FORMAT_TYPES[name]
    s = signposts_of(response, path)
    assert [(d.target, str(d.type)) for d in s.describes] == [
        (f"{SITE}{repo.url('tree', version.revision_oid)}", "text/html")
    ]
    assert {str(ls.type) for ls in s.linksets} == {
        "application/linkset+json",
        "application/linkset",
    }


# The page head ----------------------------------------------------------------------------------


def head_of(response):
    return lxml_html.fromstring(response.content).find("head")


def json_ld_of(response) -> dict:
    (script,) = head_of(response).xpath('script[@type="application/ld+json"]')
    return json.loads(script.text)


def load_schema_org(url, options=None):
    """pyld's document loader, without the network: schema.org's context (release 30.0)."""
    if url.rstrip("/") not in ("https://schema.org", "http://schema.org"):
        raise jsonld.JsonLdError(f"Not loaded in tests: {url}", "loading document failed")
    return {"contextUrl": None, "documentUrl": url, "document": CONTEXT}


def terms_used(node) -> set[str]:
    if isinstance(node, list):
        return set().union(*(terms_used(n) for n in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    types = node.get("@type", [])
    types = {types} if isinstance(types, str) else set(types)
    return {k for k in node if not k.startswith("@")} | types | terms_used(list(node.values()))


def test_the_json_ld_uses_only_schema_org_terms_and_expands(client, repo, version):
    data = json_ld_of(client.get(repo.url("tree", version.revision_oid)))
    assert terms_used(data) - set(CONTEXT["@context"]) == set()
    (node,) = jsonld.expand(data, {"documentLoader": load_schema_org})
    s = "http://schema.org/"
    assert node["@id"] == f"https://doi.org/{version.doi}"
    assert node["@type"] == [f"{s}CreativeWork"]
    assert node[f"{s}license"] == [{"@id": SPDX}]
    assert node[f"{s}version"] == [{"@value": version.revision_oid[:7]}]
    (creator,) = node[f"{s}creator"]
    assert creator["@id"] == ORCID
    assert creator[f"{s}name"] == [{"@value": "Alice Liddell"}]
    (identifier,) = node[f"{s}identifier"]
    assert identifier[f"{s}value"] == [{"@value": version.doi}]


def test_the_json_ld_names_what_a_model_is_based_on_and_cites(client, owner, repo, mint):
    from tests.factories import RepoFactory

    base = RepoFactory(namespace=owner.namespace, name="base-model")
    commit_files(base, owner, {"README.md": "# Base\n"})
    base_doi = mint(base)
    card = "---\nbase_model: alice/base-model\n---\n# Tuned\n\n[LoRA](https://arxiv.org/abs/2106.09685)\n"
    commit_files(repo, owner, {"README.md": card})
    version = mint(repo)
    data = json_ld_of(client.get(repo.url("tree", version.revision_oid)))
    assert data["isBasedOn"] == [f"https://doi.org/{base_doi.doi}"]
    (node,) = jsonld.expand(data, {"documentLoader": load_schema_org})
    assert node["http://schema.org/isBasedOn"] == [{"@id": f"https://doi.org/{base_doi.doi}"}]
    # The paper the card links to, proposed as "is a supplement to", is a citation.
    (paper,) = node["http://schema.org/citation"]
    assert paper["@id"] == "https://arxiv.org/abs/arXiv:2106.09685"
    assert paper["@type"] == ["http://schema.org/CreativeWork"]


def test_the_json_ld_of_the_page_is_what_content_negotiation_serves(client, repo, version):
    page = json_ld_of(client.get(repo.url("page")))
    negotiated = client.get(
        reverse("doi:resolve", args=[version.concept.doi]),
        headers={"Accept": "application/vnd.schemaorg.ld+json"},
    )
    assert page == json.loads(negotiated.content)


def meta(head) -> list[tuple[str, str]]:
    return [(m.get("name"), m.get("content")) for m in head.iter("meta") if m.get("name")]


def test_the_head_has_highwire_press_and_dublin_core_tags(client, owner, repo, mint):
    people = [
        {"type": "Personal", "name": "Alice Liddell", "given_name": "", "family_name": "",
         "orcid": "0000-0002-1825-0097", "affiliation": "Wonderland University"},
        {"type": "Organizational", "name": "Hatters Guild"},
    ]  # fmt: skip
    version = mint(repo, creators=people)
    head = head_of(client.get(repo.url("tree", version.revision_oid)))
    tags = meta(head)
    day = version.created_at.date()
    title = f"sentiment-model (Revision {version.revision_oid[:7]})"
    assert [t for t in tags if t[0].startswith("citation_")] == [
        ("citation_title", title),
        ("citation_author", "Liddell, Alice"),
        ("citation_author_institution", "Wonderland University"),
        ("citation_author", "Hatters Guild"),
        ("citation_publication_date", f"{day.year}/{day.month:02d}/{day.day:02d}"),
        ("citation_doi", version.doi),
        ("citation_publisher", "BOINC AI Hub"),
        ("citation_keywords", "text-classification"),
        ("citation_keywords", "sentiment"),
    ]
    dc = dict((n, c) for n, c in tags if n.startswith(("DC.", "DCTERMS.")))
    assert dc["DC.title"] == title
    assert [c for n, c in tags if n == "DC.creator"] == ["Liddell, Alice", "Hatters Guild"]
    assert dc["DC.identifier"] == f"https://doi.org/{version.doi}"
    assert dc["DC.date"] == day.isoformat()
    assert dc["DC.type"] == "Software"
    assert dc["DCTERMS.license"] == SPDX
    assert dc["DCTERMS.isVersionOf"] == f"https://doi.org/{version.concept.doi}"
    schemas = {link.get("rel"): link.get("href") for link in head.iter("link")}
    assert schemas["schema.DC"] == "http://purl.org/dc/elements/1.1/"
    assert schemas["schema.DCTERMS"] == "http://purl.org/dc/terms/"


def test_the_doi_page_of_a_private_repository_has_the_same_head(client, staff, repo, version):
    with lock_override(actor=staff, reason="test"):
        repo.set_private(True)
    head = head_of(client.get(reverse("doi:resolve", args=[version.doi])))
    assert ("citation_doi", version.doi) in meta(head)
    assert len(head.xpath('script[@type="application/ld+json"]')) == 1


def test_a_title_cannot_close_the_json_ld_script(client, repo, version):
    version.metadata["titles"] = [{"title": "</script><script>alert(1)</script>"}]
    version.save(update_fields=["metadata"])
    response = client.get(repo.url("tree", version.revision_oid))
    head = head_of(response)
    scripts = head.xpath("script")
    # The JSON-LD and the site's own two (htmx, request-errors.js): nothing injected.
    assert [s.get("type") for s in scripts if s.get("src") is None] == ["application/ld+json"]
    assert len(scripts) == 3
    assert json_ld_of(response)["name"].startswith("</script><script>alert(1)</script>")
    assert ("citation_title", json_ld_of(response)["name"]) in meta(head)


# Cost ----------------------------------------------------------------------------------------


def count_queries(client, page: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    return len(queries)


def test_signposting_and_the_head_add_no_query_to_the_repository_page(client, repo, version):
    page = repo.url("page")
    client.get(page)  # warm what is cached per process
    cache.clear()  # both rendered, not read from the page cache
    with_them = count_queries(client, page)
    repo_slots.unregister("head", slots.head)
    repo_slots.unregister("link", slots.link)
    try:
        cache.clear()
        without = count_queries(client, page)
    finally:
        repo_slots.register("head", slots.head)
        repo_slots.register("link", slots.link)
    assert with_them == without

"""What machines read about a DOI beyond its citations: FAIR Signposting (typed links in the
landing page's ``Link`` header, and all of them in an RFC 9264 linkset) and the page head
(schema.org JSON-LD, Highwire Press ``citation_*`` tags for Google Scholar, Dublin Core).

A DOI's landing page is where ``/doi/<doi>`` leads: the repository page for a concept DOI, the
revision's page for a version DOI, and the DOI's own page when the repository cannot be shown.
Signposting's ``cite-as`` must lead back to the page that carries it, so a page signposts only
the DOI that resolves to it, and only once DataCite has it (before that doi.org answers 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils.encoding import iri_to_uri

from doi.citations import (
    FORMATS,
    Record,
    publication_date,
    resolver_url,
    schema_org_script,
    schema_org_type,
)
from repos.paths import media_type

if TYPE_CHECKING:
    from doi.models import Doi
    from repos.models import Revision

# The FAIR Signposting profile leaves the number of author and item links in the header to the
# platform ("a limited number", to keep the header small enough for servers and proxies); the
# linkset always has them all.
HEADER_AUTHORS = 10
HEADER_ITEMS = 10

LINKSET_JSON = "application/linkset+json"
LINKSET_TEXT = "application/linkset"

# Where a media type alone does not say which format a metadata document is in.
PROFILES = {"cff": "https://citation-file-format.github.io/1.2.0/schema.json"}

SCHEMA_ORG = "https://schema.org/"


def absolute(path: str) -> str:
    return iri_to_uri(f"{settings.SITE_URL}{path}")


# Where a DOI leads ------------------------------------------------------------------------------


def own_page_reason(doi: Doi) -> str:
    """Why ``/doi/<doi>`` shows the DOI's own page instead of leading to the repository:
    "removed" (the tombstone), "private", "revision-removed", or "" when it leads there."""
    if doi.repo.is_removed:
        return "removed"
    if doi.repo.private:
        return "private"
    if doi.kind == doi.Kind.VERSION and doi.revision_id is None:
        return "revision-removed"
    return ""


def landing_path(doi: Doi) -> str:
    """The path of the page ``/doi/<doi>`` leads to."""
    if own_page_reason(doi):
        return reverse("doi:resolve", args=[doi.doi])
    if doi.kind == doi.Kind.CONCEPT:
        return doi.repo.get_absolute_url()
    return doi.repo.url("tree", doi.revision_oid)


def format_url(doi: Doi, name: str) -> str:
    return absolute(f"{reverse('doi:resolve', args=[doi.doi])}?format={name}")


def linkset_url(doi: Doi) -> str:
    return absolute(reverse("doi:linkset", args=[doi.doi]))


# FAIR Signposting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """One typed link (RFC 8288) from its origin to ``href``."""

    rel: str
    href: str
    type: str = ""
    profile: str = ""

    def header(self, anchor: str = "") -> str:
        """The link as in a ``Link`` header, and in an ``application/linkset`` document
        (where ``anchor`` names the origin)."""
        parts = [f"<{self.href}>", f'rel="{self.rel}"']
        parts += [f'{k}="{v}"' for k, v in self.attributes.items()]
        if anchor:
            parts.append(f'anchor="{anchor}"')
        return "; ".join(parts)

    @property
    def attributes(self) -> dict[str, str]:
        return {k: v for k, v in (("type", self.type), ("profile", self.profile)) if v}

    def target(self) -> dict[str, str]:
        """The link's target object in an ``application/linkset+json`` document."""
        return {"href": self.href, **self.attributes}


@dataclass(frozen=True)
class Signposts:
    """The typed links of a DOI's landing page, and those of its content and metadata
    resources, as the FAIR Signposting profile (levels 1 and 2) lays them out."""

    doi: str
    landing: str
    cite_as: Link
    describedby: tuple[Link, ...]
    types: tuple[Link, ...]
    authors: tuple[Link, ...]
    license: tuple[Link, ...]
    items: tuple[Link, ...]
    linksets: tuple[Link, ...]

    @classmethod
    def of(cls, doi: Doi, revision: Revision | None = None) -> Signposts:
        """``revision`` is the one the landing page shows, whose files are the content
        resources (None on the DOI's own page, where the files cannot be had). Its files are
        read with ``revision.files.all()``: prefetch them to spare the query."""
        files = revision.files.all() if revision is not None else ()
        record = Record.of(doi)
        orcids = dict.fromkeys(a.orcid for a in record.authors if a.orcid)
        licence = next((r["rightsUri"] for r in record.rights if r.get("rightsUri")), "")
        return cls(
            doi=doi.doi,
            landing=absolute(landing_path(doi)),
            cite_as=Link("cite-as", resolver_url(doi.doi)),
            describedby=tuple(
                Link("describedby", format_url(doi, f.name), f.media_type, PROFILES.get(f.name, ""))
                for f in FORMATS.values()
            ),
            types=(
                Link("type", f"{SCHEMA_ORG}{schema_org_type(record)}"),
                Link("type", f"{SCHEMA_ORG}AboutPage"),
            ),
            authors=tuple(Link("author", orcid) for orcid in orcids),
            license=(Link("license", licence),) if licence else (),
            # Each file's download, which the site sends with the media type announced.
            items=tuple(
                Link(
                    "item",
                    absolute(f"{doi.repo.url('blob', revision.oid, f.path)}?download"),
                    media_type(f.path),
                )
                for f in files
            ),
            linksets=(
                Link("linkset", linkset_url(doi), LINKSET_JSON),
                Link("linkset", linkset_url(doi), LINKSET_TEXT),
            ),
        )

    def _from_landing(self, authors: int | None = None, items: int | None = None) -> list[Link]:
        return [
            self.cite_as,
            *self.describedby,
            *self.types,
            *self.authors[:authors],
            *self.license,
            *self.items[:items],
        ]

    def header(self) -> str:
        """Level 1 (with at most ``HEADER_AUTHORS`` authors and ``HEADER_ITEMS`` files) and the
        links to the level-2 linkset, as one ``Link`` header value."""
        links = self._from_landing(HEADER_AUTHORS, HEADER_ITEMS) + list(self.linksets)
        return ", ".join(link.header() for link in links)

    def _contexts(self) -> list[tuple[str, list[Link]]]:
        """Each origin with its links: the landing page; each file belongs to the landing
        page's collection; each metadata document describes it."""
        back = self.landing
        return [
            (self.landing, self._from_landing()),
            *((item.href, [Link("collection", back, "text/html")]) for item in self.items),
            *((meta.href, [Link("describes", back, "text/html")]) for meta in self.describedby),
        ]

    def linkset_json(self) -> dict:
        """The ``application/linkset+json`` document (RFC 9264, section 4.2)."""
        contexts = []
        for anchor, links in self._contexts():
            context: dict = {"anchor": anchor}
            for link in links:
                context.setdefault(link.rel, []).append(link.target())
            contexts.append(context)
        return {"linkset": contexts}

    def linkset_text(self) -> str:
        """The ``application/linkset`` document (RFC 9264, section 4.1): every link with its
        origin as ``anchor``, one a line."""
        return (
            ",\n".join(link.header(anchor) for anchor, links in self._contexts() for link in links)
            + "\n"
        )

    def metadata_header(self) -> str:
        """The ``Link`` header of a metadata document: what it describes, and the linkset."""
        links = [Link("describes", self.landing, "text/html"), *self.linksets]
        return ", ".join(link.header() for link in links)


# The page head ----------------------------------------------------------------------------------


def _family_first(author) -> str:
    if author.is_person and author.given:
        return f"{author.family}, {author.given}"
    return author.display


def highwire_tags(doi: Doi, record: Record) -> list[tuple[str, str]]:
    """Highwire Press tags, as Google Scholar's inclusion guidelines describe them."""
    tags = [("citation_title", record.citation_title)]
    for author in record.authors:
        tags.append(("citation_author", _family_first(author)))
        tags += [("citation_author_institution", a) for a in author.affiliations if a]
    tags += [
        ("citation_publication_date", publication_date(doi, record, "/")),
        ("citation_doi", record.doi),
        ("citation_publisher", record.publisher),
    ]
    tags += [("citation_keywords", s) for s in record.subjects]
    return tags


def _concept_doi(doi: Doi) -> str:
    """The concept DOI a version belongs to, from the metadata (so without a query)."""
    return next(
        (
            r.get("relatedIdentifier", "")
            for r in (doi.metadata or {}).get("relatedIdentifiers") or []
            if r.get("relationType") == "IsVersionOf" and r.get("relatedIdentifierType") == "DOI"
        ),
        "",
    )


def dublin_core_tags(doi: Doi, record: Record) -> list[tuple[str, str]]:
    """Dublin Core elements (``DC.*``) and terms (``DCTERMS.*``). The type is from the DCMI
    Type Vocabulary: Dataset, or Software for a model (as the CSL, RIS and CFF citations say)."""
    tags = [("DC.title", record.citation_title)]
    tags += [("DC.creator", _family_first(a)) for a in record.authors]
    tags += [
        ("DC.identifier", resolver_url(record.doi)),
        ("DC.publisher", record.publisher),
        ("DC.date", publication_date(doi, record, "-")),
        ("DC.type", "Dataset" if record.is_dataset else "Software"),
    ]
    tags += [("DC.subject", s) for s in record.subjects]
    if record.abstract:
        tags.append(("DC.description", record.abstract))
    for rights in record.rights:
        if rights.get("rights"):
            tags.append(("DC.rights", rights["rights"]))
        if rights.get("rightsUri"):
            tags.append(("DCTERMS.license", rights["rightsUri"]))
    concept = _concept_doi(doi)
    if concept:
        tags.append(("DCTERMS.isVersionOf", resolver_url(concept)))
    return tags


def head_context(doi: Doi) -> dict:
    """What ``doi/includes/_head.html`` puts in a landing page's ``<head>``."""
    record = Record.of(doi)
    return {
        "head_json_ld": schema_org_script(doi),
        "head_meta": highwire_tags(doi, record) + dublin_core_tags(doi, record),
    }

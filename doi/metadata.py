"""DataCite kernel-4 metadata for the hub's DOIs: built from the repository, its card and the
owner's record (the authors and the fields they confirmed), and validated against the schema
before anything is sent.

The builder works on unsaved ``Doi`` objects too, so the acknowledgement form can preview exactly
what ``Doi.objects.mint`` will send.

The owner's record of a DOI is what they set at generation and later in Edit metadata: the authors
(``Doi.creators``) and the fields in ``Doi.record``, each turned into attributes by
``record_attributes``. Every build starts from them, so a push never undoes an owner's edit.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import idutils
from datacite import schema45
from django.conf import settings
from django.core.exceptions import ValidationError
from jsonschema.exceptions import best_match

from doi.citation_file import proposed_related_works
from doi.related import (
    clean_funding,
    clean_related_works,
    clean_ror,
    funding_attributes,
    related_attributes,
)
from repos.cards import as_list

if TYPE_CHECKING:
    from doi.models import Doi

SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
# DataCite's own rule for DOI names (the JSON schema's pattern is looser).
DOI_PATTERN = re.compile(r"^10\.\d{4,5}/[-._;()/:a-zA-Z0-9*~$=]+$")
ORCID_URI = "https://orcid.org/"
ABSTRACT_MAX_LENGTH = 1000
DESCRIPTION_MAX_LENGTH = 5000
NAME_MAX_LENGTH = 200

RESOURCE_TYPES = {
    "model": {"resourceTypeGeneral": "Model", "resourceType": "Machine learning model"},
    "dataset": {"resourceTypeGeneral": "Dataset", "resourceType": "Dataset"},
}

# The licence ids people use in Hub cards, mapped to SPDX (id, name). Anything else is sent as
# plain rights text, without an identifier that would claim more than we know.
LICENCES = {
    "apache-2.0": ("Apache-2.0", "Apache License 2.0"),
    "mit": ("MIT", "MIT License"),
    "bsd-2-clause": ("BSD-2-Clause", 'BSD 2-Clause "Simplified" License'),
    "bsd-3-clause": ("BSD-3-Clause", 'BSD 3-Clause "New" or "Revised" License'),
    "gpl-2.0": ("GPL-2.0-only", "GNU General Public License v2.0 only"),
    "gpl-3.0": ("GPL-3.0-only", "GNU General Public License v3.0 only"),
    "lgpl-3.0": ("LGPL-3.0-only", "GNU Lesser General Public License v3.0 only"),
    "agpl-3.0": ("AGPL-3.0-only", "GNU Affero General Public License v3.0 only"),
    "mpl-2.0": ("MPL-2.0", "Mozilla Public License 2.0"),
    "epl-2.0": ("EPL-2.0", "Eclipse Public License 2.0"),
    "unlicense": ("Unlicense", "The Unlicense"),
    "cc0-1.0": ("CC0-1.0", "Creative Commons Zero v1.0 Universal"),
    "cc-by-3.0": ("CC-BY-3.0", "Creative Commons Attribution 3.0 Unported"),
    "cc-by-4.0": ("CC-BY-4.0", "Creative Commons Attribution 4.0 International"),
    "cc-by-sa-3.0": ("CC-BY-SA-3.0", "Creative Commons Attribution Share Alike 3.0 Unported"),
    "cc-by-sa-4.0": ("CC-BY-SA-4.0", "Creative Commons Attribution Share Alike 4.0 International"),
    "cc-by-nc-4.0": (
        "CC-BY-NC-4.0",
        "Creative Commons Attribution Non Commercial 4.0 International",
    ),
    "cc-by-nc-sa-4.0": (
        "CC-BY-NC-SA-4.0",
        "Creative Commons Attribution Non Commercial Share Alike 4.0 International",
    ),
    "cc-by-nd-4.0": (
        "CC-BY-ND-4.0",
        "Creative Commons Attribution No Derivatives 4.0 International",
    ),
    "cc-by-nc-nd-4.0": (
        "CC-BY-NC-ND-4.0",
        "Creative Commons Attribution Non Commercial No Derivatives 4.0 International",
    ),
    "odc-by": ("ODC-By-1.0", "Open Data Commons Attribution License v1.0"),
    "odbl": ("ODbL-1.0", "Open Data Commons Open Database License v1.0"),
    "pddl": ("PDDL-1.0", "Open Data Commons Public Domain Dedication & License 1.0"),
}
# Card values that say nothing about the rights: sent as no rights at all.
NO_LICENCE = {"other", "unknown", "none", ""}

# Lower-case words that start a family name ("Ludwig van Beethoven").
FAMILY_PARTICLES = {
    "al", "bin", "da", "das", "de", "del", "della", "den", "der", "di", "do", "dos", "du",
    "la", "le", "st", "ten", "ter", "van", "von", "zu",
}  # fmt: skip


class DoiMetadataError(Exception):
    """The metadata for a DOI is not acceptable to DataCite; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# Authors ------------------------------------------------------------------------------------


def clean_creator(data: dict) -> dict:
    """Validate and normalise one author as the owner entered it.

    Returns ``{"type", "name", "given_name", "family_name", "orcid", "affiliation",
    "affiliation_ror"}`` with a bare ORCID id and the ROR id as its URL; raises
    ``ValidationError`` keyed by those field names.
    """
    kind = str(data.get("type") or "Personal").strip()
    if kind not in ("Personal", "Organizational"):
        raise ValidationError({"type": "An author is either a person or an organization."})
    name = _squash(data.get("name"))
    given = _squash(data.get("given_name"))
    family = _squash(data.get("family_name"))
    affiliation = _squash(data.get("affiliation"))
    for field, value in {
        "name": name, "given_name": given, "family_name": family, "affiliation": affiliation
    }.items():  # fmt: skip
        refused = next((c for c in value if _refused_in_names(c)), None)
        if refused is not None:
            raise ValidationError({field: f"Remove the invisible character {_describe(refused)}."})
    orcid = _clean_orcid(str(data.get("orcid") or ""))
    try:
        affiliation_ror = clean_ror(str(data.get("affiliation_ror") or ""))
    except ValueError as exc:
        raise ValidationError({"affiliation_ror": str(exc)}) from None
    if affiliation_ror and not affiliation:
        raise ValidationError(
            {"affiliation": "Enter the affiliation's name too: DataCite needs it with the ROR id."}
        )

    if kind == "Organizational":
        if orcid:
            raise ValidationError(
                {"orcid": "An ORCID identifies a person; leave it empty for an organization."}
            )
        given = family = ""
    elif given and family:
        name = name or f"{given} {family}"
    elif not given and not family:
        given, family = split_name(name)
    else:
        name = name or given or family
    if not name:
        what = "the organization's name" if kind == "Organizational" else "the author's full name"
        raise ValidationError({"name": f"Enter {what}."})
    lengths = {"name": name, "given_name": given, "family_name": family, "affiliation": affiliation}
    for field, value in lengths.items():
        if len(value) > NAME_MAX_LENGTH:
            raise ValidationError({field: f"Use at most {NAME_MAX_LENGTH} characters."})
    return {
        "type": kind,
        "name": name,
        "given_name": given,
        "family_name": family,
        "orcid": orcid,
        "affiliation": affiliation,
        "affiliation_ror": affiliation_ror,
    }


def _squash(value) -> str:
    return " ".join(str(value or "").split())


# Bidirectional embeddings, overrides and isolates reorder the text around a name in every
# citation that prints it; the marks (U+200E, U+200F) and joiners that names need stay allowed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _refused_in_names(char: str) -> bool:
    return char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs", "Co", "Cn")


def _describe(char: str) -> str:
    name = unicodedata.name(char, "").lower() or (
        "a control character" if unicodedata.category(char) == "Cc" else "an unassigned character"
    )
    return f"U+{ord(char):04X} ({name})"


def _clean_orcid(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    bare = re.sub(r"^(?:https?://)?(?:www\.)?orcid\.org/", "", value, flags=re.I).upper()
    if not re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", bare):
        raise ValidationError(
            {"orcid": "An ORCID iD looks like 0000-0002-1825-0097 (16 digits in groups of four)."}
        )
    if not idutils.is_orcid(bare):
        raise ValidationError(
            {"orcid": f"{bare} is not a valid ORCID iD: its check digit does not match."}
        )
    return bare


def split_name(name: str) -> tuple[str, str]:
    """Guess (given, family) from a full name: "Doe, Jane", "Jane Doe", "Ludwig van Beethoven".
    A single word is left unsplit."""
    if "," in name:
        family, _, given = name.partition(",")
        return given.strip(), family.strip()
    words = name.split()
    if len(words) < 2:
        return "", ""
    start = len(words) - 1
    for i, word in enumerate(words[1:-1], start=1):
        if word in FAMILY_PARTICLES:
            start = i
            break
    return " ".join(words[:start]), " ".join(words[start:])


def creator_attributes(creator: dict) -> dict:
    if creator["type"] == "Organizational":
        out: dict = {"name": creator["name"], "nameType": "Organizational"}
    else:
        given, family = creator["given_name"], creator["family_name"]
        out = {"name": f"{family}, {given}" if given and family else creator["name"]}
        out["nameType"] = "Personal"
        if given:
            out["givenName"] = given
        if family:
            out["familyName"] = family
        if creator["orcid"]:
            out["nameIdentifiers"] = [
                {
                    "nameIdentifier": ORCID_URI + creator["orcid"],
                    "nameIdentifierScheme": "ORCID",
                    "schemeUri": "https://orcid.org",
                }
            ]
    if creator["affiliation"]:
        affiliation = {"name": creator["affiliation"]}
        if creator.get("affiliation_ror"):
            affiliation |= {
                "affiliationIdentifier": creator["affiliation_ror"],
                "affiliationIdentifierScheme": "ROR",
                "schemeUri": "https://ror.org",
            }
        out["affiliation"] = [affiliation]
    return out


# The owner's record ------------------------------------------------------------------------


def clean_description(value) -> str:
    """The description as the owner wrote it, without surrounding blanks; its line breaks kept.
    Raises ``ValidationError`` for characters a citation cannot carry."""
    text = "\n".join(line.rstrip() for line in str(value or "").strip().splitlines())
    refused = next((c for c in text if c not in "\n\t" and _refused_in_names(c)), None)
    if refused is not None:
        raise ValidationError(f"Remove the invisible character {_describe(refused)}.")
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(f"Use at most {DESCRIPTION_MAX_LENGTH} characters.")
    return text


# Each record field's cleaner, by the name it has in ``Doi.record`` and in the forms.
RECORD_FIELDS = {
    "description": clean_description,
    "related_works": clean_related_works,
    "funding": clean_funding,
}
# How a field's error is introduced; the lists' errors name their row themselves.
RECORD_LABELS = {"description": "Description"}


def clean_record(record: dict) -> dict:
    """The owner's record fields, cleaned; raises ``ValidationError`` keyed by field name."""
    unknown = set(record) - set(RECORD_FIELDS)
    if unknown:
        raise ValidationError({name: "This is not a field of a DOI's record." for name in unknown})
    out = {}
    for name, value in record.items():
        try:
            out[name] = RECORD_FIELDS[name](value)
        except ValidationError as exc:
            raise ValidationError({name: exc.messages}) from None
    return out


def record_attributes(record: dict) -> dict:
    """The DataCite attributes the owner's record fields (``Doi.record``) give. A field the
    record does not have leaves the attribute to the card; one set empty sends it empty."""
    out: dict = {}
    if "description" in record:
        text = record["description"]
        out["descriptions"] = [{"description": text, "descriptionType": "Abstract"}] if text else []
    return out


def record_changes(before: dict, after: dict) -> list[str]:
    """What an edit of the owner's record changed between two builds of the attributes, in
    words a person reads in the audit trail: for each attribute that differs, its label with
    the value before and after."""
    changes = []
    for key, (label, describe) in EDITABLE_ATTRIBUTES.items():
        old, new = before.get(key) or [], after.get(key) or []
        if old != new:
            changes.append(f"{label} before: {describe(old)}\n{label} after: {describe(new)}")
    return changes


def _creators_text(creators: list[dict]) -> str:
    out = []
    for number, creator in enumerate(creators, start=1):
        details = [
            f"ORCID {i['nameIdentifier'].removeprefix(ORCID_URI)}"
            for i in creator.get("nameIdentifiers") or []
        ]
        details += [a.get("name", "") for a in creator.get("affiliation") or []]
        if creator.get("nameType") == "Organizational":
            details.insert(0, "organization")
        extra = f" ({', '.join(details)})" if details else ""
        out.append(f"{number}. {creator.get('name', '')}{extra}")
    return "; ".join(out) or "none"


def _descriptions_text(descriptions: list[dict]) -> str:
    texts = [d.get("description", "") for d in descriptions]
    return " / ".join(f"“{t}”" for t in texts) or "none"


# The attributes an owner's edit can change, with how the audit trail names and shows them.
EDITABLE_ATTRIBUTES = {
    "creators": ("Authors", _creators_text),
    "descriptions": ("Description", _descriptions_text),
}


def record_defaults(doi: Doi) -> dict:
    """The record fields as they stand for ``doi`` (saved or not): what the owner set, else what
    the card gives. The forms start from these."""
    source = doi
    versions = _live_versions(doi) if doi.kind == "concept" else []
    if versions:
        source = versions[-1]
    descriptions = _content(source).get("descriptions", [])
    defaults = {
        "description": descriptions[0]["description"] if descriptions else "",
        "related_works": proposed_related_works(doi.repo, source.revision),
        "funding": [],
    }
    return defaults | _own_record(doi, versions)


def _own_record(doi: Doi, versions: list[Doi]) -> dict:
    """The record fields the owner set: a concept DOI's follow its latest version's (of its
    live ``versions``), unless the concept's own were edited."""
    if doi.kind != "concept":
        return dict(doi.record)
    return (versions[-1].record if versions else {}) | doi.record


# The attributes ----------------------------------------------------------------------------


def landing_url(doi_name: str) -> str:
    """The URL registered at DataCite. It never names the repository, so renames need no update."""
    return f"{settings.SITE_URL}/doi/{doi_name}"


def publisher() -> dict:
    out = {"name": settings.SITE_NAME}
    if settings.DOI_PUBLISHER_ROR:
        ror = settings.DOI_PUBLISHER_ROR.rsplit("/", 1)[-1]
        out |= {
            "publisherIdentifier": f"https://ror.org/{ror}",
            "publisherIdentifierScheme": "ROR",
            "schemeUri": "https://ror.org/",
        }
    return out


def build_attributes(doi: Doi) -> dict:
    """The DataCite attributes for ``doi`` from current data (saved or not)."""
    versions = _live_versions(doi)
    if doi.kind == "concept":
        source = versions[-1] if versions else None
        # A concept DOI's authors are its latest version's, unless the owner edited its own.
        creators = doi.creators or (source.creators if source else [])
        related = [_relation(v.doi, "HasVersion") for v in versions]
    else:
        source = doi
        creators = doi.creators
        related = []
        if doi.concept is not None and doi.concept.discarded_at is None:
            related.append(_relation(doi.concept.doi, "IsVersionOf"))
        older = [v for v in versions if v.number < doi.number]
        newer = [v for v in versions if v.number > doi.number]
        if older:
            related.append(_relation(older[-1].doi, "IsNewVersionOf"))
        if newer:
            related.append(_relation(newer[0].doi, "IsPreviousVersionOf"))
    creator_list = [creator_attributes(c) for c in creators]
    if source is None and not creator_list and doi.metadata.get("creators"):
        # A concept whose versions were all discarded keeps what it was registered with.
        creator_list = doi.metadata["creators"]
    if not creator_list:
        raise DoiMetadataError("creators", "Add at least one author.")
    content = _content(source or doi)
    own = _own_record(doi, versions)
    related += [r for r in related_attributes(own.get("related_works", [])) if r not in related]

    attributes = {
        "doi": doi.doi,
        "creators": creator_list,
        "titles": [{"title": doi.repo.name}],
        "publisher": publisher(),
        "publicationYear": str(doi.created_at.year),
        "types": dict(RESOURCE_TYPES[doi.repo.type]),
    }
    if doi.kind != "concept":
        attributes["version"] = doi.revision_oid[:7]
    # Lists are always sent, empty ones too: a PUT keeps any attribute it does not mention,
    # so leaving one out would keep a licence or tag that the card no longer has.
    attributes |= {
        "rightsList": content.get("rights", []),
        "subjects": content.get("subjects", []),
        "descriptions": content.get("descriptions", []),
        "relatedIdentifiers": related,
        "fundingReferences": funding_attributes(own.get("funding", [])),
        "url": landing_url(doi.doi),
        "schemaVersion": SCHEMA_VERSION,
    }
    attributes |= record_attributes(own)
    return attributes


def _live_versions(doi: Doi) -> list[Doi]:
    """The repository's live version DOIs, oldest first, with ``doi`` itself in its place."""
    model = type(doi)
    others = (
        model.objects.live()
        .versions()
        .filter(repo_id=doi.repo_id)
        .only("doi", "number", "creators", "record", "revision", "revision_oid")
    )
    if doi.kind == "concept":
        others = others.select_related("revision")  # the latest one's card is the concept's
    if doi.pk:
        others = others.exclude(pk=doi.pk)
    versions = list(others.order_by("number"))
    if doi.kind == "version" and doi.discarded_at is None:
        versions.append(doi)
        versions.sort(key=lambda v: v.number)
    return versions


def _relation(identifier: str, relation: str) -> dict:
    return {
        "relatedIdentifier": identifier,
        "relatedIdentifierType": "DOI",
        "relationType": relation,
    }


def _content(doi: Doi) -> dict:
    """Rights, subjects and abstract from the card of the DOI's revision.

    Once a repository's files are removed (a tombstone), what was last sent is kept."""
    if doi.pk and doi.revision_id is None and doi.metadata:
        stored = doi.metadata
        return {
            "rights": stored.get("rightsList", []),
            "subjects": stored.get("subjects", []),
            "descriptions": stored.get("descriptions", []),
        }
    revision = doi.revision
    card = revision.card_metadata if revision else {}
    abstract = _abstract(revision) if revision else ""
    return {
        "rights": rights(card.get("license")),
        "subjects": [{"subject": tag} for tag in dict.fromkeys(as_list(card.get("tags")))],
        "descriptions": [{"description": abstract, "descriptionType": "Abstract"}]
        if abstract
        else [],
    }


def rights(licence) -> list[dict]:
    if isinstance(licence, list):
        licence = licence[0] if licence else ""
    key = str(licence or "").strip()
    if key.lower() in NO_LICENCE:
        return []
    if key.lower() not in LICENCES:
        return [{"rights": key}]
    spdx, name = LICENCES[key.lower()]
    return [
        {
            "rights": name,
            "rightsUri": f"https://spdx.org/licenses/{spdx}",
            "rightsIdentifier": spdx.lower(),
            "rightsIdentifierScheme": "SPDX",
            "schemeUri": "https://spdx.org/licenses/",
        }
    ]


def _abstract(revision) -> str:
    return summary(revision.card_metadata, revision.outline()["lead"])


def summary(card: dict, lead: str) -> str:
    """Plain text for the abstract: the card's ``summary``/``description``, else ``lead``, the
    README's first paragraph of text (``Card.outline``). Characters a citation cannot carry are
    left out, so what the hub proposes is always a description it accepts."""
    for value in (card.get("summary"), card.get("description"), lead):
        if isinstance(value, str) and _citable(value).strip():
            return _trim(" ".join(_citable(value).split()))
    return ""


def _citable(text: str) -> str:
    return "".join(c for c in text if not _refused_in_names(c))


def _trim(text: str) -> str:
    if len(text) <= ABSTRACT_MAX_LENGTH:
        return text
    cut = text[: ABSTRACT_MAX_LENGTH - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


# Validation ----------------------------------------------------------------------------------


def validate_attributes(attributes: dict) -> None:
    """Raise ``DoiMetadataError`` naming the field when DataCite would refuse ``attributes``."""
    name = attributes.get("doi", "")
    if not DOI_PATTERN.match(name):
        raise DoiMetadataError("doi", f"“{name}” is not a DOI name DataCite accepts.")
    for index, creator in enumerate(attributes.get("creators", []), start=1):
        if not creator.get("name", "").strip():
            raise DoiMetadataError(f"creators[{index}]", f"Author {index} has no name.")
    for path, text in _strings(attributes):
        bad = _NOT_XML.search(text)
        if bad:
            field = _field_path(path) or "metadata"
            raise DoiMetadataError(
                field,
                f"The DataCite metadata field “{field}” contains {_describe(bad.group())}, "
                "which DataCite cannot store. Remove it (from the model card, if it comes "
                "from there).",
            )
    errors = list(schema45.validator.iter_errors(attributes))
    if errors:
        # The deepest error names the field best; "unevaluated properties" on an object is
        # only the echo of an error inside it.
        error = min(
            errors,
            key=lambda e: (e.validator == "unevaluatedProperties", -len(e.absolute_path)),
        )
        error = best_match([error]) or error
        field = _field_path(error.absolute_path) or "metadata"
        raise DoiMetadataError(
            field, f"The DataCite metadata field “{field}” is not valid: {error.message}"
        )


# Characters XML 1.0 cannot carry, which DataCite's XML therefore cannot either.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _strings(value, path=()):
    """Every string in a JSON-like value, with the path to it."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _field_path(path) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out

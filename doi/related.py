"""Links to other works, funding references and ROR ids of a DOI's record: what the model card
proposes, what an owner may enter by hand, how each is checked, and what DataCite is sent.

The owner confirms the list in the Generate DOI preview; it is stored on the ``Doi`` row
(``related_works``, ``funding``) and ``doi.metadata`` builds the attributes from it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import idutils
from django.conf import settings
from django.core.exceptions import ValidationError

from repos.cards import as_list
from repos.models import Repo

if TYPE_CHECKING:
    from repos.models import Revision

IDENTIFIER_MAX_LENGTH = 500
FUNDING_TEXT_MAX_LENGTH = 500

# DataCite kernel 4.5 relation types, as a person reads them: "<this work> is derived from …".
RELATION_TYPES = {
    "IsDerivedFrom": "is derived from",
    "IsSourceOf": "is the source of",
    "IsVariantFormOf": "is a variant form of",
    "IsOriginalFormOf": "is the original form of",
    "Requires": "requires",
    "IsRequiredBy": "is required by",
    "References": "references",
    "IsReferencedBy": "is referenced by",
    "IsSupplementTo": "is a supplement to",
    "IsSupplementedBy": "is supplemented by",
    "Cites": "cites",
    "IsCitedBy": "is cited by",
    "IsDescribedBy": "is described by",
    "Describes": "describes",
    "IsDocumentedBy": "is documented by",
    "Documents": "documents",
    "IsPreviousVersionOf": "is a previous version of",
    "IsNewVersionOf": "is a new version of",
    "HasVersion": "has the version",
    "IsVersionOf": "is a version of",
    "IsPartOf": "is part of",
    "HasPart": "has the part",
    "IsPublishedIn": "is published in",
    "IsCompiledBy": "is compiled by",
    "Compiles": "compiles",
    "IsIdenticalTo": "is identical to",
    "IsReviewedBy": "is reviewed by",
    "Reviews": "reviews",
    "IsContinuedBy": "is continued by",
    "Continues": "continues",
    "IsCollectedBy": "is collected by",
    "Collects": "collects",
    "HasMetadata": "has the metadata",
    "IsMetadataFor": "is metadata for",
    "IsObsoletedBy": "is obsoleted by",
    "Obsoletes": "obsoletes",
}

# DataCite's relatedIdentifierType values, with an example a person recognises, and the check
# each value must pass (idutils where it knows the scheme).
IDENTIFIER_TYPES = {
    "DOI": ("DOI", "10.1234/abcd"),
    "URL": ("URL", "https://example.org/paper"),
    "arXiv": ("arXiv", "arXiv:2106.09685"),
    "Handle": ("Handle", "20.500.12345/678"),
    "ARK": ("ARK", "ark:/12345/x54xz321"),
    "bibcode": ("ADS bibcode", "2019ApJ...882L..24A"),
    "ISBN": ("ISBN", "978-3-16-148410-0"),
    "ISSN": ("ISSN", "0317-8471"),
    "EISSN": ("eISSN", "1562-6865"),
    "LISSN": ("Linking ISSN", "0317-8471"),
    "PMID": ("PubMed ID", "12082125"),
    "PURL": ("PURL", "http://purl.org/dc/terms"),
    "URN": ("URN", "urn:nbn:de:101:1-201102033592"),
    "LSID": ("LSID", "urn:lsid:ubio.org:namebank:11815"),
    "EAN13": ("EAN-13", "4006381333931"),
    "ISTC": ("ISTC", "0A9-2002-12B4A105-7"),
    "IGSN": ("IGSN", "IECUR0097"),
    "UPC": ("UPC", "036000291452"),
    "w3id": ("w3id", "https://w3id.org/example"),
}

# How idutils names the schemes it detects, as DataCite's types.
_DETECTED = {
    "doi": "DOI",
    "arxiv": "arXiv",
    "url": "URL",
    "handle": "Handle",
    "ark": "ARK",
    "isbn": "ISBN",
    "issn": "ISSN",
    "pmid": "PMID",
    "purl": "PURL",
    "urn": "URN",
    "lsid": "LSID",
    "ads": "bibcode",
    "ean13": "EAN13",
    "istc": "ISTC",
}

# The card's base_model_relation, as DataCite relation types. A merge and a fine-tune are both
# derived from their base; a quantization is the same model in another form; an adapter is
# useless without its base.
BASE_MODEL_RELATIONS = {
    "finetune": "IsDerivedFrom",
    "merge": "IsDerivedFrom",
    "quantized": "IsVariantFormOf",
    "adapter": "Requires",
}

CROSSREF_FUNDER_PREFIX = "10.13039/"
ROR_URI = "https://ror.org/"
_ROR_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base 32, lower case
_ROR_ID = re.compile(r"0[0-9a-hjkmnp-tv-z]{6}[0-9]{2}")


# Checking identifiers -----------------------------------------------------------------------


def clean_ror(value: str) -> str:
    """A ROR id in any of its usual forms (``https://ror.org/02mhbdp94``, ``ror.org/…``, bare)
    as its URL; "" for nothing. Raises ``ValueError`` with a sentence saying what is wrong."""
    value = value.strip()
    if not value:
        return ""
    bare = re.sub(r"^(?:https?://)?(?:www\.)?ror\.org/", "", value, flags=re.I).lower()
    if not _ROR_ID.fullmatch(bare) or not idutils.is_ror(bare):
        raise ValueError(
            f"“{value}” is not a ROR id: one looks like https://ror.org/02mhbdp94 (a 0, six "
            "letters or digits, and two check digits)."
        )
    number = 0
    for char in bare[:7]:
        number = number * 32 + _ROR_ALPHABET.index(char)
    if int(bare[7:]) != 98 - (number * 100) % 97:
        raise ValueError(f"“{value}” is not a valid ROR id: its check digits do not match.")
    return ROR_URI + bare


def _bare_doi(value: str) -> str | None:
    value = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", "", value.strip(), flags=re.I)
    return idutils.normalize_doi(value) if idutils.is_doi(value) else None


def detect_type(identifier: str) -> str:
    """The DataCite identifier type ``identifier`` most likely is, or ""."""
    if _bare_doi(identifier):
        return "DOI"
    for scheme in idutils.detect_identifier_schemes(identifier):
        if scheme in _DETECTED:
            return _DETECTED[scheme]
    return ""


def clean_identifier(identifier: str, kind: str) -> tuple[str, str]:
    """``(identifier, type)`` normalised; ``kind`` "" detects the type. Raises ``ValueError``
    with a sentence naming what is wrong and what a right one looks like."""
    identifier = identifier.strip()
    if not identifier:
        raise ValueError("Enter the identifier of the related work.")
    if len(identifier) > IDENTIFIER_MAX_LENGTH:
        raise ValueError(f"Use at most {IDENTIFIER_MAX_LENGTH} characters.")
    if any(c.isspace() or not c.isprintable() for c in identifier):
        raise ValueError("An identifier has no spaces or invisible characters.")
    if not kind:
        kind = detect_type(identifier)
        if not kind:
            raise ValueError(
                f"“{identifier}” is not a DOI, URL, arXiv id or other identifier the hub "
                "recognises; choose its type."
            )
    if kind not in IDENTIFIER_TYPES:
        raise ValueError("Choose the identifier's type from the list.")
    label, example = IDENTIFIER_TYPES[kind]
    cleaned = _normalise(identifier, kind)
    if cleaned is None:
        raise ValueError(f"“{identifier}” is not a valid {label} (one looks like {example}).")
    return cleaned, kind


def _normalise(identifier: str, kind: str) -> str | None:
    """The identifier in the form DataCite expects, or None when it is not one of ``kind``."""
    if kind == "DOI":
        return _bare_doi(identifier)
    if kind in ("URL", "PURL", "w3id"):
        if not identifier.lower().startswith(("https://", "http://")):
            return None
        if kind == "PURL" and not idutils.is_purl(identifier):
            return None
        if kind == "w3id" and not identifier.lower().startswith(
            ("https://w3id.org/", "http://w3id.org/")
        ):
            return None
        return identifier if idutils.is_url(identifier) else None
    if kind == "arXiv":
        return idutils.normalize_arxiv(identifier) if idutils.is_arxiv(identifier) else None
    checks = {
        "Handle": idutils.is_handle,
        "ARK": idutils.is_ark,
        "bibcode": idutils.is_ads,
        "ISBN": idutils.is_isbn,
        "ISSN": idutils.is_issn,
        "EISSN": idutils.is_issn,
        "LISSN": idutils.is_issn,
        "PMID": idutils.is_pmid,
        "URN": idutils.is_urn,
        "LSID": idutils.is_lsid,
        "EAN13": idutils.is_ean13,
        "ISTC": idutils.is_istc,
        # idutils knows neither: the shapes their registries give.
        "IGSN": re.compile(r"(?:10\.\d{4,5}/)?[A-Za-z0-9][A-Za-z0-9.\-]{3,}").fullmatch,
        "UPC": re.compile(r"\d{12}").fullmatch,
    }
    return identifier if checks[kind](identifier) else None


def clean_related(data: dict) -> dict:
    """One related work as entered: ``{"identifier", "identifier_type", "relation_type"}``
    normalised. Raises ``ValidationError`` keyed by those field names."""
    relation = str(data.get("relation_type") or "").strip()
    if relation not in RELATION_TYPES:
        raise ValidationError({"relation_type": "Choose how this work relates to the other one."})
    try:
        identifier, kind = clean_identifier(
            str(data.get("identifier") or ""), str(data.get("identifier_type") or "").strip()
        )
    except ValueError as exc:
        raise ValidationError({"identifier": str(exc)}) from None
    return {"identifier": identifier, "identifier_type": kind, "relation_type": relation}


def _clean_rows(rows, clean, what: str) -> list[dict]:
    """Rows of a list in ``Doi.record``, each checked by ``clean``, without repeats. Raises
    ``ValidationError`` naming the row ("Related work 2: …")."""
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ValidationError(f"The {what.lower()}s must be a list of rows.")
    cleaned = []
    for number, row in enumerate(rows, start=1):
        try:
            cleaned.append(clean(row))
        except ValidationError as exc:
            messages = " ".join(m for ms in exc.message_dict.values() for m in ms)
            raise ValidationError(f"{what} {number}: {messages}") from None
    return unique(cleaned)


def clean_related_works(rows) -> list[dict]:
    """The related works of ``Doi.record``, checked (``clean_related``)."""
    return _clean_rows(rows, clean_related, "Related work")


def clean_funding(rows) -> list[dict]:
    """The funders of ``Doi.record``, checked (``clean_funder``)."""
    return _clean_rows(rows, clean_funder, "Funder")


def clean_funder(data: dict) -> dict:
    """One funding reference as entered: funder name, its ROR id or Crossref Funder ID, award
    number and title. Raises ``ValidationError`` keyed by the field names."""
    name = " ".join(str(data.get("funder_name") or "").split())
    identifier = str(data.get("funder_identifier") or "").strip()
    number = " ".join(str(data.get("award_number") or "").split())
    title = " ".join(str(data.get("award_title") or "").split())
    for field, value in {
        "funder_name": name, "award_number": number, "award_title": title
    }.items():  # fmt: skip
        if len(value) > FUNDING_TEXT_MAX_LENGTH:
            raise ValidationError({field: f"Use at most {FUNDING_TEXT_MAX_LENGTH} characters."})
        if any(not c.isprintable() for c in value):
            raise ValidationError({field: "Remove the invisible or control characters."})
    if not name:
        raise ValidationError({"funder_name": "Enter the funder's name."})
    kind = ""
    if identifier:
        identifier, kind = _funder_identifier(identifier)
    return {
        "funder_name": name,
        "funder_identifier": identifier,
        "funder_identifier_type": kind,
        "award_number": number,
        "award_title": title,
    }


def _funder_identifier(value: str) -> tuple[str, str]:
    doi = _bare_doi(value)
    if doi is not None:
        if not doi.startswith(CROSSREF_FUNDER_PREFIX):
            raise ValidationError(
                {
                    "funder_identifier": f"“{value}” is a DOI, but not a Crossref Funder ID: "
                    "those start with 10.13039/ (e.g. 10.13039/501100000780)."
                }
            )
        return f"https://doi.org/{doi}", "Crossref Funder ID"
    try:
        return clean_ror(value), "ROR"
    except ValueError:
        raise ValidationError(
            {
                "funder_identifier": f"“{value}” is neither a ROR id (https://ror.org/…) nor a "
                "Crossref Funder ID (10.13039/…)."
            }
        ) from None


# What DataCite is sent ----------------------------------------------------------------------


def related_attributes(rows: list[dict]) -> list[dict]:
    return [
        {
            "relatedIdentifier": row["identifier"],
            "relatedIdentifierType": row["identifier_type"],
            "relationType": row["relation_type"],
        }
        for row in rows
    ]


def funding_attributes(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        reference = {"funderName": row["funder_name"]}
        if row.get("funder_identifier"):
            reference["funderIdentifier"] = row["funder_identifier"]
            reference["funderIdentifierType"] = row["funder_identifier_type"]
        if row.get("award_number"):
            reference["awardNumber"] = row["award_number"]
        if row.get("award_title"):
            reference["awardTitle"] = row["award_title"]
        if reference not in out:
            out.append(reference)
    return out


def unique(rows: list[dict]) -> list[dict]:
    """The rows without repeats (DataCite refuses a list holding the same item twice)."""
    out = []
    for row in rows:
        if row not in out:
            out.append(row)
    return out


def describe(attribute: dict) -> str:
    """A related identifier as a person reads it: "is derived from doi:10.1234/abcd"."""
    relation = RELATION_TYPES.get(attribute.get("relationType", ""), attribute.get("relationType"))
    return f"{relation} {identifier_text(attribute)}"


def identifier_text(attribute: dict) -> str:
    kind, value = attribute.get("relatedIdentifierType"), attribute.get("relatedIdentifier", "")
    if kind == "DOI":
        return f"doi:{value}"
    return value


def identifier_url(attribute: dict) -> str:
    """Where a related identifier can be opened, or "" when it has no obvious address."""
    kind, value = attribute.get("relatedIdentifierType"), attribute.get("relatedIdentifier", "")
    if kind == "DOI":
        return f"https://doi.org/{value}"
    if kind == "arXiv":
        return f"https://arxiv.org/abs/{value.removeprefix('arXiv:')}"
    if kind in ("URL", "PURL", "w3id") and value.lower().startswith(("https://", "http://")):
        return value
    return ""


# Proposals from the model card --------------------------------------------------------------


def from_card(repo: Repo, revision: Revision | None) -> list[dict]:
    """The related works the card of ``revision`` names, as rows for the preview:
    ``base_model`` (by ``base_model_relation``), ``datasets``, ``new_version``, and arXiv ids
    and DOIs of papers in the tags and links. Works on this hub are named by their latest DOI,
    else by the URL of their current revision; names not found here are left out."""
    if revision is None:
        return []
    card = revision.card_metadata or {}
    own = _own_dois(repo)
    rows = []
    base_models = as_list(card.get("base_model"))
    if base_models:
        relation = BASE_MODEL_RELATIONS[_base_model_relation(card, revision, len(base_models))]
        rows += _hub_rows(base_models, "model", relation, repo)
    rows += _hub_rows(as_list(card.get("datasets")), "dataset", "References", repo)
    rows += _hub_rows(as_list(card.get("new_version")), repo.type, "IsPreviousVersionOf", repo)
    for text in [*as_list(card.get("tags")), *revision.outline()["links"]]:
        paper = _paper(text)
        if paper is not None and paper["identifier"].upper() not in own:
            rows.append(paper)
    return unique(rows)


def _base_model_relation(card: dict, revision: Revision, count: int) -> str:
    """The card's ``base_model_relation``; without one, what the Hub infers: an adapter when the
    revision has an adapter's config, a quantization when it has GGUF files, a merge of several
    base models, else a fine-tune."""
    stated = str(card.get("base_model_relation") or "").strip().lower()
    if stated in BASE_MODEL_RELATIONS:
        return stated
    paths = list(revision.files.values_list("path", flat=True))
    names = [p.rsplit("/", 1)[-1].lower() for p in paths]
    if "adapter_config.json" in names:
        return "adapter"
    if any(n.endswith(".gguf") for n in names):
        return "quantized"
    return "merge" if count > 1 else "finetune"


def _hub_rows(refs: list[str], repo_type: str, relation: str, this: Repo) -> list[dict]:
    from doi.models import Doi

    rows = []
    for ref in refs:
        owner, _, name = ref.strip().partition("/")
        if not owner or not name:
            continue
        target = (
            Repo.objects.public()
            .filter(type=repo_type, namespace__name__iexact=owner, name__iexact=name)
            .exclude(pk=this.pk)
            .select_related("namespace", "head")
            .first()
        )
        if target is None:
            continue
        latest = Doi.objects.latest_version_for(target)
        if latest is not None:
            rows.append(
                {"identifier": latest.doi, "identifier_type": "DOI", "relation_type": relation}
            )
        elif target.head is not None:
            url = settings.SITE_URL + target.head.get_absolute_url()
            rows.append({"identifier": url, "identifier_type": "URL", "relation_type": relation})
    return rows


def _own_dois(repo: Repo) -> set[str]:
    from doi.models import Doi

    return {name.upper() for name in Doi.objects.for_repo(repo).values_list("doi", flat=True)}


_ARXIV_LINK = re.compile(
    r"^https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/([^?#]+?)(?:v\d+)?(?:\.pdf)?/?$", re.I
)


def _paper(text: str) -> dict | None:
    """An arXiv id or a DOI in a tag (``arxiv:2106.09685``, ``doi:10.…``) or a link."""
    text = text.strip()
    link = _ARXIV_LINK.match(text)
    if link:
        text = f"arXiv:{link.group(1)}"
    if text.lower().startswith("arxiv:") and idutils.is_arxiv(text):
        identifier, kind = idutils.normalize_arxiv(text), "arXiv"
    elif text.lower().startswith(
        ("doi:", "https://doi.org/", "http://doi.org/", "https://dx.doi.org/")
    ):
        identifier, kind = _bare_doi(text), "DOI"
        if identifier is None:
            return None
    else:
        return None
    return {"identifier": identifier, "identifier_type": kind, "relation_type": "IsSupplementTo"}

"""A repository's own CITATION.cff (Citation File Format 1.2.0): what it proposes for the record
of a new DOI — its authors, with their ORCID iDs and affiliations, and the works it names.

The file is untrusted input, read like a model card's front matter (``repos.cards.load_yaml``:
PyYAML's safe loader, no aliases, bounded depth) after a size check, and then checked against
the format's own JSON schema (``doi/data/cff-1.2.0.schema.json``, CC-BY-4.0, as cffconvert
ships it). A file that fails any step proposes nothing, and the form says why and where.

How its fields become related works (DataCite relation types, "<this work> … <that work>"):
``preferred-citation`` is the paper to cite for the work, so this work IsSupplementTo it — the
relation the card's paper links get, and one DataCite counts as a citation of the paper;
``references`` are works this one References; ``doi`` and ``identifiers`` name this same work
elsewhere (a Zenodo or Software Heritage record, say), so it IsIdenticalTo them — unless they
are this repository's own DOIs or pages here. Each work is named by its DOI, else its URL.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import jsonschema
import yaml
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from doi.related import clean_identifier, from_card
from hubsite.http import STORE_ERRORS
from repos.cards import CardRefused, json_safe, load_yaml

if TYPE_CHECKING:
    from repos.models import Repo, Revision

logger = logging.getLogger(__name__)

FILENAME = "CITATION.cff"
MAX_KB = 256
SCHEMA_FILE = Path(__file__).parent / "data" / "cff-1.2.0.schema.json"
# As the record form takes them at most (doi.forms.MAX_AUTHORS, MAX_RELATED).
MAX_AUTHORS = 50
MAX_RELATED = 50
# Where read() keeps what it read on the revision object.
_READ = "_citation_file"
# A schema message quotes the value it is about; a long one is cut.
_MESSAGE_LENGTH = 160


@dataclass
class CitationFile:
    """What a revision's CITATION.cff proposes: author rows (as ``doi.forms.CREATOR_FIELDS``)
    and related-work rows (as ``doi.related.clean_related`` returns them). ``problem`` says why
    the file proposes nothing; ``notes`` what of it was left out."""

    authors: list[dict] = field(default_factory=list)
    related_works: list[dict] = field(default_factory=list)
    problem: str = ""
    notes: list[str] = field(default_factory=list)


@functools.cache
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def read(repo: Repo, revision: Revision | None) -> CitationFile | None:
    """The proposals of ``revision``'s CITATION.cff, or None when it has none. Read once per
    revision object: a request that proposes authors and related works reads the file once."""
    if revision is None:
        return None
    if _READ not in revision.__dict__:
        revision.__dict__[_READ] = _read(repo, revision)
    return revision.__dict__[_READ]


def _read(repo: Repo, revision: Revision) -> CitationFile | None:
    file = revision.files.filter(path=FILENAME).select_related("blob").first()
    if file is None:
        return None
    if file.blob.size > MAX_KB * 1024:
        return CitationFile(
            problem=f"{FILENAME} is {filesizeformat(file.blob.size)}, over the limit of "
            f"{MAX_KB} KB, so it was not read."
        )
    try:
        text = file.blob.read().decode()
    except UnicodeDecodeError:
        return CitationFile(problem=f"{FILENAME} is not UTF-8 text, so it was not read.")
    except STORE_ERRORS as error:
        # Only a proposal: the form works without it, and says so.
        logger.error("The object store failed reading %s of %s", FILENAME, repo, exc_info=error)
        return CitationFile(
            problem=f"{FILENAME} could not be read just now (the hub's file store did not "
            "answer), so its authors and works are not proposed. Fill them in, or reload "
            "this page in a few minutes."
        )
    return parse(text, own=_own_identifiers(repo))


def parse(text: str, *, own: set[str] = frozenset()) -> CitationFile:
    """The proposals of a CITATION.cff's ``text``; ``own`` holds the upper-cased DOIs of the
    repository, which are not related works of it."""
    try:
        data, node = load_yaml(text, what=FILENAME, first_line=1)
    except CardRefused as exc:
        return CitationFile(problem=f"{exc}. Its authors and related works were not used.")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        return CitationFile(
            problem=f"{FILENAME} is not valid YAML{where}; its authors and related works "
            "were not used."
        )
    data = json_safe(data)  # dates as the strings the schema expects
    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    if error is not None:
        return CitationFile(problem=_schema_problem(error, node))
    cff = CitationFile()
    _add_authors(cff, data["authors"])
    _add_related(cff, data, own)
    return cff


def _schema_problem(error: jsonschema.ValidationError, node: yaml.Node | None) -> str:
    # An author is a person or an entity ("anyOf"): name what is wrong in the branch that got
    # furthest into the value, e.g. the person's ORCID, rather than "not valid under any".
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    path = list(error.absolute_path)
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    message = error.message
    if len(message) > _MESSAGE_LENGTH:
        message = message[: _MESSAGE_LENGTH - 1] + "…"
    at = f" at {where}" if where else ""
    return (
        f"{FILENAME} does not follow the Citation File Format 1.2.0{at} "
        f"(line {_line(node, path)}): {message}. Its authors and related works were not used."
    )


def _line(node: yaml.Node | None, path: list) -> int:
    """The line of the value at ``path`` in the YAML's node tree (1 for the whole file)."""
    if node is None:
        return 1
    for key in path:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            found = node.value[key] if key < len(node.value) else None
        else:
            found = None
        if found is None:
            break
        node = found
    return node.start_mark.line + 1


def _add_authors(cff: CitationFile, authors: list[dict]) -> None:
    if len(authors) > MAX_AUTHORS:
        cff.notes.append(
            f"{FILENAME} lists {len(authors)} authors; the first {MAX_AUTHORS} are proposed."
        )
    for author in authors[:MAX_AUTHORS]:
        row = {
            "type": "Personal",
            "name": "",
            "given_name": "",
            "family_name": "",
            "orcid": str(author.get("orcid") or ""),
            "affiliation": str(author.get("affiliation") or ""),
            "affiliation_ror": "",
        }
        if "name" in author:  # an entity: an organization, a team, a project
            row |= {"type": "Organizational", "name": str(author["name"]), "orcid": ""}
        else:
            parts = (author.get(k) for k in ("name-particle", "family-names", "name-suffix"))
            family = " ".join(str(p).strip() for p in parts if p)
            given = str(author.get("given-names") or "").strip()
            row |= {"given_name": given, "family_name": family}
            if not (given and family):
                row |= {"name": family or given or str(author.get("alias") or "")}
        cff.authors.append(row)


def _add_related(cff: CitationFile, data: dict, own: set[str]) -> None:
    works = []
    if "preferred-citation" in data:
        works.append((data["preferred-citation"], "IsSupplementTo", "the preferred citation"))
    for number, reference in enumerate(data.get("references", []), start=1):
        works.append((reference, "References", f"reference {number}"))
    identifiers = [{"type": "doi", "value": data["doi"]}] if "doi" in data else []
    for identifier in identifiers + data.get("identifiers", []):
        works.append(({"identifiers": [identifier]}, "IsIdenticalTo", None))
    unnamed = []
    for work, relation, what in works:
        row = _row(work, relation)
        if row is None:
            if what:
                unnamed.append(what)
        elif not _is_own(row, own):
            cff.related_works.append(row)
    if len(cff.related_works) > MAX_RELATED:
        cff.notes.append(
            f"{FILENAME} names {len(cff.related_works)} works; the first {MAX_RELATED} are "
            "proposed."
        )
        del cff.related_works[MAX_RELATED:]
    if unnamed:
        cff.notes.append(
            f"{FILENAME}: {_list(unnamed)} {'has' if len(unnamed) == 1 else 'have'} no DOI or "
            "URL the hub can link to, so not proposed."
        )


def _row(work: dict, relation: str) -> dict | None:
    """The related-work row naming ``work`` (a CFF reference or identifier list) by its DOI,
    else its URL; None when it has neither in a form DataCite takes."""
    candidates = [("DOI", work.get("doi"))]
    for identifier in work.get("identifiers", []):
        kind = {"doi": "DOI", "url": "URL", "other": ""}.get(identifier.get("type"))
        if kind is not None:
            candidates.append((kind, identifier.get("value")))
    candidates.append(("URL", work.get("url")))
    for kind, value in candidates:
        if not value:
            continue
        try:
            identifier, kind = clean_identifier(str(value), kind)
        except ValueError:
            continue
        return {"identifier": identifier, "identifier_type": kind, "relation_type": relation}
    return None


def _is_own(row: dict, own: set[str]) -> bool:
    value = row["identifier"]
    return value.upper() in own or value.startswith(f"{settings.SITE_URL}/")


def _own_identifiers(repo: Repo) -> set[str]:
    from doi.models import Doi

    return {name.upper() for name in Doi.objects.for_repo(repo).values_list("doi", flat=True)}


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def proposed_related_works(repo: Repo, revision: Revision | None) -> list[dict]:
    """The related works proposed for a DOI of ``revision``: the model card's (``from_card``),
    then those of its CITATION.cff that the card does not name already, at most MAX_RELATED."""
    rows = from_card(repo, revision)
    cff = read(repo, revision)
    if cff is not None:
        named = {row["identifier"].upper() for row in rows}
        for row in cff.related_works:
            if row["identifier"].upper() not in named:
                named.add(row["identifier"].upper())
                rows.append(row)
    return rows[:MAX_RELATED]

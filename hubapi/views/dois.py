"""DOIs from code: a repository's DOIs, the acknowledgement to send back, and minting a DOI
for the current revision. Minting goes through ``Doi.objects.preview`` / ``mint``, as Settings
→ DOI does: the same permissions, quotas, consent record, registration and errors."""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse

from doi.citations import tag_url
from doi.forms import CONSENT_TEXT, CONSENT_VERSION
from doi.metadata import DoiMetadataError
from doi.models import Doi, DoiNotAllowed
from hubapi.access import repo_for_admin, repo_for_reader
from hubapi.auth import ApiRequest, endpoint, require_token
from hubapi.errors import ApiError, Conflict
from hubapi.info import hub_time
from repos.models import Repo


def _doi(request: ApiRequest, doi: Doi) -> dict:
    return {
        "doi": doi.doi,
        "kind": doi.kind,
        "state": doi.state,
        "stateLabel": doi.state_label,
        "revision": doi.revision_oid,
        "createdAt": hub_time(doi.created_at),
        "outdated": doi.is_outdated,
        "problem": doi.problem,
        "url": request.build_absolute_uri(tag_url(doi)),
    }


def _acknowledgement() -> dict:
    return {"version": CONSENT_VERSION, "text": CONSENT_TEXT}


def _default_authors(user) -> list[dict]:
    name = user.full_name.strip()
    return [{"type": "Personal", "name": name}] if name else []


@endpoint(methods=("GET", "POST"))
def dois(request: ApiRequest, repo_type: str, owner: str, name: str) -> HttpResponse:
    """GET: the repository's DOIs. POST: mint a DOI for its current revision."""
    if request.method == "POST":
        return _mint(request, repo_type, owner, name)
    repo = repo_for_reader(request, repo_type, owner, name)
    rows = list(Doi.objects.for_repo(repo).live().with_outdated().order_by("-number"))
    concept = next((d for d in rows if d.kind == Doi.Kind.CONCEPT), None)
    return JsonResponse(
        {
            "id": repo.full_name,
            "concept": _doi(request, concept) if concept else None,
            "versions": [_doi(request, d) for d in rows if d.kind == Doi.Kind.VERSION],
        }
    )


def _body(request: ApiRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError("Send a JSON object.") from None
    if not isinstance(body, dict):
        raise ApiError("Send a JSON object.")
    return body


def _authors(value) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(a, dict) for a in value):
        raise ApiError(
            'Send "authors" as a list of objects, e.g. [{"name": "Jane Doe", "orcid": '
            '"0000-0002-1825-0097", "affiliation": "Wonderland Lab"}] (type "Personal", the '
            'default, or "Organizational"; given_name and family_name optional).'
        )
    return value


def _record(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError('Send "record" as an object, e.g. {"description": "…"}.')
    return value


def _refusal(exc: DoiNotAllowed | DoiMetadataError) -> ApiError:
    if isinstance(exc, DoiMetadataError):
        return ApiError(exc.message, details={"field": exc.field})
    return Conflict(exc.message)


@endpoint()
def acknowledgement(request: ApiRequest, repo_type: str, owner: str, name: str) -> HttpResponse:
    """The text to acknowledge, its version, and exactly what minting would send to DataCite
    (with ``?authors=<JSON list>``, else the token's user as the only author)."""
    require_token(request, "read")
    repo = repo_for_admin(request, repo_type, owner, name)
    raw = request.GET.get("authors")
    try:
        authors = _authors(json.loads(raw)) if raw else _default_authors(request.user)
    except ValueError:
        raise ApiError("authors must be a JSON list of objects.") from None
    try:
        preview = Doi.objects.preview(repo=repo, user=request.user, creators=authors)
    except (DoiNotAllowed, DoiMetadataError) as exc:
        raise _refusal(exc) from None
    return JsonResponse(
        {"acknowledgement": _acknowledgement(), "authors": authors, "datacite": preview}
    )


def _mint(request: ApiRequest, repo_type: str, owner: str, name: str) -> HttpResponse:
    require_token(request, "write")
    repo: Repo = repo_for_admin(request, repo_type, owner, name)
    body = _body(request)
    if body.get("acknowledgement") != CONSENT_VERSION:
        raise ApiError(
            f'Acknowledge the text below: send its version as "acknowledgement": '
            f'"{CONSENT_VERSION}", with the authors.\n\n{CONSENT_TEXT}',
            details={"acknowledgement": _acknowledgement()},
        )
    if "authors" not in body:
        raise ApiError('Send the authors ("authors": [{"name": "Jane Doe"}, …]).')
    try:
        doi = Doi.objects.mint(
            repo=repo,
            user=request.user,
            creators=_authors(body["authors"]),
            record=_record(body.get("record")),
            consent_text=CONSENT_TEXT,
            consent_version=CONSENT_VERSION,
        )
    except (DoiNotAllowed, DoiMetadataError) as exc:
        raise _refusal(exc) from None
    doi = Doi.objects.with_outdated().get(pk=doi.pk)  # the registration may have run already
    return JsonResponse(_doi(request, doi), status=201)

"""What readers see at /doi/<doi>: a redirect to the repository, a citation in the format the
client asks for, or a page about the DOI when the repository cannot be shown."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import idutils
from django.conf import settings
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.request import MediaType
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.models import Namespace
from doi import badges, citations, discovery, history, usage
from doi.citations import FORMATS, FORMATS_BY_MEDIA_TYPE, STYLES, Format
from doi.models import Doi
from hubsite import caching
from hubsite.http import HtmxHttpRequest
from hubsite.queries import STAND_IN_TEXT, Prepared
from repos.models import Repo, Revision

HTML = "text/html"
NEGOTIABLE = [HTML, *FORMATS_BY_MEDIA_TYPE]


class NotAcceptable(Exception):
    """The client asked for a citation style we do not render."""


class UnreadableAccept(Exception):
    """The Accept header is too long for Django to parse (over 10,000 characters a type)."""


# Loading --------------------------------------------------------------------------------------


def normalize(value: str) -> str | None:
    """The bare DOI name in ``value`` (``doi:…``, ``https://doi.org/…`` or bare), or None. Case
    is kept: lookups are case-insensitive, and the canonical case is the stored one."""
    # A proxy may have collapsed the double slash of a URL given in the path.
    value = re.sub(r"^(https?):/+", r"\1://", value.strip())
    return idutils.normalize_doi(value) if idutils.is_doi(value) else None


# The whole row, with its repository and owner, revision and concept: what a citation and its
# Link header are made of. Compiled once per process (see hubsite.queries). Names are unique
# (case-insensitively), so no ordering: the first row is the one.
_WHOLE_ROW = Prepared(
    lambda name: (
        Doi.objects.live()
        .named(name)
        .select_related("repo__namespace", "revision", "concept")
        .order_by()[:1]
    ),
    name=STAND_IN_TEXT,
)


def _versions(name: str):
    """What a citation varies on, for ``_WHOLE_ROW``'s DOI: its own and its concept's
    ``row_version`` (any change to either, by any process, raises it) instead of their
    documents, and the rows of its repository, owner and revision."""
    related = {"repo": Repo, "repo__namespace": Namespace, "revision": Revision}
    columns = [
        f"{path}__{f.attname}"
        for path, model in related.items()
        for f in model._meta.concrete_fields
    ]
    return (
        Doi.objects.live()
        .named(name)
        .order_by()
        .values_list("pk", "row_version", "concept_id", "concept__row_version", *columns)[:1]
    )


# Compiled once per process; a cached citation reads only this.
_VERSIONS = Prepared(_versions, name=STAND_IN_TEXT)


def find_doi(value: str) -> Doi | None:
    """The live DOI ``value`` names, in any of the accepted forms."""
    name = normalize(value)
    if name is None:
        return None
    rows = _WHOLE_ROW.rows(name=name)
    return _WHOLE_ROW.instances(rows)[0] if rows else None


def _requested_format(request: HttpRequest) -> Format | None:
    """The citation format asked for by ``?format=`` or the Accept header; None for the page."""
    name = request.GET.get("format")
    if name:
        if name not in FORMATS:
            raise Http404("Unknown format")
        return FORMATS[name]
    # Django's get_preferred_type() matches parameters exactly, so "text/x-bibliography;
    # style=apa" would match nothing; the types are compared bare, parameters read after.
    try:
        accepted_types = request.accepted_types  # most preferred first
    except ValueError:
        raise UnreadableAccept from None
    for accepted in accepted_types:
        bare = MediaType(f"{accepted.main_type}/{accepted.sub_type}")
        offered = next((t for t in NEGOTIABLE if bare.match(t)), None)
        if offered is None:
            continue
        if offered == HTML:
            return None
        fmt = FORMATS_BY_MEDIA_TYPE[offered]
        if fmt.name == "apa" and accepted.range_params.get("style", "apa") not in STYLES:
            raise NotAcceptable(accepted.range_params["style"])
        return fmt
    return None


# Views ----------------------------------------------------------------------------------------


@require_safe
@vary_on_headers("Accept")
def resolve(request: HttpRequest, value: str) -> HttpResponse:
    """``/doi/<doi>``: the DOI's repository (version → its revision, concept → the current
    page), a citation by content negotiation or ``?format=``, or the DOI's own page when the
    repository is no longer public."""
    try:
        fmt, refusal = _requested_format(request), None
    except (Http404, NotAcceptable, UnreadableAccept) as exc:
        fmt, refusal = None, exc
    name = normalize(value)
    if fmt is not None:
        return _citation_response(request, value, name, fmt)
    # A redirect needs only where the DOI leads.
    row = Doi.objects.leading_row(name) if name is not None else None
    if row is None:
        return _not_found(request, value, name)
    lead = _lead(row, get_script_prefix())
    if value != lead.doi:
        return _to_canonical(request, lead.doi)
    if lead.unpublished_draft:
        return _draft(request, None, Doi.objects.leading_from(row))
    if isinstance(refusal, NotAcceptable):
        return _plain(
            "Only the APA style is available: ask for text/x-bibliography; style=apa.", 406
        )
    if isinstance(refusal, UnreadableAccept):
        return _plain("The Accept header is too long to read: send a shorter one.", 400)
    if refusal is not None:
        raise refusal
    if lead.at_datacite:
        usage.count(request, lead.pk, lead.version_of)
    if lead.reason:
        # A removed repository's page is the tombstone: the DOI is permanent, the repository
        # is gone for good. The page shows the whole row.
        doi = find_doi(value)
        status = 410 if lead.reason == "removed" else 200
        return _landing(request, doi, status=status, reason=lead.reason)
    # Not ``redirect()``: it would first try the path as a URL name, and fail, on every call.
    return HttpResponseRedirect(lead.path)


@dataclass(frozen=True)
class _Lead:
    """What ``resolve`` decides from a DOI's ``leading_row``."""

    pk: int
    doi: str
    version_of: int | None  # the revision a version DOI names (usage.count)
    unpublished_draft: bool
    at_datacite: bool
    reason: str  # discovery.own_page_reason
    path: str  # discovery.landing_path


@lru_cache(maxsize=4096)
def _lead(row: tuple, script_prefix: str) -> _Lead:
    """Decided once per row (and URL prefix) in each process: the row holds all that decides
    it, so any change to the DOI or its repository is a new row. Building the DOI and
    reversing its repository's URL were a third of a redirect's time."""
    doi = Doi.objects.leading_from(row)
    return _Lead(
        doi.pk,
        doi.doi,
        doi.revision_id if doi.kind == Doi.Kind.VERSION else None,
        doi.is_unpublished_draft,
        doi.at_datacite,
        discovery.own_page_reason(doi),
        discovery.landing_path(doi),
    )


def _draft(
    request: HttpRequest, fmt: Format | None, doi: Doi, citation: Citation | None = None
) -> HttpResponse:
    """A reserved DOI resolves nowhere yet: its page is a 404 for everyone (a harvester or a
    cache must not take it for a live DOI) that names nothing of what may be a private
    repository. Who may see the repository gets its citations, with a note that it does not
    resolve yet; the answers vary by who asks, so no shared cache keeps them. ``citation``:
    the answer in ``fmt``, when one was asked for."""
    removed = doi.repo.is_removed
    if fmt is not None and citation is not None and not removed and doi.repo.can_view(request.user):
        response = _respond_with(request, citation, fmt)
    else:
        manages = doi.repo.can_admin(request.user)  # even deleted: a refused DELETE is theirs
        context = {
            "value": doi.doi,
            "repo": doi.repo if manages and not removed else None,
            "settings_url": doi.repo.url("settings") if manages and not removed else "",
            "withdrawn": doi.pending_action == Doi.Action.DELETE,
            "problem": doi.problem if manages else "",
        }
        response = render(request, "doi/reserved.html", context, status=404)
    patch_cache_control(response, private=True, no_store=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def _plain(message: str, status: int) -> HttpResponse:
    return HttpResponse(f"{message}\n", status=status, content_type="text/plain; charset=utf-8")


def _not_found(request: HttpRequest, value: str, name: str | None) -> HttpResponse:
    context = {"value": value, "looks_like_doi": name is not None}
    return render(request, "doi/not_found.html", context, status=404)


def _to_canonical(request: HttpRequest, name: str) -> HttpResponse:
    # The canonical form of a DOI never changes, so the redirect is permanent.
    target = reverse("doi:resolve", args=[name])
    query = request.META.get("QUERY_STRING")
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)


@dataclass(frozen=True)
class Citation:
    """A citation answer as cached: the DOI's canonical name, whether it is a draft that
    resolves nowhere yet (``_draft`` decides who gets the answer), the citation, the ``Link``
    header ("" while DataCite does not have the DOI) and a download's file name."""

    doi: str
    unpublished_draft: bool
    text: str
    link: str
    filename: str


def _citation(name: str, versions: tuple, fmt: Format) -> Citation:
    """The answer in ``fmt`` for the DOI called ``name``, made once for each of its
    ``versions`` (``_VERSIONS``): any change to the DOI (its metadata, its state), its concept,
    its repository or owner (a rename), by any process, gives a new key (``hubsite.caching``).
    A cached answer reads no document, builds no model instance and reverses no URL."""
    stored = hashlib.md5(repr(versions).encode(), usedforsecurity=False).hexdigest()

    def render() -> Citation:
        doi = _WHOLE_ROW.instances(_WHOLE_ROW.rows(name=name))[0]
        link = discovery.Signposts.of(doi).metadata_header() if doi.at_datacite else ""
        filename = citations.Record.of(doi).filename
        return Citation(doi.doi, doi.is_unpublished_draft, fmt.cached(doi), link, filename)

    return caching.get_or_render("doi-citation", (fmt.name, stored, settings.SITE_URL), render)


def _citation_response(
    request: HttpRequest, value: str, name: str | None, fmt: Format
) -> HttpResponse:
    versions = _VERSIONS.rows(name=name) if name is not None else []
    if not versions:
        return _not_found(request, value, name)
    citation = _citation(name, versions[0], fmt)
    if value != citation.doi:
        return _to_canonical(request, citation.doi)
    if citation.unpublished_draft:
        return _draft(request, fmt, _WHOLE_ROW.instances(_WHOLE_ROW.rows(name=name))[0], citation)
    return _respond_with(request, citation, fmt)


def _respond_with(request: HttpRequest, citation: Citation, fmt: Format) -> HttpResponse:
    response = HttpResponse(citation.text, content_type=fmt.content_type)
    if citation.link:
        response["Link"] = citation.link
    if "format" in request.GET:
        filename = f"{citation.filename}.{fmt.extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _landing(request: HttpRequest, doi: Doi, *, status: int, reason: str) -> HttpResponse:
    """The DOI's own page: its citation and metadata, when the repository cannot be shown.
    ``reason`` says why: "removed" (the tombstone, 410), "private" or "revision-removed"."""
    can_view_repo = not doi.repo.is_removed and doi.repo.can_view(request.user)
    context = {
        "doi": doi,
        "record": citations.Record.of(doi),
        "reason": reason,
        "can_view_repo": can_view_repo,
        "history": history.for_doi_page(doi, can_view_repo=can_view_repo),
        **citations.cite_context(None, None, doi),
    }
    if doi.at_datacite:
        context |= discovery.head_context(doi)
    response = render(request, "doi/landing.html", context, status=status)
    if doi.at_datacite:
        # The files of this DOI's page are not to be had, so it signposts no items.
        response["Link"] = discovery.Signposts.of(doi).header()
    return response


@require_safe
@vary_on_headers("Accept")
def linkset(request: HttpRequest, value: str) -> HttpResponse:
    """``/doi/linkset/<doi>``: every typed link of the DOI's landing page, its files and its
    metadata (FAIR Signposting level 2), as ``application/linkset+json`` or, when the client
    prefers it, ``application/linkset``."""
    doi = find_doi(value)
    if doi is None or not doi.at_datacite:
        raise Http404("No such DOI at DataCite")
    if value != doi.doi:
        return HttpResponsePermanentRedirect(reverse("doi:linkset", args=[doi.doi]))
    revision = None
    if not discovery.own_page_reason(doi):
        revision = doi.repo.head if doi.kind == Doi.Kind.CONCEPT else doi.revision
    signposts = discovery.Signposts.of(doi, revision)
    try:
        wanted = request.get_preferred_type([discovery.LINKSET_JSON, discovery.LINKSET_TEXT])
    except ValueError:
        return _plain("The Accept header is too long to read: send a shorter one.", 400)
    if wanted == discovery.LINKSET_TEXT:
        return HttpResponse(signposts.linkset_text(), content_type=discovery.LINKSET_TEXT)
    return JsonResponse(
        signposts.linkset_json(),
        content_type=discovery.LINKSET_JSON,
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )


# Long enough for a README shown often, short enough that a DOI becoming findable shows soon.
BADGE_MAX_AGE = 3600


@require_safe
def badge(request: HttpRequest, value: str) -> HttpResponse:
    """``/doi/badge/<doi>.svg``: the DOI's badge, served in place in any accepted form of the
    DOI (an image URL is not followed through redirects by every README renderer)."""
    doi = find_doi(value)
    if doi is None:
        raise Http404("No such DOI")
    image = badges.Badge.of(doi)
    response = get_conditional_response(request, etag=image.etag) or HttpResponse(
        image.svg, content_type="image/svg+xml; charset=utf-8"
    )
    response["ETag"] = image.etag
    patch_cache_control(response, public=True, max_age=BADGE_MAX_AGE)
    return response


@require_safe
def cite(request: HtmxHttpRequest, value: str) -> HttpResponse:
    """The Cite panel of a version DOI, showing it or (``?show=all``) its concept DOI: the
    htmx swap behind the "This version" / "All versions" switch."""
    version = find_doi(value)
    if version is None or version.kind != Doi.Kind.VERSION:
        raise Http404("No such version DOI")
    if version.is_unpublished_draft and (
        version.repo.is_removed or not version.repo.can_view(request.user)
    ):
        raise Http404("No such version DOI")  # what it names may be private (see _draft)
    concept = version.concept if version.concept and version.concept.discarded_at is None else None
    shown = concept if request.GET.get("show") == "all" and concept else version
    context = citations.cite_context(version, concept, shown)
    if request.htmx:
        return render(request, "doi/includes/_cite_panel.html", context)
    # Without JavaScript the switch is a plain link to the repository page; to a visitor who
    # cannot see the repository (private, or removed), to the DOI's own page, which never names
    # where a private repository is now.
    if version.repo.is_removed or not version.repo.can_view(request.user):
        return redirect("doi:resolve", shown.doi)
    return redirect(_page_with_panel(version, shown))


def _page_with_panel(version: Doi, shown: Doi) -> str:
    query = "?cite=all" if shown.kind == Doi.Kind.CONCEPT else "?cite=version"
    base = version.revision.get_absolute_url() if version.revision else version.repo.url("page")
    return f"{base}{query}#cite"

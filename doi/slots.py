"""The DOI's place on repository pages, registered into `repos.slots` in
``DoiConfig.ready()``: the ``doi:`` tag and Cite panel in the header, and the "outdated" banner.

All slots share one query per page (see ``PageDois``), however many versions the repository
has; ``cache_key`` tells a cache of the whole page when what they show has changed, from two
numbers per DOI read with the repository itself (``HEAD_DOIS``): a cached page makes no query
for its DOIs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from doi import citations, discovery
from doi.models import Doi
from hubsite import caching
from hubsite.queries import STAND_IN_ID, Prepared
from repos.models import Repo, Revision
from repos.pages import page_key


@dataclass(frozen=True)
class PageDois:
    """The DOIs a repository page shows: the one for the revision shown (on the current revision,
    the latest version), the latest version, and the concept DOI."""

    shown: Doi | None
    latest: Doi | None
    concept: Doi | None

    @property
    def is_outdated(self) -> bool:
        return self.shown is not None and self.latest is not None and self.shown != self.latest

    @classmethod
    def load(cls, repo: Repo, revision: Revision | None) -> PageDois:
        return cls._of(repo, revision, _rows(repo, revision))

    @classmethod
    def _of(cls, repo: Repo, revision: Revision | None, rows: list[tuple]) -> PageDois:
        if not rows:
            return cls(None, None, None)
        dois = _query(repo, revision).instances(rows)
        for doi in dois:
            doi.repo = repo  # the page's own, already loaded
        concept = next((d for d in dois if d.kind == Doi.Kind.CONCEPT), None)
        versions = [d for d in dois if d.kind == Doi.Kind.VERSION]
        latest = max(versions, key=lambda d: d.number, default=None)
        if revision.pk == repo.head_id:
            shown = latest
        else:
            shown = next((d for d in versions if d.revision_id == revision.pk), None)
        return cls(shown=shown, latest=latest, concept=concept)

    @classmethod
    def for_page(cls, request: HttpRequest, repo: Repo, revision: Revision | None) -> PageDois:
        """Loaded once per request for every slot."""
        cache = request.__dict__.setdefault("_page_dois", {})
        key = (repo.pk, revision.pk if revision else None)
        if key not in cache:
            cache[key] = cls._of(repo, revision, _rows_for_page(request, repo, revision))
        return cache[key]

    def landing_here(self, request: HttpRequest) -> Doi | None:
        """The DOI that resolves to this very page, once DataCite has it: the concept DOI on
        the repository's page, a version DOI on its revision's page."""
        return next(
            (
                d
                for d in (self.concept, self.shown)
                if d is not None and d.at_datacite and discovery.landing_path(d) == request.path
            ),
            None,
        )


def _page_dois(repo: int, revision: int, *, old_revision: bool):
    """The query of ``PageDois.load``: the concept DOI and the latest version, and on an older
    revision that revision's; each found in one step of an index (the repository's DOIs by kind
    and number, a revision's DOIs), so that the query reads the same few rows however many
    versions there are, as PostgreSQL runs it prepared (``doi_repo_kind_newest``)."""
    live = Doi.objects.live().filter(repo_id=repo)
    concept_pk = live.filter(kind=Doi.Kind.CONCEPT).values("pk")[:1]
    latest_pk = live.filter(kind=Doi.Kind.VERSION).order_by("-number").values("pk")[:1]
    wanted = Q(pk=Subquery(concept_pk)) | Q(pk=Subquery(latest_pk))
    if old_revision:
        # By the revision alone (its live version is unique): by the repository as well, it
        # would be looked for among all the repository's versions, newest first.
        shown = Doi.objects.live().filter(kind=Doi.Kind.VERSION, revision_id=revision)
        shown_pk = shown.order_by().values("pk")[:1]
        wanted |= Q(pk=Subquery(shown_pk))
    return Doi.objects.filter(wanted)


def _query(repo: Repo, revision: Revision, *, versions: bool = False) -> Prepared:
    if revision.pk == repo.head_id:
        return _PAGE_DOI_VERSIONS if versions else _PAGE_DOIS
    return _PAGE_DOI_VERSIONS_OLD_REVISION if versions else _PAGE_DOIS_OLD_REVISION


def _rows(repo: Repo, revision: Revision | None) -> list[tuple]:
    """The rows of the page's DOIs, as the database driver returns them."""
    if revision is None:
        return []
    return _query(repo, revision).rows(repo=repo.pk, revision=revision.pk)


def _rows_for_page(request: HttpRequest, repo: Repo, revision: Revision | None) -> list[tuple]:
    """``_rows``, read once per request for every slot; none, without a query, when the page's
    versions are known to name none."""
    cache = request.__dict__.setdefault("_page_doi_rows", {})
    key = revision.pk if revision else None
    if key not in cache:
        none = _known_versions(request, repo, revision) == ""
        cache[key] = [] if none else _rows(repo, revision)
    return cache[key]


HEAD_DOIS = "doi_head_versions"


def head_dois() -> Concat:
    """The repository's ``HEAD_DOIS``, read with it (``repos.slots.column``): its concept DOI
    and its latest version, each as "id.row_version" or "", with a comma between: which DOIs
    its page shows at the current revision, as ``cache_key`` names them."""
    live = Doi.objects.live().filter(repo=OuterRef("pk"))

    def latest(kind: str) -> Coalesce:
        named = Concat("pk", Value("."), "row_version", output_field=CharField())
        return Coalesce(
            Subquery(live.filter(kind=kind).order_by("-number").values(key=named)[:1]), Value("")
        )

    return Concat(
        latest(Doi.Kind.CONCEPT), Value(","), latest(Doi.Kind.VERSION), output_field=CharField()
    )


def _known_versions(request: HttpRequest, repo: Repo, revision: Revision | None) -> str | None:
    """``_versions``, when known without a query; else None."""
    if revision is None:
        return ""
    if revision.pk == repo.head_id and (read := getattr(repo, HEAD_DOIS, None)) is not None:
        return "" if read == "," else read
    return request.__dict__.get("_page_doi_versions", {}).get(revision.pk)


def _versions(request: HttpRequest, repo: Repo, revision: Revision | None) -> str:
    """Which DOIs the page shows, each as "id.row_version" ("" for none): at the current
    revision read with the repository (``HEAD_DOIS``); on an older one, or for a repository
    loaded otherwise, by a query of its own, once per request."""
    known = _known_versions(request, repo, revision)
    if known is not None:
        return known
    rows = _query(repo, revision, versions=True).rows(repo=repo.pk, revision=revision.pk)
    read = ",".join(f"{pk}.{version}" for pk, version in rows)
    request.__dict__.setdefault("_page_doi_versions", {})[revision.pk] = read
    return read


# Compiled once per process (see hubsite.queries): the ORM's compiling cost a page more than
# running the query on the repository's index.
def _prepared(*, old_revision: bool, versions: bool) -> Prepared:
    def build(repo, revision):
        dois = _page_dois(repo, revision, old_revision=old_revision)
        return dois.values_list("pk", "row_version") if versions else dois

    return Prepared(build, repo=STAND_IN_ID, revision=STAND_IN_ID + 1)


_PAGE_DOIS = _prepared(old_revision=False, versions=False)
_PAGE_DOIS_OLD_REVISION = _prepared(old_revision=True, versions=False)
_PAGE_DOI_VERSIONS = _prepared(old_revision=False, versions=True)
_PAGE_DOI_VERSIONS_OLD_REVISION = _prepared(old_revision=True, versions=True)


def header(request: HttpRequest, repo: Repo, revision: Revision | None) -> str:
    """The ``doi:`` tag of the revision shown, with its state when DataCite has not confirmed
    it, and the Cite control (opened by ``?cite=version`` or ``?cite=all`` without JavaScript).

    Rendered once per page, DOI rows and choice (``hubsite.caching``), and without the request:
    it is the same for everyone who may see the page."""
    dois = PageDois.for_page(request, repo, revision)
    if dois.shown is None:
        return ""
    choice = _cite_choice(request)
    parts = (page_key(repo, revision), _version(dois.shown), _version(dois.concept), choice)

    def render() -> str:
        shown = dois.concept if choice == "all" and dois.concept else dois.shown
        context = {
            "doi": dois.shown,
            "record": citations.Record.of(dois.shown),
            "tag_url": citations.tag_url(dois.shown),
            "names_other_revision": revision is not None and dois.shown.revision_id != revision.pk,
            "cite_open": bool(choice),
            **citations.cite_context(dois.shown, dois.concept, shown),
        }
        return render_to_string("doi/includes/_header.html", context)

    return mark_safe(caching.get_or_render("doi-header", parts, render))  # noqa: S308


def banner(request: HttpRequest, repo: Repo, revision: Revision | None) -> str:
    """On a revision whose DOI a newer version superseded: a notice leading to the latest."""
    dois = PageDois.for_page(request, repo, revision)
    if not dois.is_outdated:
        return ""
    latest = dois.latest
    context = {
        "doi": dois.shown,
        "doi_url": citations.tag_url(dois.shown),
        "latest": latest,
        "latest_url": repo.url("page")
        if latest.revision_id == repo.head_id
        else repo.url("tree", latest.revision_oid),
    }
    return render_to_string("doi/includes/_banner.html", context)


def head(request: HttpRequest, repo: Repo, revision: Revision | None) -> str:
    """JSON-LD, Highwire Press and Dublin Core of the DOI that resolves to this page."""
    doi = PageDois.for_page(request, repo, revision).landing_here(request)
    if doi is None:
        return ""
    # Once per page and DOI row, like the Link header: made of the row's stored record.
    parts = (page_key(repo, revision), doi.cache_version, settings.SITE_URL)
    html = caching.get_or_render(
        "doi-head",
        parts,
        lambda: render_to_string("doi/includes/_head.html", discovery.head_context(doi)),
    )
    return mark_safe(html)  # noqa: S308 (rendered by the template, escaped there)


def link(request: HttpRequest, repo: Repo, revision: Revision | None) -> str:
    """The FAIR Signposting ``Link`` header of the DOI that resolves to this page, with the
    page's files as its items."""
    doi = PageDois.for_page(request, repo, revision).landing_here(request)
    if doi is None:
        return ""
    # Once per page and DOI row (a revision's files never change), so that a cached page
    # need not read its files for this header.
    parts = (page_key(repo, revision), doi.cache_version, settings.SITE_URL)
    return caching.get_or_render(
        "doi-link", parts, lambda: discovery.Signposts.of(doi, revision).header()
    )


def cache_key(request: HttpRequest, repo: Repo, revision: Revision | None) -> str:
    """What the slots above show beyond the repository and revision: which DOIs the page shows,
    each at its ``row_version`` (any change to one, by any process, raises it), and the Cite
    panel's choice. Read without the rows' documents (a concept DOI's metadata lists every
    version), so that a cached page costs the same however many versions there are."""
    versions = _versions(request, repo, revision)
    return f"{versions}:{_cite_choice(request)}" if versions else ""


def _cite_choice(request: HttpRequest) -> str:
    """The Cite panel's choice, opened by ``?cite=version`` or ``?cite=all``; "" for closed."""
    choice = request.GET.get("cite")
    return choice if choice in ("version", "all") else ""


def _version(doi: Doi | None) -> str:
    return doi.cache_version if doi is not None else ""

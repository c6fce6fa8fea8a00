"""A repository's pages, for `repos`' own views and for other apps that add pages to a
repository (the DOI settings): load the repository the URL names, fill the repository header,
and route a page under the repository's URLs. Other apps use these rather than copy them.

    urlpatterns = pages.routes(("settings/doi", views.section, "section"))  # in doi's urls

    @login_required
    @pages.repo_admin_view
    def section(request, repo): ...  # repo.url("doi-owner:section") leads here
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import NoReverseMatch, URLPattern, path, reverse

from hubsite.queries import STAND_IN_TEXT, Prepared
from repos import slots
from repos.cards import as_list
from repos.models import Repo, RepoRedirect, RepoType, Revision

# Where each type's repositories live: /<owner>/<name> and /datasets/<owner>/<name>. Datasets
# first: their URLs would otherwise also match a model's longer ones.
PREFIXES = {RepoType.DATASET: "datasets/", RepoType.MODEL: ""}


def routes(*pages: tuple[str, Callable, str]) -> list[URLPattern]:
    """URL patterns for pages of every repository, each ``(sub-path, view, name)``: the
    sub-path follows ``<owner>/<name>/`` ("" for the repository's own URL), and the page is
    named ``<type>-<name>`` in the including app's namespace (see ``Repo.url``). The view gets
    ``repo_type``, ``owner``, ``name`` and the sub-path's arguments: wrap it in ``repo_view``."""
    return [
        path(
            f"{prefix}<str:owner>/<str:name>{'/' if sub_path else ''}{sub_path}",
            view,
            {"repo_type": repo_type},
            name=f"{repo_type}-{name}",
        )
        for repo_type, prefix in PREFIXES.items()
        for sub_path, view, name in pages
    ]


def _moved_to(repo_type: str, owner: str, name: str) -> Repo:
    """The repository that used to be called owner/name, or 404."""
    old = (
        RepoRedirect.objects.select_related("repo__namespace")
        .filter(type=repo_type, owner__iexact=owner, name__iexact=name)
        .first()
    )
    if old is None or old.repo.is_removed:
        raise Http404
    return old.repo


def _same_page_of(request: HttpRequest, repo: Repo) -> str:
    """This request's page, of ``repo`` under its current owner/name."""
    match = request.resolver_match
    kwargs = {k: v for k, v in match.kwargs.items() if k not in ("owner", "name", "repo_type")}
    url = reverse(match.view_name, args=[repo.namespace.name, repo.name, *kwargs.values()])
    query = request.META.get("QUERY_STRING")
    return f"{url}?{query}" if query else url


# Compiled once per process (see hubsite.queries): the ORM's compiling cost a repository page
# as much as all the rest of a cached one. With what other apps read with it (slots.column).
_NAMED = Prepared(
    lambda repo_type, owner, name: (
        Repo.objects.select_related("head__author")
        .annotate(**slots.columns())
        .named(repo_type, owner, name)
    ),
    repo_type=STAND_IN_TEXT,
    owner=STAND_IN_TEXT + "o",
    name=STAND_IN_TEXT + "n",
)


def repo_view(view: Callable) -> Callable:
    """Load the repository the URL names and pass it to ``view``.

    404 for anyone who cannot see it (a stranger learns nothing about private repositories). An
    old name answers with a permanent redirect to the same page under the new name, and a
    differently-cased URL with a redirect to the canonical spelling.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, repo_type: str, owner: str, name: str, **kwargs):
        rows = _NAMED.rows(repo_type=repo_type, owner=owner.lower(), name=name.lower())
        found = _NAMED.instances(rows)
        if found:
            repo = found[0]
        else:
            repo = _moved_to(repo_type, owner, name)
            if not repo.can_view(request.user):
                raise Http404 from None
            return redirect(_same_page_of(request, repo), permanent=True)
        if not repo.can_view(request.user):
            raise Http404
        if (owner, name) != (repo.namespace.name, repo.name) and request.method == "GET":
            return redirect(_same_page_of(request, repo), permanent=True)
        return view(request, repo, **kwargs)

    return wrapper


def repo_admin_view(view: Callable) -> Callable:
    """``repo_view`` for pages only the repository's administrators may use: 403 for anyone
    else who can see it."""

    @repo_view
    @wraps(view)
    def wrapper(request: HttpRequest, repo: Repo, **kwargs):
        if not repo.can_admin(request.user):
            raise PermissionDenied
        return view(request, repo, **kwargs)

    return wrapper


def page_key(repo: Repo, revision: Revision | None) -> tuple:
    """What every cached piece of a repository page varies on (see ``hubsite.caching``): the
    repository as its links and header name it (type, owner, name, visibility), its current
    revision and the revision shown. A new commit, a rename or move, and a change of visibility
    each give new keys. A piece that shows more adds it::

        caching.get_or_render("doi-header", (page_key(repo, revision), doi.cache_version), …)
    """
    return (
        repo.pk,
        repo.type,
        repo.namespace.name,
        repo.name,
        repo.private,
        repo.head_id,
        revision.oid if revision else "",
    )


def header_context(request: HttpRequest, repo: Repo, revision: Revision | None, tab: str) -> dict:
    """What the repository header (repos/includes/_header.html, in repos/repo_base.html)
    needs: ``revision`` is the one shown, ``tab`` the current tab (card, files, commits,
    settings)."""
    metadata = revision.card_metadata if revision else {}
    if revision is not None:
        revision.repo = repo  # for its URLs, without loading the repository again
    return {
        "repo": repo,
        "license": str(metadata.get("license") or ""),
        "tags": as_list(metadata.get("tags")),
        "revision": revision,
        "tab": tab,
        "can_write": repo.can_write(request.user),
        "can_admin": repo.can_admin(request.user),
        "card_label": "Dataset card" if repo.is_dataset else "Model card",
    }


def support_request_url(repo: Repo, action: str) -> str:
    """The support request form, filled in to ask staff to ``action`` (rename, visibility or
    delete) the locked ``repo``; "" when the support app is not installed (repos does not
    import it: its form is linked when its URL exists)."""
    try:
        url = reverse("support:new")
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode({'repo': repo.pk, 'action': action})}"

"""Reading repositories: ``repo_info`` / ``model_info`` / ``dataset_info``, ``list_models`` /
``list_datasets``, ``list_repo_tree`` (and ``list_repo_files``), ``list_repo_commits``."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpResponse, JsonResponse

from hubapi import info
from hubapi.access import repo_for_reader, revision_at
from hubapi.auth import ApiRequest, endpoint
from hubapi.errors import ApiError, EntryNotFound
from hubapi.pages import page_of, paged_response
from repos.models import Repo

LIST_PAGE_SIZE = 100
TREE_PAGE_SIZE = 1000
COMMITS_PAGE_SIZE = 100
# The Hub's sort keys this hub can sort by (newest first), and the parameters lists take.
SORTS = {"lastModified": "-updated_at", "createdAt": "-created_at", "id": "namespace__name"}
LIST_PARAMETERS = {"search", "author", "sort", "direction", "limit", "full", "cardData", "p"}


def _flag(request: ApiRequest, name: str) -> bool:
    return request.GET.get(name, "").lower() in ("1", "true")


@endpoint()
def repo_info(
    request: ApiRequest, repo_type: str, owner: str, name: str, revision: str | None = None
) -> HttpResponse:
    repo = repo_for_reader(request, repo_type, owner, name)
    at = revision_at(repo, revision) if revision is not None else repo.head
    return JsonResponse(info.detail(request, repo, at))


def _listed(request: ApiRequest, repo_type: str):
    unknown = sorted(set(request.GET) - LIST_PARAMETERS)
    if unknown:
        raise ApiError(
            f"This hub does not filter by {', '.join(unknown)}: lists take search, author, "
            "sort (lastModified, createdAt or id) and limit."
        )
    repos = Repo.objects.visible_to(request.user).of_type(repo_type)
    repos = repos.search(request.GET.get("search", "")[:200])
    if author := request.GET.get("author"):
        repos = repos.filter(namespace__name__iexact=author)
    sort = request.GET.get("sort", "lastModified")
    if sort not in SORTS:
        raise ApiError(
            f"This hub cannot sort by {sort}: it counts no downloads or likes. "
            f"Sort by {', '.join(SORTS)}."
        )
    order = SORTS[sort]
    if request.GET.get("direction") == "1":
        order = order.removeprefix("-") if order.startswith("-") else f"-{order}"
    ordering = [order, "name"] if sort == "id" else [order, "-pk"]
    return repos.select_related("namespace", "head").order_by(*ordering)


@endpoint()
def listing(request: ApiRequest, repo_type: str) -> HttpResponse:
    repos = _listed(request, repo_type)
    full, card = _flag(request, "full"), _flag(request, "cardData")
    if full:
        repos = repos.prefetch_related("head__files__blob")
    limit = request.GET.get("limit", "")
    per_page = min(int(limit), LIST_PAGE_SIZE) if limit.isdigit() and int(limit) else None
    page = page_of(request, repos, per_page or LIST_PAGE_SIZE)
    dois = info.latest_dois(page.object_list)
    rows = []
    for repo in page.object_list:
        row = info.summary(repo, dois.get(repo.pk))
        if full:
            files = repo.head.files.all() if repo.head else []
            row["siblings"] = [info.sibling(entry) for entry in files]
        if card or full:
            row["cardData"] = repo.head.card_metadata if repo.head else {}
        rows.append(row)
    return paged_response(request, page, rows)


@endpoint()
def tree(
    request: ApiRequest, repo_type: str, owner: str, name: str, revision: str, path: str = ""
) -> HttpResponse:
    """The files and folders under ``path``: its direct children, or (``recursive``) all."""
    repo = repo_for_reader(request, repo_type, owner, name)
    at = revision_at(repo, revision)
    path = path.strip("/")
    prefix = f"{path}/" if path else ""
    files = at.files.select_related("blob").order_by("path")
    if path:
        files = files.filter(path__startswith=prefix)
        if not files.exists():
            raise EntryNotFound(f"{repo.full_name} has no folder {path!r} at {at.short_oid}.")
    entries = _entries(list(files), prefix, recursive=_flag(request, "recursive"))
    page = page_of(request, entries, TREE_PAGE_SIZE)
    return paged_response(request, page, list(page.object_list))


def _entries(files: list, prefix: str, *, recursive: bool) -> list[dict]:
    """Folders (each once, before what they hold) and files, as the Hub lists them."""
    entries, folders = [], set()
    for entry in files:
        rest = entry.path[len(prefix) :]
        parts = rest.split("/")
        for depth in range(1, len(parts) if recursive else min(len(parts), 2)):
            folder = prefix + "/".join(parts[:depth])
            if folder not in folders:
                folders.add(folder)
                entries.append(info.tree_folder(folder))
        if recursive or len(parts) == 1:
            entries.append(info.tree_file(entry))
    return entries


@endpoint()
def commits(request: ApiRequest, repo_type: str, owner: str, name: str, revision: str):
    """The revision and those before it, newest first."""
    repo = repo_for_reader(request, repo_type, owner, name)
    at = revision_at(repo, revision)
    earlier = Q(created_at__lt=at.created_at) | Q(created_at=at.created_at, pk__lte=at.pk)
    history = repo.revisions.filter(earlier).select_related("author")
    page = page_of(request, history, COMMITS_PAGE_SIZE)
    return paged_response(request, page, [info.commit(r) for r in page.object_list])

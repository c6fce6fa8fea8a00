"""Loading the repository an API address names, with the site's rules: a repository the
token's user cannot see is a 404 (``RepoNotFound``), as to anyone anonymous; one they see but
may not change is a 403."""

from __future__ import annotations

from django.urls import reverse

from hubapi.auth import ApiRequest
from hubapi.errors import Forbidden, RepoMoved, RepoNotFound, RevisionNotFound
from repos.models import Repo, RepoRedirect, RepoType, Revision

# A repository here has one line of revisions; the Hub's clients call it this branch.
DEFAULT_BRANCH = "main"
# The Hub's plural in its addresses (/api/models/…, /api/datasets/…), and back.
KINDS = {"models": RepoType.MODEL, "datasets": RepoType.DATASET}


class RepoKindConverter:
    """``<repo_kind:repo_type>``: "models" or "datasets" in the address, a RepoType in the view."""

    regex = "models|datasets"

    def to_python(self, value: str) -> str:
        return KINDS[value]

    def to_url(self, value: str) -> str:
        return f"{value}s"


def repo_for_reader(request: ApiRequest, repo_type: str, owner: str, name: str) -> Repo:
    """The repository, if the request's user may see it; under an old name of one they may
    see, a redirect (RepoMoved) to the same address under its name now."""
    try:
        repo = Repo.objects.at(repo_type, owner, name)
    except Repo.DoesNotExist:
        repo = _moved(repo_type, owner, name)
        if repo is not None and repo.can_view(request.user):
            raise RepoMoved(repo.full_name, _same_address(request, repo)) from None
        raise RepoNotFound(repo_type, f"{owner}/{name}") from None
    if not repo.can_view(request.user):
        raise RepoNotFound(repo_type, f"{owner}/{name}")
    return repo


def _moved(repo_type: str, owner: str, name: str) -> Repo | None:
    old = (
        RepoRedirect.objects.select_related("repo__namespace")
        .filter(type=repo_type, owner__iexact=owner, name__iexact=name)
        .first()
    )
    return None if old is None or old.repo.is_removed else old.repo


def _same_address(request: ApiRequest, repo: Repo) -> str:
    match = request.resolver_match
    kwargs = match.captured_kwargs | {"owner": repo.namespace.name, "name": repo.name}
    url = reverse(match.view_name, kwargs=kwargs)
    query = request.META.get("QUERY_STRING")
    return f"{url}?{query}" if query else url


def repo_for_writer(request: ApiRequest, repo_type: str, owner: str, name: str) -> Repo:
    repo = repo_for_reader(request, repo_type, owner, name)
    if not repo.can_write(request.user):
        raise Forbidden(f"You may read {repo.full_name} but not change it (write access needed).")
    return repo


def repo_for_admin(request: ApiRequest, repo_type: str, owner: str, name: str) -> Repo:
    repo = repo_for_reader(request, repo_type, owner, name)
    if not repo.can_admin(request.user):
        raise Forbidden(
            f"Only the owner or an organization admin may change the settings of {repo.full_name}."
        )
    return repo


def revision_at(repo: Repo, rev: str) -> Revision:
    """The revision an address names: ``main`` (the only branch: the current revision), or a
    full or abbreviated revision id (such as the ``commit`` of a DOI)."""
    try:
        if rev == DEFAULT_BRANCH:
            if repo.head is None:
                raise Revision.DoesNotExist(rev)
            return repo.head
        return repo.resolve_revision(rev)
    except Revision.DoesNotExist:
        raise RevisionNotFound(
            f"{repo.full_name} has no revision {rev!r}: use main, or a revision id."
        ) from None

"""Creating, moving, deleting a repository and changing its visibility, as the Hub's
``create_repo``, ``move_repo``, ``delete_repo`` and ``update_repo_settings`` ask.

The site's rules hold as they are: the site's creation form, ``Repo.move``, ``Repo.delete`` and
``Repo.set_private``, which refuse a repository locked by DOI (``RepoLocked``); that refusal is
answered here with the support request that staff can carry out.
"""

from __future__ import annotations

from django.conf import settings as site
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.http import HttpResponse, JsonResponse

from accounts.models import Namespace
from hubapi.access import repo_for_admin
from hubapi.auth import ApiRequest, endpoint
from hubapi.errors import ApiError, Forbidden, NotFound
from hubapi.payloads import payload, site_url
from repos.forms import RepoCreateForm
from repos.models import Repo, RepoLocked, RepoType
from repos.pages import support_request_url

# The Hub's own kinds that this hub has no counterpart for.
_OTHER_KINDS = {"space": "Spaces", "kernel": "Kernels"}


def _repo_type(value) -> str:
    if value in (None, RepoType.MODEL):
        return RepoType.MODEL
    if value == RepoType.DATASET:
        return RepoType.DATASET
    kind = _OTHER_KINDS.get(value, f"Repositories of type “{value}”")
    raise ApiError(f"{kind} are not offered by this hub: only models and datasets.")


def _split(repo_id, field: str) -> tuple[str, str]:
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise ApiError(f"“{field}” must be a repository id, namespace/name.")
    owner, name = repo_id.split("/")
    return owner, name


def _namespace(name: str, allowed, verb: str) -> Namespace:
    namespace = Namespace.objects.filter(name__iexact=name).first()
    if namespace is None or not namespace.has_owner:
        raise NotFound(f"No user or organization is called {name} here.")
    if not allowed.filter(pk=namespace.pk).exists():
        who = (
            f"{namespace.name} itself"
            if namespace.kind == Namespace.Kind.USER
            else f"the admins{' and writers' if verb == 'create' else ''} of {namespace.name}"
        )
        raise Forbidden(f"You cannot {verb} repositories under {namespace.name}: only {who} can.")
    return namespace


def _visibility(data: dict) -> str | None:
    """ "public", "private" or None (not said), from the Hub's ``visibility`` or older
    ``private``."""
    visibility = data.get("visibility")
    if visibility is None and isinstance(data.get("private"), bool):
        visibility = "private" if data["private"] else "public"
    if visibility not in (None, "public", "private"):
        raise ApiError(f"Visibility “{visibility}” is not offered here: use public or private.")
    return visibility


@endpoint(("POST",), scope="write")
def create(request: ApiRequest) -> HttpResponse:
    data = payload(request)
    repo_type = _repo_type(data.get("type"))
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError("Give the new repository's name.")
    owner = data.get("organization") or request.user.username
    namespace = _namespace(owner, Namespace.objects.writable_by(request.user), "create")
    taken = Repo.objects.filter(type=repo_type, namespace=namespace, name__iexact=name).first()
    if taken is not None:
        raise _taken(taken)
    form = RepoCreateForm(
        {"namespace": namespace.pk, "name": name, "visibility": _visibility(data) or "public"},
        user=request.user,
        instance=Repo(type=repo_type),
    )
    if not form.is_valid():
        problems = [m for errors in form.errors.values() for m in errors]
        raise ApiError(f"“{name}” cannot be the name of a repository: {' '.join(problems)}")
    try:
        with transaction.atomic():
            repo = form.save()
    except IntegrityError:
        taken = Repo.objects.get(type=repo_type, namespace=namespace, name__iexact=name)
        raise _taken(taken) from None
    return JsonResponse(
        {"url": site_url(repo.url("page")), "name": repo.full_name, "id": str(repo.pk)}
    )


def locked(exc: RepoLocked, repo: Repo, action: str) -> ApiError:
    """423 Locked, saying why and where to ask staff (the support request form, filled in for
    ``action`` as the settings page's button fills it)."""
    url = support_request_url(repo, action)
    where = f"Request it here: {site_url(url)}" if url else f"Write to {site.SUPPORT_EMAIL}."
    return ApiError(f"{exc} {where}", status=423)


def _taken(repo: Repo) -> ApiError:
    if repo.is_removed:
        why = "it was removed, and its name stays reserved for the DOIs that cite it"
    else:
        why = "it exists already"
    return ApiError(
        f"You already have a {repo.type} repo {repo.full_name}: {why}.",
        status=409,
        details={"url": site_url(repo.url("page"))},
    )


@endpoint(("DELETE",), scope="write")
def delete(request: ApiRequest) -> HttpResponse:
    data = payload(request)
    repo_type = _repo_type(data.get("type"))
    owner = data.get("organization") or request.user.username
    repo = repo_for_admin(request, repo_type, owner, str(data.get("name") or ""))
    try:
        repo.delete()
    except RepoLocked as exc:
        raise locked(exc, repo, "delete") from None
    except ProtectedError:
        # E.g. DOIs that were discarded (the lock released) stay on record and name it.
        raise ApiError(
            f"{repo.full_name} cannot be deleted: records that must be kept, such as DOIs it "
            "once had, still refer to it. Write to support to have it removed.",
            status=409,
        ) from None
    return HttpResponse(status=200)


@endpoint(("POST",), scope="write")
def move(request: ApiRequest) -> HttpResponse:
    data = payload(request)
    repo_type = _repo_type(data.get("type"))
    owner, name = _split(data.get("fromRepo"), "fromRepo")
    new_owner, new_name = _split(data.get("toRepo"), "toRepo")
    repo = repo_for_admin(request, repo_type, owner, name)
    namespace = _namespace(new_owner, Namespace.objects.administered_by(request.user), "move")
    try:
        repo.move(namespace=namespace, name=new_name)
    except RepoLocked as exc:
        raise locked(exc, repo, "rename") from None
    except IntegrityError:
        raise ApiError(f"{new_owner}/{new_name} was just taken.", status=409) from None
    except ValidationError as exc:
        raise ApiError(" ".join(exc.messages)) from None
    return HttpResponse(status=200)


@endpoint(("PUT",), scope="write")
def settings(request: ApiRequest, repo_type: str, owner: str, name: str) -> HttpResponse:
    repo = repo_for_admin(request, repo_type, owner, name)
    data = payload(request)
    unknown = sorted(set(data) - {"visibility", "private", "gated"})
    if unknown:
        raise ApiError(
            f"The setting {', '.join(unknown)} is not offered by this hub: only the visibility."
        )
    if data.get("gated") not in (None, False):
        raise ApiError(
            "Gated access is not offered by this hub: a repository is public or private."
        )
    visibility = _visibility(data)
    if visibility is not None:
        try:
            repo.set_private(visibility == "private")
        except RepoLocked as exc:
            raise locked(exc, repo, "visibility") from None
    return JsonResponse({"private": repo.private})

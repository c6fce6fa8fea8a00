"""Commits from code: the client's ``preupload`` and ``commit`` calls (``upload_file``,
``upload_folder``, ``create_commit``), the README check it makes before committing a card, and
the ``paths-info`` it asks before copying a file.

Everything lands in ``Repo.commit``, the method the site's upload form and card editor use, so
paths, sizes, cards and permissions follow one set of rules. A regular file's bytes come inside
the commit, base64-encoded; with an object store, files of LFS_THRESHOLD_MB or more are "lfs":
the client sends them straight to the store (hubapi.views.lfs) and the commit names them.
"""

from __future__ import annotations

import base64
import binascii
import json

from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse

from hubapi import info
from hubapi.access import DEFAULT_BRANCH, repo_for_reader, repo_for_writer, revision_at
from hubapi.auth import ApiRequest, endpoint
from hubapi.errors import ApiError, EntryNotFound, RevisionNotFound
from hubapi.payloads import payload, site_url
from hubapi.views import lfs
from repos import uploads
from repos.cards import parse_card
from repos.models import (
    CommitRefused,
    CommitTooLarge,
    NothingToRemove,
    NotStoredHere,
    ParentMoved,
)
from repos.paths import normalize, validate_path

# base64 makes 3 bytes 4; the lines around each file add a little.
_BODY_ALLOWANCE = uploads.FORM_ALLOWANCE


def upload_mode(path: str, size: int) -> str:
    """How the client sends a file: "lfs" (to the object store) if large, else "regular"."""
    return "lfs" if lfs.is_lfs(size) else "regular"


def _branch(revision: str) -> None:
    if revision != DEFAULT_BRANCH:
        raise RevisionNotFound(
            f"Commits go to the branch {DEFAULT_BRANCH}, the only branch of a repository here; "
            f"“{revision}” is not a branch."
        )


def _no_pull_requests(request: ApiRequest) -> None:
    if request.GET.get("create_pr"):
        raise ApiError(
            "Pull requests are not offered by this hub: commit to main (without create_pr)."
        )


def _refused(exc: ValidationError | CommitRefused) -> ApiError:
    if isinstance(exc, ValidationError):
        return ApiError(f"{' '.join(exc.messages)} Nothing was committed.", status=422)
    if isinstance(exc, CommitTooLarge):
        return ApiError(str(exc), status=413)
    if isinstance(exc, ParentMoved):
        return ApiError(str(exc), status=412)
    if isinstance(exc, NothingToRemove | NotStoredHere):
        return EntryNotFound(str(exc))
    return ApiError(str(exc))


@endpoint(("POST",), scope="write")
def preupload(
    request: ApiRequest, repo_type: str, owner: str, name: str, revision: str
) -> HttpResponse:
    """Which way each file will come: checks, before the client reads or sends any file, what
    the commit would check from the paths and sizes alone."""
    repo = repo_for_writer(request, repo_type, owner, name)
    _branch(revision)
    _no_pull_requests(request)
    files = payload(request).get("files")
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("size"), int)
        for f in files
    ):
        raise ApiError("“files” must be a list of {path, size, sample}.")
    sizes: dict[str, int] = {}
    for f in files:
        if lfs.is_lfs(f["size"]):
            continue
        sizes[normalize(f["path"])] = sizes.get(normalize(f["path"]), 0) + max(f["size"], 0)
    try:
        for f in files:
            if lfs.is_lfs(f["size"]):
                validate_path(normalize(f["path"]))  # its size is checked at the batch request
        repo.check_commit(author=request.user, sizes=sizes)
    except (ValidationError, CommitRefused) as exc:
        raise _refused(exc) from None
    return JsonResponse(
        {
            "files": [
                {
                    "path": f["path"],
                    "uploadMode": upload_mode(f["path"], f["size"]),
                    "shouldIgnore": False,
                    "oid": None,
                }
                for f in files
            ]
        }
    )


class _Commit:
    """A commit as the client's NDJSON body says it, one JSON object per line."""

    def __init__(self) -> None:
        self.summary, self.description, self.parent = "", "", None
        self.add: dict[str, bytes] = {}
        self.stored: dict[str, str] = {}
        self.remove: list[str] = []
        self.remove_folders: list[str] = []

    def read(self, line: bytes, number: int) -> None:
        try:
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                self.summary = str(value.get("summary") or "")
                self.description = str(value.get("description") or "")
                self.parent = value.get("parentCommit")
            elif key == "file" and value.get("encoding", "base64") == "base64":
                self.add[value["path"]] = base64.b64decode(value["content"], validate=True)
            elif key == "lfsFile" and value.get("algo", "sha256") == "sha256":
                # Content the hub stores already, by its SHA-256: what the client sends to
                # copy a file (every file here is described as an LFS object).
                self.stored[value["path"]] = str(value["oid"])
            elif key == "deletedFile":
                self.remove.append(value["path"])
            elif key == "deletedFolder":
                self.remove_folders.append(value["path"])
            else:
                raise ValueError(key)
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise ApiError(
                f"Line {number} of the commit is not an operation this hub understands: each "
                "line must be a JSON object with a “key” (header, file, lfsFile, deletedFile or "
                "deletedFolder) and its “value”. Nothing was committed."
            ) from None


def _read_commit(request: ApiRequest) -> _Commit:
    announced = uploads.announced_size(request)
    if announced > uploads.limit_bytes() * 4 // 3 + _BODY_ALLOWANCE:
        raise ApiError(uploads.too_large_message(announced * 3 // 4), status=413)
    commit = _Commit()
    for number, line in enumerate(request, start=1):
        if line.strip():
            commit.read(line, number)
    return commit


@endpoint(("POST",), scope="write")
def commit(
    request: ApiRequest, repo_type: str, owner: str, name: str, revision: str
) -> HttpResponse:
    repo = repo_for_writer(request, repo_type, owner, name)
    _branch(revision)
    _no_pull_requests(request)
    body = _read_commit(request)
    try:
        new = repo.commit(
            author=request.user,
            message=body.summary,
            description=body.description,
            add=body.add,
            remove=body.remove,
            remove_folders=body.remove_folders,
            stored=body.stored,
            parent=body.parent,
        )
    except (ValidationError, CommitRefused) as exc:
        raise _refused(exc) from None
    return JsonResponse(
        {
            "success": True,
            "commitOid": new.oid,
            "commitUrl": site_url(repo.url("commit", new.oid)),
            "hookOutput": "",
            "pullRequestUrl": None,
        }
    )


@endpoint(("POST",))
def validate_yaml(request: ApiRequest) -> HttpResponse:
    """The client's check of a README before it commits one. What the hub will not use as a
    card's metadata is a warning, not an error: as on the site, a README that comes as a file is
    kept, its metadata ignored, and the card says why."""
    content = payload(request).get("content")
    if not isinstance(content, str):
        raise ApiError("“content” must be the README's text.")
    card = parse_card(content)
    problem = card.refused or card.error
    return JsonResponse(
        {"errors": [], "warnings": [{"message": f"{problem} The README is kept as a file."}]}
        if problem
        else {"errors": [], "warnings": []}
    )


@endpoint(("POST",))
def paths_info(
    request: ApiRequest, repo_type: str, owner: str, name: str, revision: str
) -> HttpResponse:
    """The files and folders at the ``paths`` asked for (a form, as the client sends it),
    described as the tree listing describes them; paths that are neither are left out."""
    repo = repo_for_reader(request, repo_type, owner, name)
    at = revision_at(repo, revision)
    asked = [normalize(p).strip("/") for p in request.POST.getlist("paths")]
    files = {f.path: f for f in at.files.select_related("blob")}
    entries = []
    for path in dict.fromkeys(asked):
        if path in files:
            entries.append(info.tree_file(files[path]))
        elif any(p.startswith(f"{path}/") for p in files):
            entries.append(info.tree_folder(path))
    return JsonResponse(entries, safe=False)

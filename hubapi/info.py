"""What the API says about repositories, their files and revisions, in the Hub's JSON shapes
(those ``huggingface_hub`` builds ``ModelInfo``, ``DatasetInfo``, ``RepoFile`` and
``GitCommitInfo`` from).

Every file is described as the Hub describes a large (LFS) file: by its SHA-256, which is what
the hub stores it under, and the git id of its LFS pointer. The client then checks downloads
against that SHA-256, and never needs a git blob id the hub does not keep.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from django.http import HttpRequest

from doi.models import Doi
from doi.slots import PageDois
from repos.cards import as_list
from repos.models import Blob, Repo, Revision, RevisionFile


def hub_time(moment: datetime) -> str:
    """The Hub's timestamps: UTC, with a Z (the only form the client parses)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _pointer(blob: Blob) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{blob.sha256}\nsize {blob.size}\n"
    ).encode()


def _pointer_size(blob: Blob) -> int:
    return len(_pointer(blob))


def lfs(blob: Blob) -> dict:
    return {"size": blob.size, "sha256": blob.sha256, "pointerSize": _pointer_size(blob)}


def pointer_oid(blob: Blob) -> str:
    """The git blob id of the file's LFS pointer (what the Hub gives as an LFS file's oid)."""
    pointer = _pointer(blob)
    header = f"blob {len(pointer)}\0".encode()
    return hashlib.sha1(header + pointer, usedforsecurity=False).hexdigest()


def tree_file(entry: RevisionFile) -> dict:
    return {
        "type": "file",
        "path": entry.path,
        "size": entry.blob.size,
        "oid": pointer_oid(entry.blob),
        # The tree names the SHA-256 "oid"; repo_info's siblings name it "sha256".
        "lfs": {
            "oid": entry.blob.sha256,
            "size": entry.blob.size,
            "pointerSize": _pointer_size(entry.blob),
        },
    }


def tree_folder(path: str) -> dict:
    # A folder has no id of its own here: the hash of its path stands in for git's tree id.
    return {
        "type": "directory",
        "path": path,
        "size": 0,
        "oid": hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest(),
    }


def sibling(entry: RevisionFile) -> dict:
    return {
        "rfilename": entry.path,
        "size": entry.blob.size,
        "blobId": pointer_oid(entry.blob),
        "lfs": lfs(entry.blob),
    }


def commit(revision: Revision) -> dict:
    title, _, rest = revision.message.partition("\n")
    author = revision.author.username if revision.author else "(deleted account)"
    return {
        "id": revision.oid,
        "authors": [{"user": author}],
        "date": hub_time(revision.created_at),
        "title": title,
        "message": rest.strip(),
    }


def _tags(metadata: dict, doi: Doi | None) -> list[str]:
    tags = [str(tag) for tag in as_list(metadata.get("tags"))]
    if metadata.get("license"):
        tags.append(f"license:{metadata['license']}")
    if doi is not None:
        tags.append(f"doi:{doi.doi}")
    return tags


def _doi(doi: Doi | None) -> dict | None:
    """The Hub's ``doi`` object: the DOI and the revision it names."""
    return None if doi is None else {"id": doi.doi, "commit": doi.revision_oid}


def summary(repo: Repo, doi: Doi | None) -> dict:
    """A repository as lists show it, at its current revision."""
    revision = repo.head
    metadata = revision.card_metadata if revision else {}
    return {
        "_id": str(repo.pk),
        "id": repo.full_name,
        "author": repo.namespace.name,
        "sha": revision.oid if revision else None,
        "private": repo.private,
        "gated": False,
        "disabled": False,
        "createdAt": hub_time(repo.created_at),
        "lastModified": hub_time(repo.updated_at),
        "tags": _tags(metadata, doi),
        "doi": _doi(doi),
    }


def latest_dois(repos: Iterable[Repo]) -> dict[int, Doi]:
    """Each repository's latest version DOI, in one query."""
    latest: dict[int, Doi] = {}
    rows = Doi.objects.live().versions().filter(repo__in=list(repos)).order_by("repo", "-number")
    for doi in rows:
        latest.setdefault(doi.repo_id, doi)
    return latest


def detail(request: HttpRequest, repo: Repo, revision: Revision | None) -> dict:
    """A repository at ``revision`` (None: an empty one) as ``repo_info`` shows it: the Hub's
    fields, its files, the DOI of that revision as the Hub gives it (a ``doi:`` tag and a
    ``doi`` object), and the hub's own: the DOI's state, the concept DOI and the lock."""
    dois = PageDois.load(repo, revision)
    metadata = revision.card_metadata if revision else {}
    files = revision.files.select_related("blob") if revision else []
    return {
        **summary(repo, dois.shown),
        "sha": revision.oid if revision else None,
        "lastModified": hub_time(revision.created_at if revision else repo.updated_at),
        "tags": _tags(metadata, dois.shown),
        "cardData": metadata,
        "siblings": [sibling(entry) for entry in files],
        "doi": _doi(dois.shown),
        "doiState": dois.shown.state if dois.shown else None,
        "conceptDoi": dois.concept.doi if dois.concept else None,
        "lockedBy": repo.lock_reasons,
        "license": str(metadata.get("license") or ""),
        "url": request.build_absolute_uri(repo.get_absolute_url()),
    }

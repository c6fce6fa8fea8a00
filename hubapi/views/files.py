"""Downloads as the client makes them (``hf_hub_download``, ``snapshot_download``):
``/<owner>/<name>/resolve/<revision>/<path>`` and ``/datasets/…``. HEAD tells the client the
revision (``X-Repo-Commit``), the content's SHA-256 (``ETag``, ``X-Linked-Etag``) and its size;
GET sends the bytes."""

from __future__ import annotations

import posixpath

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse

from hubapi.access import repo_for_reader, revision_at
from hubapi.auth import ApiRequest, endpoint
from hubapi.errors import EntryNotFound
from repos.models import RevisionFile


@endpoint()
def resolve(
    request: ApiRequest, repo_type: str, owner: str, name: str, revision: str, path: str
) -> HttpResponse:
    repo = repo_for_reader(request, repo_type, owner, name)
    at = revision_at(repo, revision)
    try:
        entry = at.files.select_related("blob").get(path=path)
    except RevisionFile.DoesNotExist:
        raise EntryNotFound(f"{repo.full_name} has no file {path!r} at {at.short_oid}.") from None
    blob = entry.blob
    if request.method == "HEAD":
        response = HttpResponse(content_type="application/octet-stream")
    else:
        response = FileResponse(
            default_storage.open(blob.file.name, "rb"),
            as_attachment=True,
            filename=posixpath.basename(path),
            content_type="application/octet-stream",
        )
    response["Content-Length"] = str(blob.size)
    response["ETag"] = f'"{blob.sha256}"'
    response["X-Linked-Etag"] = f'"{blob.sha256}"'
    response["X-Linked-Size"] = str(blob.size)
    response["X-Repo-Commit"] = at.oid
    # The bytes are someone's upload: never let a browser run them as a page of this site.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

"""Downloads as the client makes them (``hf_hub_download``, ``snapshot_download``):
``/<owner>/<name>/resolve/<revision>/<path>`` and ``/datasets/…``. HEAD tells the client the
revision (``X-Repo-Commit``), the content's SHA-256 (``ETag``, ``X-Linked-Etag``) and its size;
GET sends the bytes. A large file in an object store is answered, as the Hub answers its LFS
files, with a redirect (302) to a short-lived presigned URL of the store, to HEAD and GET alike:
the client takes the metadata from the redirect and fetches the bytes from ``Location``, so no
web worker carries them. Each GET, and each redirect to the store, is a download
(``repos.signals.downloaded``), which ``doi`` counts for the DOI naming the revision."""

from __future__ import annotations

import posixpath

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers

from hubapi.access import repo_for_reader, revision_at
from hubapi.auth import ApiRequest, endpoint
from hubapi.errors import EntryNotFound
from repos import signals
from repos.models import Revision, RevisionFile


@endpoint()
def resolve(
    request: ApiRequest, repo_type: str, owner: str, name: str, revision: str, path: str
) -> HttpResponse:
    # The access check comes first: a presigned URL is only made for a caller who may read.
    repo = repo_for_reader(request, repo_type, owner, name)
    at = revision_at(repo, revision)
    try:
        entry = at.files.select_related("blob").get(path=path)
    except RevisionFile.DoesNotExist:
        raise EntryNotFound(f"{repo.full_name} has no file {path!r} at {at.short_oid}.") from None
    blob = entry.blob
    direct = blob.direct_download_url(posixpath.basename(path))
    if direct is not None:
        response = HttpResponseRedirect(direct)
        # The address expires and may open a private file: no cache keeps it.
        add_never_cache_headers(response)
    elif request.method == "HEAD":
        response = HttpResponse(content_type="application/octet-stream")
        response["Content-Length"] = str(blob.size)
    else:
        response = FileResponse(
            default_storage.open(blob.file.name, "rb"),
            as_attachment=True,
            filename=posixpath.basename(path),
            content_type="application/octet-stream",
        )
        response["Content-Length"] = str(blob.size)
    if request.method == "GET" or direct is not None:
        # Counted once the file is open (a store that fails answers 503, and counts nothing).
        # A HEAD the site answers itself is the client asking before its GET. A redirect to the
        # store is the download, to HEAD too: the client takes Location from its HEAD and asks
        # the store for the bytes, which the hub never hears of.
        signals.downloaded.send(
            sender=Revision, request=request, revision=at, path=path, by_api=True
        )
    # On a redirect the size is only in X-Linked-Size: a Content-Length there would promise a
    # body the redirect does not have, and a client reading it would wait for it.
    response["ETag"] = f'"{blob.sha256}"'
    response["X-Linked-Etag"] = f'"{blob.sha256}"'
    response["X-Linked-Size"] = str(blob.size)
    response["X-Repo-Commit"] = at.oid
    # The bytes are someone's upload: never let a browser run them as a page of this site.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

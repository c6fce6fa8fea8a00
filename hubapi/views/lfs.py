"""Large files through the client's Git LFS protocol, straight between the client and the
object store: the batch API answers each object with a presigned upload URL to a staging key
and a verify address; ``verify`` checks size and SHA-256 and moves the object, inside the
store, to the content-addressed key blobs use. A commit then names it by SHA-256 (lfsFile).

Without an object store (local disk) ``preupload`` answers every file "regular": it comes
inside the commit, through the site, under REPO_UPLOAD_MAX_MB.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.urls import reverse

from hubapi.access import repo_for_writer
from hubapi.auth import ApiRequest, endpoint
from hubapi.errors import ApiError
from hubapi.payloads import payload
from repos import uploads
from repos.models import LfsQuotaExceeded, LfsUpload, Repo, UploadNotVerified

# The same rules as the site's upload page (repos.uploads): whether the storage takes uploads
# straight from clients (an object store), and which files go there.
offered = uploads.direct_uploads_offered
is_lfs = uploads.goes_to_store


def _objects(request: ApiRequest) -> list[dict]:
    body = payload(request)
    objects = body.get("objects")
    if body.get("operation") != "upload":
        raise ApiError("Only the LFS “upload” operation is offered here; download by resolve.")
    if not isinstance(objects, list) or not all(
        isinstance(o, dict)
        and isinstance(o.get("oid"), str)
        and len(o["oid"]) == 64
        and isinstance(o.get("size"), int)
        and o["size"] >= 0
        for o in objects
    ):
        raise ApiError("“objects” must be a list of {oid: SHA-256 in hex, size: bytes}.")
    return objects


def _check_quota(repo: Repo, objects: list[dict]) -> None:
    try:
        LfsUpload.objects.check_quota(repo, {o["oid"].lower(): o["size"] for o in objects})
    except LfsQuotaExceeded as exc:
        raise ApiError(str(exc), status=413) from None


@endpoint(("POST",), scope="write")
def batch(request: ApiRequest, repo_type: str, owner: str, name: str) -> HttpResponse:
    repo = repo_for_writer(request, repo_type, owner, name)
    if not offered():
        raise ApiError(
            "Large files need the hub's object store (S3_BUCKET), which this hub has not: "
            "files come inside the commit, up to REPO_UPLOAD_MAX_MB.",
            status=501,
        )
    objects = _objects(request)
    _check_quota(repo, objects)
    answers = []
    for o in objects:
        upload = LfsUpload.objects.announce(repo, o["oid"].lower(), o["size"])
        answer = {"oid": o["oid"], "size": o["size"], "authenticated": True}
        if upload.blob is None:
            verify_url = reverse(
                f"hubapi-lfs:{repo_type}-verify", kwargs={"owner": owner, "name": name}
            )
            answer["actions"] = {
                "upload": {"href": default_storage.upload_url(upload.staging_name)},
                "verify": {"href": request.build_absolute_uri(verify_url)},
            }
        answers.append(answer)
    return JsonResponse({"transfer": "basic", "objects": answers, "hash_algo": "sha256"})


@endpoint(("POST",), scope="write")
def verify(request: ApiRequest, repo_type: str, owner: str, name: str) -> HttpResponse:
    repo = repo_for_writer(request, repo_type, owner, name)
    body = payload(request)
    upload = LfsUpload.objects.filter(repo=repo, sha256=str(body.get("oid", "")).lower()).first()
    if upload is None or upload.size != body.get("size"):
        raise ApiError(
            "No such large file was announced for this repository: ask the batch API first.",
            status=404,
        )
    try:
        upload.verify()
    except UploadNotVerified as exc:
        raise ApiError(str(exc), status=422) from None
    return JsonResponse({"success": True})

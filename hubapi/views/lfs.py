"""Large files through the client's Git LFS protocol, straight between the client and the
object store: the batch API answers each object with a presigned upload URL to a staging key
and a verify address; ``verify`` checks size and SHA-256 and moves the object, inside the
store, to the content-addressed key blobs use. A commit then names it by SHA-256 (lfsFile).
A file over LFS_PART_SIZE_MB goes in parts (an S3 multipart upload): the answer presigns each
part, and a completion address joins them in the store and verifies the whole.

Without an object store (local disk) ``preupload`` answers every file "regular": it comes
inside the commit, through the site, under REPO_UPLOAD_MAX_MB.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
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
_COMPLETE_SALT = "hubapi.lfs.complete"


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
            answer["actions"] = (
                _multipart_actions(request, upload)
                if upload.is_multipart
                else _basic_actions(request, upload)
            )
        answers.append(answer)
    return JsonResponse({"transfer": "basic", "objects": answers, "hash_algo": "sha256"})


def _basic_actions(request: ApiRequest, upload: LfsUpload) -> dict:
    """One PUT of the whole object to the store, then verify."""
    repo = upload.repo
    verify_url = reverse(
        f"hubapi-lfs:{repo.type}-verify",
        kwargs={"owner": repo.namespace.name, "name": repo.name},
    )
    return {
        "upload": {"href": default_storage.upload_url(upload.staging_name)},
        "verify": {"href": request.build_absolute_uri(verify_url)},
    }


def _multipart_actions(request: ApiRequest, upload: LfsUpload) -> dict:
    """The Hub's multipart shape: the part size and each part's presigned URL in the upload
    action's header, numbered from 1; the client PUTs the parts to the store, then POSTs their
    ETags to the upload action's address, which completes and verifies. The client sends no
    token there: the address itself carries a signed one, for this upload only."""
    part_size, urls = upload.part_urls()
    repo = upload.repo
    complete_url = reverse(
        f"hubapi-lfs:{repo.type}-complete",
        kwargs={
            "owner": repo.namespace.name,
            "name": repo.name,
            "token": signing.dumps(upload.pk, salt=_COMPLETE_SALT),
        },
    )
    parts = {str(number): url for number, url in enumerate(urls, start=1)}
    return {
        "upload": {
            "href": request.build_absolute_uri(complete_url),
            "header": {"chunk_size": str(part_size), **parts},
        }
    }


@endpoint(("POST",))
def complete(
    request: ApiRequest, repo_type: str, owner: str, name: str, token: str
) -> HttpResponse:
    try:
        pk = signing.loads(token, salt=_COMPLETE_SALT, max_age=settings.LFS_UPLOAD_HOURS * 3600)
    except signing.BadSignature:
        raise ApiError(
            "This completion address is not one the batch API gave, or is older than "
            f"{settings.LFS_UPLOAD_HOURS} hours (LFS_UPLOAD_HOURS): upload the file again.",
            status=403,
        ) from None
    upload = LfsUpload.objects.filter(
        pk=pk, repo__type=repo_type, repo__namespace__name=owner, repo__name=name
    ).first()
    oid = payload(request).get("oid")
    if upload is None or oid != upload.sha256:
        raise ApiError(
            "No such large file is being uploaded to this repository: upload the file again.",
            status=404,
        )
    try:
        upload.complete()
    except UploadNotVerified as exc:
        raise ApiError(str(exc), status=422) from None
    return JsonResponse({"success": True})


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

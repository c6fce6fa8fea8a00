"""Refusing an upload over ``REPO_UPLOAD_MAX_MB`` before it is read, or at least before more than
the limit is written anywhere: the size check of the form comes only after the whole body."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

# Room in a body for what surrounds the files: the form's text fields, the multipart framing.
FORM_ALLOWANCE = 256 * 1024


def direct_uploads_offered() -> bool:
    """Whether the storage takes uploads straight from clients (an object store)."""
    return hasattr(default_storage, "upload_url")


def goes_to_store(size: int) -> bool:
    """Whether a file of ``size`` bytes is sent straight to the object store (the client's LFS
    protocol, the upload page's direct upload) instead of inside its commit."""
    return direct_uploads_offered() and size >= settings.LFS_THRESHOLD_MB * 1024 * 1024


def limit_bytes() -> int:
    return settings.REPO_UPLOAD_MAX_MB * 1024 * 1024


def too_large_message(size: int | None = None) -> str:
    what = f"The upload is about {filesizeformat(size)}," if size else "The files are"
    return (
        f"{what} over the limit of {settings.REPO_UPLOAD_MAX_MB} MB per commit. "
        "Nothing was committed."
    )


def announced_size(request: HttpRequest) -> int:
    """The body's length as the client announced it (0 when absent, as for a chunked body)."""
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class LimitUploadHandler(FileUploadHandler):
    """First in the chain: counts the bytes of all files and stops the upload once they pass the
    limit, before the handlers after it keep them in memory or write them to disk. Whatever
    the body announced, so a chunked body or a wrong Content-Length stops there too."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            # The rest of the body is read and thrown away, so the browser gets the answer.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

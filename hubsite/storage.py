"""The S3-compatible object store repository files live in when S3_BUCKET is set."""

from __future__ import annotations

from urllib.parse import urlsplit

from boto3.s3.transfer import TransferConfig
from storages.backends.s3 import S3Storage

# boto3's default reads up to ten 8 MB parts ahead into memory (80 MB per large file in a web
# worker); two parts in flight, two read ahead keep it near 16 MB whatever the file's size.
# Downloading, it queues up to max_io_queue 256 KB pieces for the writer: 100 (25 MB) by default
# when the disk lags behind the network, eight here.
FLAT_MEMORY_TRANSFER = TransferConfig(
    multipart_chunksize=8 * 1024 * 1024, max_concurrency=2, max_io_queue=8
)
FLAT_MEMORY_TRANSFER.max_in_memory_upload_chunks = 2
# Opening an object downloads it into a SpooledTemporaryFile of this size, which django-storages
# (max_memory_size 0) never lets roll over to disk: a 1 GB object read back at LFS verify sat in
# the web worker's memory whole. Past 8 MB it goes to a temporary file instead.
READ_IN_MEMORY_BYTES = 8 * 1024 * 1024


class ObjectStorage(S3Storage):
    # Downloads of large files are redirected to a presigned URL of the store (Blob).
    presigns_downloads = True

    def __init__(self, **settings) -> None:
        settings.setdefault("transfer_config", FLAT_MEMORY_TRANSFER)
        settings.setdefault("max_memory_size", READ_IN_MEMORY_BYTES)
        super().__init__(**settings)

    def copy(self, source: str, target: str) -> None:
        """Copy inside the store (S3 CopyObject, multipart for objects over 5 GB): no byte
        passes through the web worker."""
        self.bucket.copy(
            {"Bucket": self.bucket_name, "Key": self._normalize_name(source)},
            self._normalize_name(target),
        )

    def upload_url(self, name: str) -> str:
        """A short-lived URL the client PUTs the object at ``name`` to, straight to the store."""
        return self.bucket.meta.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket_name, "Key": self._normalize_name(name)},
            ExpiresIn=self.querystring_expire,
        )

    @property
    def upload_origin(self) -> str:
        """The origin (scheme://host[:port]) browsers PUT to: what the upload page's
        Content-Security-Policy lets its script connect to, and the bucket's CORS rule serves."""
        url = urlsplit(self.upload_url("origin"))
        return f"{url.scheme}://{url.netloc}"

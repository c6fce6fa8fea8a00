"""The S3-compatible object store repository files live in when S3_BUCKET is set."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
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

    def upload_part_urls(self, name: str, upload_id: str, count: int, expires: int) -> list[str]:
        """Presigned UploadPart URLs for parts 1 to ``count`` of the multipart upload of
        ``name``: the client PUTs each part straight to the store."""
        client = self.bucket.meta.client
        key = self._normalize_name(name)
        return [
            client.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": self.bucket_name,
                    "Key": key,
                    "UploadId": upload_id,
                    "PartNumber": number,
                },
                ExpiresIn=expires,
            )
            for number in range(1, count + 1)
        ]

    def start_multipart(self, name: str) -> str:
        """The id of a new multipart upload to ``name``."""
        return self.bucket.meta.client.create_multipart_upload(
            Bucket=self.bucket_name, Key=self._normalize_name(name)
        )["UploadId"]

    def uploaded_parts(self, name: str, upload_id: str) -> list[dict] | None:
        """The parts the store holds of a multipart upload (``PartNumber``, ``ETag``,
        ``Size``), or None once it is no longer in progress (completed or aborted)."""
        client = self.bucket.meta.client
        try:
            pages = client.get_paginator("list_parts").paginate(
                Bucket=self.bucket_name, Key=self._normalize_name(name), UploadId=upload_id
            )
            return [part for page in pages for part in page.get("Parts", [])]
        except client.exceptions.NoSuchUpload:
            return None

    def complete_multipart(self, name: str, upload_id: str, parts: list[dict]) -> None:
        self.bucket.meta.client.complete_multipart_upload(
            Bucket=self.bucket_name,
            Key=self._normalize_name(name),
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
            },
        )

    def abort_multipart(self, name: str, upload_id: str) -> None:
        client = self.bucket.meta.client
        # Completed or aborted already: nothing is left to free.
        with suppress(client.exceptions.NoSuchUpload):
            client.abort_multipart_upload(
                Bucket=self.bucket_name, Key=self._normalize_name(name), UploadId=upload_id
            )

    def multiparts_started_before(self, prefix: str, before: datetime) -> list[tuple[str, str]]:
        """(name, upload id) of the multipart uploads under ``prefix`` started before
        ``before`` and neither completed nor aborted."""
        client = self.bucket.meta.client
        pages = client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket_name, Prefix=self._normalize_name(prefix)
        )
        return [
            (self._unnormalize(upload["Key"]), upload["UploadId"])
            for page in pages
            for upload in page.get("Uploads", [])
            if upload["Initiated"] < before
        ]

    def objects_written_before(self, prefix: str, before: datetime) -> list[str]:
        """Names of the objects under ``prefix`` last written before ``before``."""
        return [
            self._unnormalize(obj.key)
            for obj in self.bucket.objects.filter(Prefix=self._normalize_name(prefix))
            if obj.last_modified < before
        ]

    def _unnormalize(self, key: str) -> str:
        return key.removeprefix(f"{self.location}/") if self.location else key

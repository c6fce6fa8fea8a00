"""Push to DataCite whatever it has not confirmed yet.

Meant for cron, e.g. every five minutes:

    */5 * * * * cd /srv/hub && .venv/bin/python manage.py doi_sync --quiet

It picks up DOIs whose retry is due, and DOIs queued more than a minute ago that no worker
pushed (the worker died, or the web process was restarted mid-request). Permanent failures
wait for a person (the Retry button, or the admin's "Retry registration"), unless ``--all``.
``--now`` does not wait for the next attempts (after DataCite has recovered); ``--every``
keeps running (``scripts/serve`` starts it so, instead of a cron), and then also fetches the
counts (``--counts``: DataCite's, and the hub's own summed onto the DOIs) every
DOI_COUNTS_EVERY_HOURS: when the last fetch stored is that old, so a restart does not fetch
them again, and after a failed fetch not before an hour has passed.

Requests go at DATACITE_REQUESTS_PER_MINUTE, evenly spaced, from ``--workers`` threads (DataCite
takes a while to answer each, so one at a time would not reach the rate); a "429 Too Many
Requests" pauses them all for as long as DataCite's Retry-After asks, then the run goes on.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from datetime import datetime, timedelta
from time import sleep

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.db.models import Count, Max
from django.utils import timezone

from doi.models import Doi, Push
from doi.registrars import RegistrarError, get_registrar
from doi.tasks import pushes_can_run_side_by_side

# A Retry-After up to this long is waited out within the run; a longer one ends it, and the
# DOIs left keep their schedule.
LONGEST_WAIT = 5 * 60
# How often one DOI may be refused with a 429 in a run before it is left for the next.
MOST_REFUSALS = 3
# After a failed fetch of the counts, the --every loop tries again at most this often.
COUNTS_RETRY = timedelta(hours=1)

OUTCOMES = {
    Push.DONE: "confirmed by the registrar",
    Push.RETRY: "failed for now (will retry)",
    Push.FAILED: "failed permanently",
    Push.SKIPPED: "skipped (busy or already done)",
}


class Command(BaseCommand):
    # When the --every loop last failed to fetch the counts.
    counts_failed_at: datetime | None = None
    help = (
        "Push pending DOI registrations, updates and hides to DataCite: retries that are due "
        "and pushes a dead worker left behind. Run it from cron every few minutes, e.g. "
        "'*/5 * * * * cd /srv/hub && .venv/bin/python manage.py doi_sync --quiet'."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="Also try again the DOIs whose last error was permanent.",
        )
        parser.add_argument(
            "--now",
            action="store_true",
            help=(
                "Push every pending DOI, also those whose next attempt is still to come (once "
                "DataCite has recovered)."
            ),
        )
        parser.add_argument(
            "--every",
            type=int,
            metavar="SECONDS",
            help="Keep running: sync, wait SECONDS, sync again, until stopped.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be pushed; change nothing."
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=4,
            metavar="N",
            help="Push N DOIs side by side (default 4; one at a time on SQLite, where each push "
            "holds the database's write lock). The pace is DATACITE_REQUESTS_PER_MINUTE, "
            "whatever N.",
        )
        parser.add_argument("--quiet", action="store_true", help="Print only failures.")
        parser.add_argument(
            "--compare",
            action="store_true",
            help="Also fetch every DOI DataCite holds and note the ones whose metadata there "
            "differs from the hub's (listed on the admin's front page). One request per DOI: "
            "run it daily, not every few minutes.",
        )
        parser.add_argument(
            "--counts",
            action="store_true",
            help="Also fetch the citation, view and download counts DataCite holds for the "
            "hub's DOIs (one request per thousand DOIs, paced with the rest), and the works "
            "citing each cited DOI from its event data (one request per cited DOI), shown on "
            "the repository pages. Run it daily.",
        )

    def handle(self, *args, every: int | None, **options) -> None:
        if every is None:
            self.sync(**options)
            return
        try:
            while True:
                self.sync(**options | {"counts": options["counts"] or self.counts_due()})
                # A long-running process: never hold a connection the database has dropped.
                close_old_connections()
                sleep(every)
        except KeyboardInterrupt:
            return

    def sync(
        self,
        *,
        all: bool,
        now: bool,
        dry_run: bool,
        quiet: bool,
        compare: bool,
        counts: bool,
        workers: int,
        **options,
    ) -> None:
        self._push(all=all, now=now, dry_run=dry_run, quiet=quiet, workers=workers)
        if compare and not dry_run:
            self._compare(quiet=quiet)
        if counts and not dry_run:
            self._counts(quiet=quiet)

    def counts_due(self) -> bool:
        """Whether the --every loop should fetch the counts now (DOI_COUNTS_EVERY_HOURS)."""
        hours = settings.DOI_COUNTS_EVERY_HOURS
        if not hours:
            return False
        now = timezone.now()
        failed_at = self.counts_failed_at
        if failed_at is not None and now - failed_at < min(COUNTS_RETRY, timedelta(hours=hours)):
            return False
        found = Doi.objects.findable().aggregate(dois=Count("pk"), last=Max("counted_at"))
        if not found["dois"]:
            return False
        return found["last"] is None or now - found["last"] >= timedelta(hours=hours)

    def _counts(self, *, quiet: bool) -> None:
        # The hub's own first: they need no DataCite, and show beside its counts.
        own = Doi.objects.store_own_usage()
        if not quiet:
            self.stdout.write(f"The hub's own counts summed for {own} DOI(s).")
        try:
            usage = get_registrar().usage()
        except RegistrarError as exc:
            self.counts_failed_at = timezone.now()
            self.stderr.write(f"Counts not fetched: {exc.message}; the last ones stay shown.")
            return
        counted = Doi.objects.store_usage(usage)
        if not quiet:
            self.stdout.write(f"Counts fetched from DataCite for {counted} DOI(s).")
        # Only the DOIs DataCite counted citations of: one request each, paced like the rest.
        fetched, failed = Doi.objects.store_citing_works(get_registrar(), usage)
        for problem in failed:
            self.stderr.write(f"Citing works not fetched for {problem}; the last ones stay shown.")
        if not quiet:
            self.stdout.write(
                f"Citing works fetched from DataCite's event data for {fetched} cited DOI(s)."
            )

    def _compare(self, *, quiet: bool) -> None:
        registrar = get_registrar()
        dois = Doi.objects.at_datacite().filter(pending_action="").order_by("number")
        differing = unreachable = 0
        for doi in dois:
            try:
                differences = doi.compare(registrar)
            except RegistrarError as exc:
                unreachable += 1
                self.stderr.write(f"{doi.doi}: not compared: {exc.message}")
                continue
            if differences:
                differing += 1
                self.stderr.write(
                    f"{doi.doi}: DataCite holds different {', '.join(differences)}; "
                    "Re-send metadata in the admin puts the hub's back."
                )
        if not quiet or differing or unreachable:
            self.stdout.write(
                f"{len(dois)} DOI(s) compared: {differing} differ at DataCite, "
                f"{unreachable} could not be compared."
            )

    def _push(self, *, all: bool, now: bool, dry_run: bool, quiet: bool, workers: int) -> None:
        pending = Doi.objects.unconfirmed if now else Doi.objects.due
        due = list(pending(include_permanent=all).select_related("repo__namespace"))
        if dry_run:
            for doi in due:
                self.stdout.write(
                    f"{doi.doi}  {doi.get_pending_action_display().lower()}  "
                    f"{doi.repo.full_name}  attempts={doi.attempts}"
                    + (f"  last time: {doi.problem}" if doi.last_error else "")
                )
            self.stdout.write(f"{len(due)} DOI(s) due; nothing was sent (dry run).")
            return
        run = _Run(self, due, force=all, quiet=quiet)
        run.go(workers=max(1, workers) if pushes_can_run_side_by_side() else 1)
        counts = run.counts
        if run.stopped_for is not None:
            self.stderr.write(
                f"DataCite asked the hub to wait {run.stopped_for:g} s; "
                f"{run.left} DOI(s) left for a later run."
            )
        if not quiet or counts[Push.RETRY] or counts[Push.FAILED]:
            summary = ", ".join(f"{counts[key]} {label}" for key, label in OUTCOMES.items())
            self.stdout.write(f"{len(due)} DOI(s) due: {summary}.")


class _Run:
    """One pass over the due DOIs, by ``workers`` threads sharing the process's registrar (its
    pace and its connections). A DOI DataCite refused with "429 Too Many Requests" goes back in
    the queue: the registrar holds every request until the Retry-After has passed."""

    def __init__(self, command: Command, due: list[Doi], *, force: bool, quiet: bool) -> None:
        self.command = command
        self.force = force
        self.quiet = quiet
        self.registrar = get_registrar()
        self.todo: queue.SimpleQueue[Doi] = queue.SimpleQueue()
        for doi in due:
            self.todo.put(doi)
        self.left = len(due)
        self.counts: Counter[str] = Counter()
        self.stopped_for: float | None = None
        self.refusals: Counter[int] = Counter()
        self.lock = threading.Lock()

    def go(self, *, workers: int) -> None:
        if workers == 1:
            self.work()
            return
        threads = [threading.Thread(target=self.work_in_thread) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def work_in_thread(self) -> None:
        try:
            self.work()
        finally:
            connection.close()

    def work(self) -> None:
        while self.stopped_for is None:
            try:
                doi = self.todo.get_nowait()
            except queue.Empty:
                return
            result = Doi.objects.push(doi.pk, registrar=self.registrar, force=self.force)
            if self.may_wait(doi, result):
                self.note(f"DataCite asked the hub to wait {result.retry_after:g} s; waiting.")
                self.todo.put(doi)
                continue
            self.done(doi, result)

    def may_wait(self, doi: Doi, result: Push) -> bool:
        """Whether to push ``doi`` again in this run, after DataCite's Retry-After."""
        if result.retry_after is None or result.retry_after > LONGEST_WAIT:
            return False
        with self.lock:
            self.refusals[doi.pk] += 1
            return self.refusals[doi.pk] < MOST_REFUSALS

    def done(self, doi: Doi, result: Push) -> None:
        with self.lock:
            self.counts[result.outcome] += 1
            self.left -= 1
            if result.retry_after is not None:
                # Refused again and again, or asked to wait longer than a run should: the
                # rest keep their schedule.
                self.stopped_for = result.retry_after
        if result.outcome in (Push.RETRY, Push.FAILED):
            doi.refresh_from_db()
            self.command.stderr.write(f"{doi.doi}: {doi.problem}")
        elif not self.quiet:
            self.command.stdout.write(f"{doi.doi}: {OUTCOMES[result.outcome]}")

    def note(self, message: str) -> None:
        if not self.quiet:
            self.command.stdout.write(message)

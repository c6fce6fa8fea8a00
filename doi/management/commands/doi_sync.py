"""Push to DataCite whatever it has not confirmed yet.

Meant for cron, e.g. every five minutes:

    */5 * * * * cd /srv/hub && .venv/bin/python manage.py doi_sync --quiet

It picks up DOIs whose retry is due, and DOIs queued more than a minute ago that no worker
pushed (the worker died, or the web process was restarted mid-request). Permanent failures
wait for a person (the Retry button, or the admin's "Retry registration"), unless ``--all``.
``--now`` does not wait for the next attempts (after DataCite has recovered); ``--every``
keeps running (``scripts/serve`` starts it so, instead of a cron).
"""

from __future__ import annotations

from collections import Counter
from time import sleep

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from doi.models import Doi, Push
from doi.registrars import RegistrarError, get_registrar

OUTCOMES = {
    Push.DONE: "confirmed by the registrar",
    Push.RETRY: "failed for now (will retry)",
    Push.FAILED: "failed permanently",
    Push.SKIPPED: "skipped (busy or already done)",
}


class Command(BaseCommand):
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
                "DataCite has recovered). Stops at DataCite's first 'too many requests'."
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
        parser.add_argument("--quiet", action="store_true", help="Print only failures.")
        parser.add_argument(
            "--compare",
            action="store_true",
            help="Also fetch every DOI DataCite holds and note the ones whose metadata there "
            "differs from the hub's (listed on the admin's front page). One request per DOI: "
            "run it daily, not every few minutes.",
        )

    def handle(self, *args, every: int | None, **options) -> None:
        if every is None:
            self.sync(**options)
            return
        try:
            while True:
                self.sync(**options)
                # A long-running process: never hold a connection the database has dropped.
                close_old_connections()
                sleep(every)
        except KeyboardInterrupt:
            return

    def sync(
        self, *, all: bool, now: bool, dry_run: bool, quiet: bool, compare: bool, **options
    ) -> None:
        self._push(all=all, now=now, dry_run=dry_run, quiet=quiet)
        if compare and not dry_run:
            self._compare(quiet=quiet)

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

    def _push(self, *, all: bool, now: bool, dry_run: bool, quiet: bool) -> None:
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
        registrar = get_registrar()
        counts: Counter[str] = Counter()
        for doi in due:
            result = Doi.objects.push(doi.pk, registrar=registrar, force=all)
            counts[result.outcome] += 1
            if result.outcome in (Push.RETRY, Push.FAILED):
                doi.refresh_from_db()
                self.stderr.write(f"{doi.doi}: {doi.problem}")
            elif not quiet:
                self.stdout.write(f"{doi.doi}: {OUTCOMES[result.outcome]}")
            if result.retry_after is not None:
                # DataCite limits the whole account, not one DOI: every further request now
                # would be refused as well. The rest keep their schedule.
                left = len(due) - sum(counts.values())
                self.stderr.write(
                    f"DataCite asked the hub to wait {result.retry_after:g} s; "
                    f"{left} DOI(s) left for a later run."
                )
                break
        if not quiet or counts[Push.RETRY] or counts[Push.FAILED]:
            summary = ", ".join(f"{counts[key]} {label}" for key, label in OUTCOMES.items())
            self.stdout.write(f"{len(due)} DOI(s) due: {summary}.")

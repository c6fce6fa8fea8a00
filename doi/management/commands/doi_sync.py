"""Push to DataCite whatever it has not confirmed yet.

Meant for cron, e.g. every five minutes:

    */5 * * * * cd /srv/hub && .venv/bin/python manage.py doi_sync --quiet

It picks up DOIs whose retry is due, and DOIs queued more than a minute ago that no worker
pushed (the worker died, or the web process was restarted mid-request). Permanent failures
wait for a person (the Retry button, or the admin's "Retry registration"), unless ``--all``.
"""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand

from doi.models import Doi, Push
from doi.registrars import get_registrar

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
            "--dry-run", action="store_true", help="List what would be pushed; change nothing."
        )
        parser.add_argument("--quiet", action="store_true", help="Print only failures.")

    def handle(self, *args, all: bool, dry_run: bool, quiet: bool, **options) -> None:
        due = list(Doi.objects.due(include_permanent=all).select_related("repo__namespace"))
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
        if not quiet or counts[Push.RETRY] or counts[Push.FAILED]:
            summary = ", ".join(f"{counts[key]} {label}" for key, label in OUTCOMES.items())
            self.stdout.write(f"{len(due)} DOI(s) due: {summary}.")

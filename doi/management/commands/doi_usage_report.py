"""Print the Make Data Count dataset report (DSR) of the hub's own counts for one month.

    manage.py doi_usage_report 2026-11 > dsr-2026-11.json

The month defaults to the last full one. What is counted: ``doi/usage.py``. Staff with the
permission ``doi.download_usage_report`` download the same in the admin (DOIs → Usage report).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from doi.usage import dataset_report, last_full_month


class Command(BaseCommand):
    help = "Print the Make Data Count dataset report (DSR JSON) of a month, e.g. 2026-11."

    def add_arguments(self, parser):
        parser.add_argument("month", nargs="?", help="YYYY-MM; the last full month if omitted")

    def handle(self, *args, month: str | None = None, **options):
        month = month or last_full_month()
        try:
            report = dataset_report(month)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(report, indent=2))

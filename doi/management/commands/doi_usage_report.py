"""Print the Make Data Count dataset report (DSR) of the hub's own counts for one month.

    manage.py doi_usage_report 2026-11 > dsr-2026-11.json

The month defaults to the last full one. What is counted: ``doi/usage.py``.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from doi.usage import dataset_report


class Command(BaseCommand):
    help = "Print the Make Data Count dataset report (DSR JSON) of a month, e.g. 2026-11."

    def add_arguments(self, parser):
        parser.add_argument("month", nargs="?", help="YYYY-MM; the last full month if omitted")

    def handle(self, *args, month: str | None = None, **options):
        if month is None:
            first = timezone.localdate().replace(day=1)
            month = (first - timedelta(days=1)).strftime("%Y-%m")
        try:
            report = dataset_report(month)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(report, indent=2))

"""Give up large-file uploads that were never finished: run it from cron (README, production)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from repos.models import LfsUpload


class Command(BaseCommand):
    help = (
        "Abort the multipart uploads, delete the staged objects and forget the announced "
        "large files that were never verified and not asked for by the batch API for HOURS, "
        "so they no longer hold space in the store or count against a repository's quota."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=float,
            default=48,
            metavar="HOURS",
            help="untouched for this long (default 48; below LFS_UPLOAD_HOURS, an upload still "
            "under way may be cut off, and its client has to start it again)",
        )

    def handle(self, *args, older_than: float, **options) -> None:
        if older_than < 0:
            raise CommandError(f"--older-than must be 0 or more hours, not {older_than}.")
        if older_than < settings.LFS_UPLOAD_HOURS:
            self.stderr.write(
                f"Uploads younger than LFS_UPLOAD_HOURS ({settings.LFS_UPLOAD_HOURS}) may still "
                "be under way: those cut off now have to be started again."
            )
        before = timezone.now() - timedelta(hours=older_than)
        uploads, leftovers = LfsUpload.objects.discard_abandoned(before)
        self.stdout.write(
            f"Gave up {uploads} unverified large-file upload(s) and {leftovers} leftover(s) in "
            f"the store (of deleted repositories) untouched since {before:%Y-%m-%d %H:%M} UTC."
        )

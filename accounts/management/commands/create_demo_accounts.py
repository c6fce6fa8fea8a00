"""Create, once, a staff account and a demo user for local development (scripts/serve)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User

DEMO_ACCOUNTS = [
    {"username": "staff", "full_name": "Hub Staff", "is_staff": True, "is_superuser": True},
    {"username": "demo", "full_name": "Demo User", "is_staff": False, "is_superuser": False},
]


class Command(BaseCommand):
    help = "Create a staff account and a demo user with printed passwords (development only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo accounts are only created with DJANGO_DEBUG=true.")
        for account in DEMO_ACCOUNTS:
            if User.objects.filter(username=account["username"]).exists():
                continue
            password = secrets.token_urlsafe(12)
            User.objects.create_user(
                email=f"{account['username']}@example.org", password=password, **account
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Created {'staff account' if account['is_staff'] else 'demo user'}: "
                    f"username {account['username']!r}, password {password!r}"
                )
            )

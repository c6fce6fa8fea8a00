"""Rolling-window quotas (DOIs, support requests, sign-ups) and how to tell a person when they
may try again."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.timesince import timeuntil

DAY = timedelta(days=1)


def full_until(
    rows: QuerySet, field: str, *, limit: int, window: timedelta, now: datetime | None = None
) -> datetime | None:
    """When one more row may be added, if ``rows`` already has ``limit`` rows whose ``field``
    falls in the last ``window``; None while there is room. A limit of 0 means no limit."""
    if not limit:
        return None
    now = now or timezone.now()
    recent = rows.filter(**{f"{field}__gt": now - window}).order_by(f"-{field}")
    # The limit-th newest: once it has left the window, fewer than ``limit`` remain in it.
    oldest_counted = recent.values_list(field, flat=True)[limit - 1 : limit].first()
    return oldest_counted + window if oldest_counted is not None else None


def try_again(moment: datetime, now: datetime | None = None) -> str:
    """ "after 14:05 UTC on 30 November 2026 (in 3 hours, 12 minutes)", the minute rounded up so
    that the time shown is never early."""
    if moment.second or moment.microsecond:
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    local = timezone.localtime(moment)
    return (
        f"after {format_date(local, 'H:i T')} on {format_date(local, 'j F Y')} "
        f"(in {timeuntil(moment, now or timezone.now())})"
    )

"""The hub's own usage counts per DOI, by the COUNTER Code of Practice for Research Data, and
the Make Data Count dataset report (DSR) made of them.

What is counted: an *investigation* each time ``/doi/<doi>`` is answered to a person (the
redirect to the repository at the DOI's revision, or the DOI's own page); a *request* (a
download of the data, which is an investigation too) through ``count(..., request=True)``.
Citations in a format (``?format=``, content negotiation) are not counted: they are not the data.

What is never stored: no address, user agent or user id. A session is a SHA-256 of a salt, the
address, the user agent and the hour (COUNTER's session for visitors without a cookie); the salt
is random, made once a day and kept only in the cache until the day ends, so a hash cannot be
linked across days or recomputed later. Double-clicks (the same session, DOI and kind within
30 seconds) count once; the first time in a session counts as unique. User agents in the
COUNTER-Robots list (``doi/data/COUNTER_Robots_list.txt``, MIT, github.com/atmire/COUNTER-Robots)
are not counted. The cache keeps only hashes, for at most an hour; the database keeps a row of
four numbers per DOI per day, written with one upsert per counted answer.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import secrets
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import connection
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from accounts.lockout import client_ip
from doi.metadata import publisher
from doi.models import Doi, DoiUsageDay

ROBOTS_FILE = Path(__file__).parent / "data" / "COUNTER_Robots_list.txt"
DOUBLE_CLICK_SECONDS = 30
SESSION_SECONDS = 3600


@cache
def _robots() -> re.Pattern[str]:
    patterns = [line.strip() for line in ROBOTS_FILE.read_text().splitlines() if line.strip()]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def is_robot(user_agent: str) -> bool:
    """Whether COUNTER counts a client with this user agent as a robot (no agent: a robot too)."""
    return not user_agent or _robots().search(user_agent) is not None


def _salt(now: datetime) -> str:
    """Today's salt: random, kept in the cache until the day ends and never written elsewhere."""
    today = timezone.localdate(now)
    key = f"doi-usage:salt:{today.isoformat()}"
    end = timezone.make_aware(datetime.combine(today + timedelta(days=1), time()))
    django_cache.add(key, secrets.token_hex(16), timeout=max(1, (end - now).total_seconds()))
    return django_cache.get(key) or ""


def _session(request: HttpRequest, now: datetime) -> str:
    agent = request.META.get("HTTP_USER_AGENT", "")
    hour = timezone.localtime(now).strftime("%Y-%m-%dT%H")
    raw = "\n".join([_salt(now), client_ip(request) or "", agent, hour])
    return hashlib.sha256(raw.encode()).hexdigest()


def count(request: HttpRequest, doi: Doi, *, request_kind: bool = False) -> bool:
    """Count one answer about ``doi`` (an investigation; a request too if ``request_kind``), by
    COUNTER's rules. Returns whether it counted (robots and double-clicks do not)."""
    if is_robot(request.META.get("HTTP_USER_AGENT", "")):
        return False
    now = timezone.now()
    session = _session(request, now)
    kind = "request" if request_kind else "investigation"
    if not django_cache.add(f"doi-usage:click:{session}:{doi.pk}:{kind}", 1, DOUBLE_CLICK_SECONDS):
        return False
    first = django_cache.add(f"doi-usage:seen:{session}:{doi.pk}:{kind}", 1, SESSION_SECONDS)
    # A request is an investigation too; its uniqueness is the request's.
    counts = {"total_investigations": 1, "unique_investigations": int(first)}
    if request_kind:
        counts |= {"total_requests": 1, "unique_requests": int(first)}
    _add(doi.pk, timezone.localdate(now), counts)
    return True


def _add(doi_id: int, day: date, counts: dict[str, int]) -> None:
    """Add ``counts`` to the DOI's row for ``day`` in one statement, safe under concurrency."""
    table = DoiUsageDay._meta.db_table
    columns = [
        "total_investigations",
        "unique_investigations",
        "total_requests",
        "unique_requests",
    ]
    values = [counts.get(c, 0) for c in columns]
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (doi_id, day, {', '.join(columns)}) "  # noqa: S608 (names are ours)
            f"VALUES (%s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT (doi_id, day) DO UPDATE SET {updates}",
            [doi_id, day, *values],
        )


METRICS = {
    "total_investigations": "total-dataset-investigations",
    "unique_investigations": "unique-dataset-investigations",
    "total_requests": "total-dataset-requests",
    "unique_requests": "unique-dataset-requests",
}


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of ``month`` ("YYYY-MM"); ValueError if it is not one."""
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise ValueError(f"{month!r} is not a month: give it as YYYY-MM, e.g. 2026-11.")
    year, number = (int(part) for part in month.split("-"))
    if not 1 <= number <= 12:
        raise ValueError(f"{month!r} is not a month: the month is 01 to 12.")
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def dataset_report(month: str, *, created_by: str = "") -> dict:
    """The Make Data Count dataset master report (DSR, release rd1) of ``month``: one dataset
    per DOI that was counted, with the four COUNTER metrics of that month."""
    begin, end = month_bounds(month)
    period = {"begin-date": begin.isoformat(), "end-date": end.isoformat()}
    rows = (
        DoiUsageDay.objects.filter(day__range=(begin, end))
        .values("doi")
        .annotate(**{name: Sum(name) for name in METRICS})
        .order_by("doi")
    )
    totals = {row["doi"]: row for row in rows}
    dois = Doi.objects.filter(pk__in=totals).select_related("repo__namespace").order_by("doi")
    client_id = settings.DATACITE_REPOSITORY_ID or ""
    datasets = []
    for doi in dois:
        row = totals[doi.pk]
        instances = [
            {"count": row[name], "metric-type": metric, "access-method": "regular"}
            for name, metric in METRICS.items()
            if row[name]
        ]
        datasets.append(
            {
                "dataset-title": doi.repo.full_name,
                "dataset-id": [{"type": "doi", "value": doi.doi}],
                "platform": settings.SITE_NAME,
                "publisher": publisher()["name"],
                "publisher-id": [{"type": "client-id", "value": client_id}],
                "data-type": "dataset",
                "yop": str(doi.created_at.year),
                "access-method": "regular",
                "performance": [{"period": period, "instance": instances}],
            }
        )
    return {
        "report-header": {
            "report-name": "dataset report",
            "report-id": "DSR",
            "release": "rd1",
            "created": timezone.localdate().isoformat(),
            "created-by": created_by or settings.SITE_NAME,
            "reporting-period": period,
            "report-filters": [],
            "report-attributes": [],
            "exceptions": [],
        },
        "report-datasets": datasets,
    }

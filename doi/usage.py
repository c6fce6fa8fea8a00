"""The hub's own usage counts per DOI, by the COUNTER Code of Practice for Research Data, and
the Make Data Count dataset report (DSR) made of them.

What is counted, per DOI, day and access method (COUNTER's *regular*: a person at the site;
*machine*: a program, the Hub API):

- an *investigation* each time ``/doi/<doi>`` is answered to a person (the redirect to the
  repository at the DOI's revision, or the DOI's own page), regular;
- a *request* (which is an investigation too) each download of a file of the revision a version
  DOI names, whatever address named the revision (its id, its first characters, or ``main``
  while it is the head: the bytes are that DOI's either way): the site's file view (regular)
  and the API's ``resolve`` GET (machine), or its redirect to the object store, to HEAD too
  (the client takes the store's address from its HEAD and the hub hears no more of it).
  ``repos`` says so with ``repos.signals.downloaded``; a revision without a DOI counts nothing.
  A concept DOI gets no requests of its own: its files are its versions'.

Citations in a format (``?format=``, content negotiation) are not counted: they are not the data.

What is never stored: no address, user agent or user id. A session is a SHA-256 of a salt, the
address, the user agent and the hour (COUNTER's session for visitors without a cookie); the salt
is random, made once a day and kept only in the cache until the day ends, so a hash cannot be
linked across days or recomputed later. Double-clicks (the same session asking for the same
page or file within 30 seconds) count once; the first investigation and the first request of a
dataset in a session count as unique (a version DOI's landing view and its downloads are one
dataset). User agents in the COUNTER-Robots list (``doi/data/COUNTER_Robots_list.txt``, MIT,
github.com/atmire/COUNTER-Robots) are not counted at the site; the list is not applied to the
API, whose every client is a program (huggingface_hub's agent says ``python/…``, which the list
matches): that is machine access. The cache keeps only hashes, for at most an hour; the
database keeps a row of four numbers per DOI, day and access method, written with one upsert
per counted answer.
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


def count(request: HttpRequest, doi_id: int, revision_id: int | None) -> bool:
    """Count ``/doi/<doi>`` answered to a person as an investigation of the DOI ``doi_id``, by
    COUNTER's rules: ``revision_id`` is the revision a version DOI names, None for a concept
    DOI. Returns whether it counted (robots and double-clicks do not)."""
    if is_robot(request.META.get("HTTP_USER_AGENT", "")):
        return False
    # A version DOI is known by its revision, as its downloads are (``count_download``), so
    # that a session's first look at it is unique once, whichever it began with.
    dataset = f"doi{doi_id}" if revision_id is None else f"rev{revision_id}"
    counts = _counts(request, dataset, item="", regular=True, download=False)
    if counts is None:
        return False
    _add(doi_id, counts[0], DoiUsageDay.AccessMethod.REGULAR, counts[1])
    return True


def count_download(request: HttpRequest, revision_id: int, path: str, *, machine: bool) -> bool:
    """Count a download of the file ``path`` at a revision as a request (and an investigation)
    of the version DOI naming that revision, if DataCite has one: ``machine`` for the Hub API,
    regular for the site, where COUNTER's robots are not counted. Returns whether it was
    counted (a revision without a DOI costs the same one statement, which adds nothing)."""
    regular = not machine
    if regular and is_robot(request.META.get("HTTP_USER_AGENT", "")):
        return False
    counts = _counts(request, f"rev{revision_id}", item=path, regular=regular, download=True)
    if counts is None:
        return False
    method = DoiUsageDay.AccessMethod.MACHINE if machine else DoiUsageDay.AccessMethod.REGULAR
    day, values = counts
    table, dois = DoiUsageDay._meta.db_table, Doi._meta.db_table
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)
    # One statement: the DOI is found and its row added to together.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (doi_id, day, access_method, {', '.join(COLUMNS)}) "  # noqa: S608 (names are ours)
            f"SELECT id, %s, %s, %s, %s, %s, %s FROM {dois} "
            f"WHERE revision_id = %s AND kind = %s AND discarded_at IS NULL "
            f"AND remote_state IN (%s, %s) "
            f"ON CONFLICT (doi_id, day, access_method) DO UPDATE SET {updates}",
            [
                day,
                method,
                *values,
                revision_id,
                Doi.Kind.VERSION,
                Doi.RemoteState.FINDABLE,
                Doi.RemoteState.REGISTERED,
            ],
        )
    return True


COLUMNS = ["total_investigations", "unique_investigations", "total_requests", "unique_requests"]


def _counts(
    request: HttpRequest, dataset: str, *, item: str, regular: bool, download: bool
) -> tuple[date, list[int]] | None:
    """The day and the numbers (``COLUMNS``) one answer about ``dataset`` adds, or None for a
    double-click: the same session asking for the same ``item`` (a file, or "" for the DOI's
    page) again within 30 seconds. Unique: the session's first investigation (and request)
    of the dataset."""
    now = timezone.now()
    session = _session(request, now)
    key = f"doi-usage:{session}:{dataset}:{'r' if regular else 'm'}"
    item_digest = hashlib.sha256(item.encode()).hexdigest()[:16]
    if not django_cache.add(f"{key}:click:{item_digest}", 1, DOUBLE_CLICK_SECONDS):
        return None
    first_look = django_cache.add(f"{key}:seen:investigation", 1, SESSION_SECONDS)
    values = [1, int(first_look), 0, 0]
    if download:
        values[2:] = [1, int(django_cache.add(f"{key}:seen:request", 1, SESSION_SECONDS))]
    return timezone.localdate(now), values


def _add(doi_id: int, day: date, method: str, values: list[int]) -> None:
    """Add ``values`` (``COLUMNS``) to the DOI's row for ``day`` and ``method`` in one
    statement, safe under concurrency."""
    table = DoiUsageDay._meta.db_table
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (doi_id, day, access_method, {', '.join(COLUMNS)}) "  # noqa: S608 (names are ours)
            f"VALUES (%s, %s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT (doi_id, day, access_method) DO UPDATE SET {updates}",
            [doi_id, day, method, *values],
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


def last_full_month() -> str:
    """The month before this one, as "YYYY-MM": the report one usually wants."""
    first = timezone.localdate().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def dataset_report(month: str, *, created_by: str = "") -> dict:
    """The Make Data Count dataset master report (DSR, release rd1) of ``month``: one dataset
    per DOI that was counted, with the four COUNTER metrics of that month per access method
    (instances with a count of zero are left out, as the format asks)."""
    begin, end = month_bounds(month)
    period = {"begin-date": begin.isoformat(), "end-date": end.isoformat()}
    rows = (
        DoiUsageDay.objects.filter(day__range=(begin, end))
        .values("doi", "access_method")
        .annotate(**{name: Sum(name) for name in METRICS})
        .order_by("doi", "access_method")
    )
    instances: dict[int, list[dict]] = {}
    for row in rows:
        instances.setdefault(row["doi"], []).extend(
            {"count": row[name], "metric-type": metric, "access-method": row["access_method"]}
            for name, metric in METRICS.items()
            if row[name]
        )
    dois = Doi.objects.filter(pk__in=instances).select_related("repo__namespace").order_by("doi")
    client_id = settings.DATACITE_REPOSITORY_ID or ""
    datasets = [
        {
            "dataset-title": doi.repo.full_name,
            "dataset-id": [{"type": "doi", "value": doi.doi}],
            "platform": settings.SITE_NAME,
            "publisher": publisher()["name"],
            "publisher-id": [{"type": "client-id", "value": client_id}],
            "data-type": "dataset",
            "yop": str(doi.created_at.year),
            "performance": [{"period": period, "instance": instances[doi.pk]}],
        }
        for doi in dois
    ]
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

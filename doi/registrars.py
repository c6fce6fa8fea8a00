"""Where DOIs are registered: DataCite's REST API, or nowhere (the local sandbox).

Chosen by ``settings.DOI_REGISTRAR`` like Django's email backends: ``"datacite"``, ``"local"``,
or the dotted path of a ``Registrar`` subclass. This is the only module that talks HTTP.
"""

from __future__ import annotations

import email.utils
import functools
import json
import threading
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

REGISTRARS = {
    "datacite": "doi.registrars.DataCiteRegistrar",
    "local": "doi.registrars.LocalRegistrar",
}
MEDIA_TYPE = "application/vnd.api+json"
# The longest wait a Retry-After can ask for; beyond it the usual back-off applies again.
RETRY_AFTER_MAX = 24 * 60 * 60
# DOIs in each page of GET /dois (DataCite's most).
USAGE_PAGE_SIZE = 1000
# Events in each page of GET /events (DataCite's most).
EVENTS_PAGE_SIZE = 1000
# The events through which a work cites a DOI, as DataCite's event data names their relation
# (the ones DataCite counts in citationCount): the citing work as the event's subject …
CITING_AS_SUBJECT = ("cites", "references", "is-supplement-to")
# … or, said from the cited side, as its object.
CITING_AS_OBJECT = ("is-cited-by", "is-referenced-by", "is-supplemented-by")
# Connections kept open to DataCite per process: enough for doi_sync's workers side by side.
POOL_SIZE = 16


class RegistrarError(Exception):
    """A request to the registrar failed. ``message`` says in plain words what happened, as
    the start of a sentence without a full stop (``Doi.problem`` adds what happens next);
    ``permanent`` says whether trying the same request again can help."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.status = status


@dataclass(frozen=True)
class Usage:
    """What DataCite counted for a DOI: citations (from its event data), views and downloads
    (from the usage reports repositories send it)."""

    citations: int = 0
    views: int = 0
    downloads: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.citations + other.citations,
            self.views + other.views,
            self.downloads + other.downloads,
        )


@dataclass(frozen=True)
class CitingWork:
    """A work that cites a DOI, as DataCite's event data knows it: its DOI (or URL, for a work
    without one), how it relates (DataCite's relation type id), and when the event occurred."""

    identifier: str
    relation: str
    occurred_at: str = ""

    @property
    def is_doi(self) -> bool:
        return self.identifier.startswith("10.")


class Registrar:
    """Registers DOIs. ``upsert`` creates or updates and returns the attributes the registrar
    now holds (at least ``state``); ``get`` returns them, or None for an unknown DOI;
    ``usage`` returns the counts of every DOI of the account, by upper-case DOI;
    ``citing_works`` the works that cite one DOI."""

    is_sandbox = False
    name = ""

    def usage(self) -> dict[str, Usage]:
        raise NotImplementedError

    def citing_works(self, doi: str) -> list[CitingWork]:
        raise NotImplementedError

    def upsert(self, doi: str, attributes: dict, event: str | None = None) -> dict:
        raise NotImplementedError

    def get(self, doi: str) -> dict | None:
        raise NotImplementedError

    def delete(self, doi: str) -> None:
        """Delete a draft (DataCite refuses others); one it does not have counts as deleted."""
        raise NotImplementedError


def get_registrar() -> Registrar:
    """The process's registrar: one per process, so that its connections to DataCite are kept
    open between requests and all its requests share one pace."""
    return _registrar(REGISTRARS.get(settings.DOI_REGISTRAR, settings.DOI_REGISTRAR))


@functools.cache
def _registrar(path: str) -> Registrar:
    return import_string(path)()


@receiver(setting_changed)
def _forget_registrar(*, setting: str, **kwargs) -> None:
    if setting.startswith(("DOI_REGISTRAR", "DATACITE_")):
        _registrar.cache_clear()


class Pacer:
    """Spaces requests evenly, at most ``per_minute`` a minute (0: no limit), across the threads
    that share it; ``hold_off`` makes every request wait, as after DataCite's "429 Too Many
    Requests". After a pause, up to ``burst`` requests may go at once (a Generate DOI pushes
    two or three DOIs side by side), never more: DataCite counts in windows of its own, which
    a minute's worth sent at once would overrun."""

    def __init__(
        self, per_minute: int, *, burst: int = 4, clock=time.monotonic, sleep=time.sleep
    ) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._slack = (burst - 1) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Wait for this request's turn."""
        with self._lock:
            now = self._clock()
            turn = max(now - self._slack, self._next)
            self._next = turn + self.interval
        if turn > now:
            self._sleep(turn - now)

    def hold_off(self, seconds: float) -> None:
        """No request before ``seconds`` from now."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


class LocalRegistrar(Registrar):
    """Registers nothing outside and keeps nothing: every DOI it "registers" is a sandbox DOI
    that resolves nowhere but on this site."""

    is_sandbox = True
    name = "Sandbox (nothing is registered outside this site)"

    def upsert(self, doi: str, attributes: dict, event: str | None = None) -> dict:
        states = {"publish": "findable", "register": "registered", "hide": "registered"}
        return {**attributes, "doi": doi, "state": states.get(event)}

    def get(self, doi: str) -> dict | None:
        return None

    def usage(self) -> dict[str, Usage]:
        return {}

    def citing_works(self, doi: str) -> list[CitingWork]:
        return []

    def delete(self, doi: str) -> None:
        return None


class DataCiteRegistrar(Registrar):
    """DataCite's REST API (https://support.datacite.org/reference/put_dois-id)."""

    name = "DataCite"

    def __init__(self) -> None:
        self.base_url = settings.DATACITE_API_URL.rstrip("/")
        self.timeout = settings.DATACITE_TIMEOUT
        self.pacer = Pacer(settings.DATACITE_REQUESTS_PER_MINUTE)
        # One session for the process: HTTP keep-alive saves a TCP and TLS handshake a request.
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.auth = (settings.DATACITE_REPOSITORY_ID, settings.DATACITE_PASSWORD)
        self.session.headers.update({"Accept": MEDIA_TYPE, "Content-Type": MEDIA_TYPE})

    @property
    def is_sandbox(self) -> bool:  # type: ignore[override]
        return "api.test.datacite.org" in self.base_url

    def upsert(self, doi: str, attributes: dict, event: str | None = None) -> dict:
        """PUT /dois/{doi}: creates the DOI if DataCite does not have it, so a retry after a
        lost answer does no harm."""
        body_attributes = {**attributes, "doi": doi}
        if event:
            body_attributes["event"] = event
        body = {"data": {"type": "dois", "attributes": body_attributes}}
        response = self._request("PUT", f"{self.base_url}/dois/{doi}", data=json.dumps(body))
        return self._attributes(response)

    def get(self, doi: str) -> dict | None:
        response = self._request("GET", f"{self.base_url}/dois/{doi}", missing_ok=True)
        if response is None:
            return None
        return self._attributes(response)

    def delete(self, doi: str) -> None:
        """DELETE /dois/{doi}: 204 for a draft; 405 for any other (a DOI that must stay)."""
        try:
            self._request("DELETE", f"{self.base_url}/dois/{doi}", missing_ok=True)
        except RegistrarError as exc:
            if exc.status != 405:
                raise
            # Published at DataCite some other way (in Fabrica, say): it resolves, so it stays.
            raise RegistrarError(
                "DataCite deletes only drafts, and this DOI is no longer a draft there (HTTP 405): "
                "it may resolve, and staff must decide what it should lead to",
                permanent=True,
                status=405,
            ) from None

    def usage(self) -> dict[str, Usage]:
        """GET /dois?client-id=…, following ``links.next``: a thousand DOIs a request, each
        paced like any other, with only the three counts in each record."""
        url: str | None = f"{self.base_url}/dois"
        params: dict | None = {
            "client-id": settings.DATACITE_REPOSITORY_ID.lower(),
            "fields[dois]": "citationCount,viewCount,downloadCount",
            "page[size]": USAGE_PAGE_SIZE,
            "page[cursor]": 1,
        }
        found: dict[str, Usage] = {}
        while url:
            page = self._page(self._request("GET", url, params=params))
            for item in page["data"]:
                found[item["id"].upper()] = _usage(item.get("attributes") or {})
            url, params = page["next"], None
            if url and not url.startswith(f"{self.base_url}/"):
                # Only ever to DataCite, whatever a page says.
                raise RegistrarError("DataCite's next page is not on its API", permanent=False)
        return found

    def citing_works(self, doi: str) -> list[CitingWork]:
        """GET /events?doi=…&relation-type-id=…: the citation events of ``doi`` (public event
        data), a thousand a page, following ``links.next``; each citing work once, oldest
        event first."""
        url: str | None = f"{self.base_url}/events"
        params: dict | None = {
            "doi": doi.lower(),
            "relation-type-id": ",".join(CITING_AS_SUBJECT + CITING_AS_OBJECT),
            "page[size]": EVENTS_PAGE_SIZE,
        }
        found: dict[str, CitingWork] = {}
        while url:
            page = self._page(self._request("GET", url, params=params))
            for item in page["data"]:
                work = _citing_work(doi, item.get("attributes") or {})
                if work is not None and work.identifier.upper() not in found:
                    found[work.identifier.upper()] = work
            url, params = page["next"], None
            if url and not url.startswith(f"{self.base_url}/"):
                raise RegistrarError("DataCite's next page is not on its API", permanent=False)
        return sorted(found.values(), key=lambda w: (w.occurred_at, w.identifier))

    def _page(self, response) -> dict:
        try:
            document = response.json()
            data = document["data"]
            if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
                raise TypeError
            return {"data": data, "next": (document.get("links") or {}).get("next")}
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RegistrarError(
                "DataCite answered with something the hub could not read",
                permanent=False,
                status=response.status_code,
            ) from None

    def _request(self, method: str, url: str, *, missing_ok: bool = False, **kwargs):
        self.pacer.wait()
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            # DataCite may have done it anyway: the retry is a PUT of the same DOI, so harmless.
            raise RegistrarError("DataCite did not answer in time", permanent=False) from None
        except requests.RequestException:
            raise RegistrarError("DataCite could not be reached", permanent=False) from None
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            error = _error_for(response)
            if error.retry_after is not None:
                # The limit is the account's: no request of this process may go before then.
                self.pacer.hold_off(error.retry_after)
            raise error
        return response

    def _attributes(self, response) -> dict:
        try:
            attributes = response.json()["data"]["attributes"]
            if not isinstance(attributes, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            # The change was probably made, but unconfirmed it must not count: the same PUT
            # again is harmless, so this is transient.
            raise RegistrarError(
                "DataCite answered with something the hub could not read",
                permanent=False,
                status=response.status_code,
            ) from None
        return attributes


def _usage(attributes: dict) -> Usage:
    """The counts in a DOI's attributes; a missing or unreadable one counts as none."""

    def count(key: str) -> int:
        value = attributes.get(key)
        return value if isinstance(value, int) and value >= 0 else 0

    return Usage(count("citationCount"), count("viewCount"), count("downloadCount"))


def _citing_work(doi: str, attributes: dict) -> CitingWork | None:
    """The work on the other end of a citation event of ``doi``, or None for an event that is
    not one (or is unreadable)."""
    relation = attributes.get("relation-type-id")
    subject, obj = _event_id(attributes.get("subj-id")), _event_id(attributes.get("obj-id"))
    if relation in CITING_AS_SUBJECT and obj.upper() == doi.upper():
        other = subject
    elif relation in CITING_AS_OBJECT and subject.upper() == doi.upper():
        other = obj
    else:
        return None
    if not other or other.upper() == doi.upper():
        return None
    occurred = attributes.get("occurred-at")
    return CitingWork(other, relation, occurred[:10] if isinstance(occurred, str) else "")


def _event_id(value) -> str:
    """An event's subject or object: a DOI (``https://doi.org/10.…`` as a bare DOI), else the
    URL as it is; "" for anything else."""
    if not isinstance(value, str):
        return ""
    value = value.strip()
    lowered = value.lower()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if lowered.startswith(prefix):
            return value[len(prefix) :]
    return value if lowered.startswith(("https://", "http://")) else ""


def _error_for(response) -> RegistrarError:
    status = response.status_code
    details = _error_details(response)
    in_brackets = f" ({details})" if details else ""
    if status == 429:
        # Rate limited: wait as long as DataCite asks.
        return RegistrarError(
            "DataCite asked the hub to send fewer requests",
            permanent=False,
            retry_after=_retry_after(response.headers.get("Retry-After")),
            status=status,
        )
    if status >= 500:
        # DataCite (or a proxy in front of it) is down or overloaded: worth retrying.
        return RegistrarError(
            f"DataCite is not working properly right now (HTTP {status})",
            permanent=False,
            status=status,
        )
    if status == 409:
        # A conflicting change in progress at DataCite; the same idempotent PUT later succeeds.
        return RegistrarError(
            f"DataCite reported a conflicting change{in_brackets}",
            permanent=False,
            status=status,
        )
    # Everything below needs a person: the same request will be refused again.
    if status == 401:
        message = (
            "DataCite did not accept the hub's credentials (staff must correct the DataCite "
            "account settings)"
        )
    elif status == 403:
        message = (
            "DataCite refused because the hub's account may not register DOIs with this prefix "
            f"(staff must check the account{': ' + details if details else ''})"
        )
    elif status == 404:
        message = (
            "DataCite's API was not found at the configured address (staff must correct "
            "DATACITE_API_URL)"
        )
    elif status == 422:
        message = f"DataCite rejected the metadata ({details or 'it gave no reason'})"
    else:
        # 405 (not allowed in this state), 406/415 (content type): a bug here, not at DataCite.
        message = f"DataCite refused the request (HTTP {status}){in_brackets}"
    return RegistrarError(message, permanent=True, status=status)


def _error_details(response) -> str:
    """DataCite's ``errors[]`` as "source — title; …"."""
    try:
        errors = response.json().get("errors", [])
    except (ValueError, AttributeError):
        return ""
    parts = []
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict) or not error.get("title"):
            continue
        source = error.get("source")
        parts.append(f"{source} — {error['title']}" if source else str(error["title"]))
    return "; ".join(parts)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds: either a number of seconds or an HTTP date, at most a day."""
    if not value:
        return None
    value = value.strip()
    # ASCII digits only: "²".isdigit() is true, yet float("²") fails.
    if value.isascii() and value.isdigit():
        return min(float(value), RETRY_AFTER_MAX)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(0.0, when.timestamp() - time.time()), RETRY_AFTER_MAX)

"""Where DOIs are registered: DataCite's REST API, or nowhere (the local sandbox).

Chosen by ``settings.DOI_REGISTRAR`` like Django's email backends: ``"datacite"``, ``"local"``,
or the dotted path of a ``Registrar`` subclass. This is the only module that talks HTTP.
"""

from __future__ import annotations

import email.utils
import json
import time

import requests
from django.conf import settings
from django.utils.module_loading import import_string

REGISTRARS = {
    "datacite": "doi.registrars.DataCiteRegistrar",
    "local": "doi.registrars.LocalRegistrar",
}
MEDIA_TYPE = "application/vnd.api+json"
# The longest wait a Retry-After can ask for; beyond it the usual back-off applies again.
RETRY_AFTER_MAX = 24 * 60 * 60


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


class Registrar:
    """Registers DOIs. ``upsert`` creates or updates and returns the attributes the registrar
    now holds (at least ``state``); ``get`` returns them, or None for an unknown DOI."""

    is_sandbox = False
    name = ""

    def upsert(self, doi: str, attributes: dict, event: str | None = None) -> dict:
        raise NotImplementedError

    def get(self, doi: str) -> dict | None:
        raise NotImplementedError


def get_registrar() -> Registrar:
    path = REGISTRARS.get(settings.DOI_REGISTRAR, settings.DOI_REGISTRAR)
    return import_string(path)()


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


class DataCiteRegistrar(Registrar):
    """DataCite's REST API (https://support.datacite.org/reference/put_dois-id)."""

    name = "DataCite"

    def __init__(self) -> None:
        self.base_url = settings.DATACITE_API_URL.rstrip("/")
        self.timeout = settings.DATACITE_TIMEOUT
        self.session = requests.Session()
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
        response = self._request("PUT", doi, data=json.dumps(body))
        return self._attributes(response)

    def get(self, doi: str) -> dict | None:
        response = self._request("GET", doi, missing_ok=True)
        if response is None:
            return None
        return self._attributes(response)

    def _request(self, method: str, doi: str, *, missing_ok: bool = False, **kwargs):
        url = f"{self.base_url}/dois/{doi}"
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
            raise _error_for(response)
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

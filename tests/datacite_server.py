"""A local HTTP server that behaves like DataCite's REST API, for tests.

It speaks JSON:API with Basic auth, keeps DOIs in memory with DataCite's state machine (draft,
registered, findable; events publish, register, hide; nothing goes back to draft), answers
``PUT /dois/{doi}`` as an upsert (201 created, 200 updated), validates what findable DOIs need
(422 with ``errors[]``), and can inject faults into the next requests:

    datacite.fail("ok", "503", "timeout")   # the next three requests
    datacite.go_down() / datacite.come_back()   # connections refused

and stop a request to one DOI half-way, to kill the hub's process at that exact point:

    held = datacite.hold(doi)                    # the next PUT of doi waits, unprocessed …
    held = datacite.hold(doi, after_change=True) # … or processed, with the answer waiting
    held.wait_arrived(timeout); …; held.release()   # or held.drop(): closed, nothing changed

Use the ``datacite`` fixture (``from tests.datacite_server import datacite`` in a conftest).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pytest

MEDIA_TYPE = "application/vnd.api+json"
REPOSITORY_ID = "HUB.TEST"
PASSWORD = "datacite-test-password"
PREFIXES = ("10.5072",)
DOI_PATTERN = re.compile(r"^10\.\d{4,5}/[-._;()/:a-zA-Z0-9*~$=]+$")
# What DataCite requires before a DOI may leave the draft state.
REQUIRED = {
    "url": lambda a: a.get("url"),
    "creators": lambda a: a.get("creators"),
    "titles": lambda a: a.get("titles"),
    "publisher": lambda a: a.get("publisher"),
    "publicationYear": lambda a: a.get("publicationYear"),
    "types": lambda a: (a.get("types") or {}).get("resourceTypeGeneral"),
}
TRANSITIONS = {
    "publish": {"draft": "findable", "registered": "findable", "findable": "findable"},
    "register": {"draft": "registered", "registered": "registered"},
    "hide": {"findable": "registered"},
}
FAULTS = ("ok", "drop", "timeout", "500", "502", "503", "429", "401", "422", "malformed")


class Hold:
    """A PUT of one DOI stopped at the server until ``release`` (carry on) or ``drop`` (close
    the connection; only for a hold before the change, so that DataCite changes nothing)."""

    def __init__(self, doi: str, *, after_change: bool) -> None:
        self.doi = doi
        self.after_change = after_change
        self.arrived = threading.Event()
        self.dropped = False
        self._go = threading.Event()

    def wait_arrived(self, timeout: float) -> bool:
        return self.arrived.wait(timeout)

    def release(self) -> None:
        self._go.set()

    def drop(self) -> None:
        self.dropped = True
        self._go.set()

    def _stop_here(self) -> None:
        self.arrived.set()
        self._go.wait(timeout=300)


class FakeDataCite:
    """The server's state, shared with the handler threads."""

    def __init__(self, *, slow_seconds: float = 1.0) -> None:
        self.records: dict[str, dict] = {}  # upper-case DOI → {"state", "attributes"}
        self.requests: list[dict] = []
        self.faults: deque[str] = deque()
        self.holds: dict[str, Hold] = {}  # upper-case DOI → the next PUT of it stops here
        self.retry_after = "1"
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Control ------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeDataCite:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def go_down(self) -> None:
        """Stop listening: connections are refused until ``come_back``."""
        self.stop()

    def come_back(self) -> None:
        self.start()

    def fail(self, *faults: str) -> None:
        """Apply ``faults`` to the next requests, one each, in order."""
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"Unknown fault {fault!r}; one of {FAULTS}")
        self.faults.extend(faults)

    def recover(self) -> None:
        self.faults.clear()
        if self._server is None:
            self.come_back()

    def hold(self, doi: str, *, after_change: bool = False) -> Hold:
        """Stop the next PUT of ``doi``: before DataCite changes anything, or, ``after_change``,
        once the change is made but before the answer is sent."""
        hold = Hold(doi, after_change=after_change)
        with self.lock:
            self.holds[doi.upper()] = hold
        return hold

    def state(self, doi: str) -> str | None:
        record = self.records.get(doi.upper())
        return record["state"] if record else None

    def attributes(self, doi: str) -> dict:
        return self.records[doi.upper()]["attributes"]

    def requests_for(self, doi: str, method: str = "PUT") -> list[dict]:
        return [
            r for r in self.requests if r["method"] == method and r["doi"].upper() == doi.upper()
        ]

    # Behaviour ----------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict, object]:
        """Returns (status, headers, body); body is a dict (JSON), bytes (raw) or None."""
        fault = self.faults.popleft() if self.faults else None
        fault = None if fault == "ok" else fault
        doi = unquote(path[len("/dois/") :]) if path.startswith("/dois/") else ""
        with self.lock:
            self.requests.append(
                {"method": method, "path": path, "doi": doi, "fault": fault, "body": body}
            )
        if fault == "drop":
            return 0, {}, None
        if fault == "502":  # what a proxy in front of DataCite answers
            return 502, {"Content-Type": "text/html"}, b"<html><body>Bad Gateway</body></html>"
        if fault in ("500", "503"):
            return int(fault), {}, _error(fault, "Internal server error")
        if fault == "429":
            return 429, {"Retry-After": self.retry_after}, _error("429", "Too many requests")
        if fault == "401" or not self._authorised(headers, method):
            return 401, {}, _error("401", "Bad credentials.")
        if fault == "422":
            return 422, {}, {"errors": [{"source": "metadata", "title": "Is invalid", "uid": doi}]}

        accept = headers.get("Accept", "*/*")
        if not any(t in accept for t in (MEDIA_TYPE, "application/json", "*/*")):
            return 406, {}, _error("406", "The content type is not recognized.")
        if (
            method in ("PUT", "POST")
            and headers.get("Content-Type", "").split(";")[0] != MEDIA_TYPE
        ):
            return 415, {}, _error("415", "The content type is not recognized.")

        with self.lock:
            hold = self.holds.pop(doi.upper(), None) if method == "PUT" else None
        if hold is not None and not hold.after_change:
            hold._stop_here()
            if hold.dropped:
                return 0, {}, None
        with self.lock:
            status, answer = self._route(method, path, doi, body)
        if hold is not None and hold.after_change:
            hold._stop_here()
        if fault == "timeout":
            # The change is made, but the answer comes too late for the client.
            time.sleep(self.slow_seconds)
        if fault == "malformed":
            return status, {}, b'{"data": {"id": "10.5072/'
        return status, {}, answer

    def _authorised(self, headers, method: str) -> bool:
        auth = headers.get("Authorization", "")
        if not auth and method == "GET":
            return True  # public reads; drafts are then hidden (404)
        expected = base64.b64encode(f"{REPOSITORY_ID}:{PASSWORD}".encode()).decode()
        return auth == f"Basic {expected}"

    def _route(self, method: str, path: str, doi: str, body: bytes) -> tuple[int, dict | None]:
        if method == "POST" and path == "/dois":
            return self._create(body)
        if not doi:
            return 404, _error("404", "The resource you are looking for doesn't exist.")
        if method == "PUT":
            return self._upsert(doi, body)
        record = self.records.get(doi.upper())
        if method == "GET":
            if record is None:
                return 404, _error("404", "The resource you are looking for doesn't exist.")
            return 200, _document(doi, record)
        if method == "DELETE":
            if record is None:
                return 404, _error("404", "The resource you are looking for doesn't exist.")
            if record["state"] != "draft":
                return 405, _error("405", "This method is not allowed for this resource.")
            del self.records[doi.upper()]
            return 204, None
        return 405, _error("405", "Method not allowed.")

    def _attributes_from(self, body: bytes) -> dict | tuple[int, dict]:
        try:
            data = json.loads(body)["data"]
            if data.get("type") != "dois":
                raise ValueError
            return dict(data.get("attributes") or {})
        except (ValueError, KeyError, TypeError, AttributeError):
            return 400, _error("400", "You need to provide a payload following the JSONAPI spec")

    def _create(self, body: bytes) -> tuple[int, dict]:
        attributes = self._attributes_from(body)
        if isinstance(attributes, tuple):
            return attributes
        doi = (
            attributes.get("doi") or f"{attributes.get('prefix', PREFIXES[0])}/{len(self.records)}x"
        )
        if doi.upper() in self.records:
            return 422, {"errors": [{"source": "doi", "title": "This DOI has already been taken"}]}
        return self._upsert(doi, body)

    def _upsert(self, doi: str, body: bytes) -> tuple[int, dict]:
        attributes = self._attributes_from(body)
        if isinstance(attributes, tuple):
            return attributes
        if not DOI_PATTERN.match(doi):
            return 422, {"errors": [{"source": "doi", "title": "Is invalid", "uid": doi}]}
        if doi.split("/")[0] not in PREFIXES:
            return 403, _error("403", "You are not authorized to access this resource.")
        event = attributes.pop("event", None)
        attributes.pop("doi", None)
        existing = self.records.get(doi.upper())
        state = existing["state"] if existing else "draft"
        merged = {**(existing["attributes"] if existing else {}), **attributes}
        if event:
            if event not in TRANSITIONS:
                return 422, {"errors": [{"source": "event", "title": "Is invalid", "uid": doi}]}
            if state not in TRANSITIONS[event]:
                title = f"Event {event!r} cannot transition from {state}"
                return 422, {"errors": [{"source": "event", "title": title, "uid": doi}]}
            state = TRANSITIONS[event][state]
        if state != "draft":
            missing = [
                {"source": field, "title": "Can't be blank", "uid": doi}
                for field, present in REQUIRED.items()
                if not present(merged)
            ]
            if missing:
                return 422, {"errors": missing}
        record = {"state": state, "attributes": merged}
        self.records[doi.upper()] = record
        return (200 if existing else 201), _document(doi, record)


def _error(status: str, title: str) -> dict:
    return {"errors": [{"status": status, "title": title}]}


def _document(doi: str, record: dict) -> dict:
    attributes = {**record["attributes"], "doi": doi.lower(), "state": record["state"]}
    return {"data": {"id": doi.lower(), "type": "dois", "attributes": attributes}}


def _handler_for(fake: FakeDataCite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so ``go_down`` leaves no open connection behind.
        protocol_version = "HTTP/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            status, headers, answer = fake.handle(self.command, path, self.headers, body)
            if status == 0:  # drop the connection without an answer
                self.close_connection = True
                with contextlib.suppress(OSError):  # the client may be gone already
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            data = b"" if answer is None else (
                answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            )  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("Content-Type", MEDIA_TYPE))
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            # The client may have given up waiting (the timeout fault).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = _serve

        def log_message(self, format, *args) -> None:
            pass

    return Handler


@pytest.fixture
def datacite(settings):
    """A running fake DataCite; the hub's settings point the ``datacite`` registrar at it with
    short timeouts and no waiting between inline retries."""
    fake = FakeDataCite(slow_seconds=1.0).start()
    settings.DOI_REGISTRAR = "datacite"
    settings.DATACITE_API_URL = fake.url
    settings.DATACITE_REPOSITORY_ID = REPOSITORY_ID
    settings.DATACITE_PASSWORD = PASSWORD
    settings.DATACITE_TIMEOUT = (0.5, 0.5)
    settings.DOI_INLINE_RETRIES = 0
    settings.DOI_INLINE_RETRY_WAIT = 0
    yield fake
    fake.stop()

"""A local HTTP server that behaves like DataCite's REST API, for tests.

It speaks JSON:API with Basic auth, keeps DOIs in memory with DataCite's state machine (draft,
registered, findable; events publish, register, hide; nothing goes back to draft), answers
``PUT /dois/{doi}`` as an upsert (201 created, 200 updated), validates what findable DOIs need
(422 with ``errors[]``), and can inject faults into the next requests:

    datacite.fail("ok", "503", "timeout")   # the next three requests
    datacite.fail("422", doi=name)          # the next request about that DOI
    datacite.go_down() / datacite.come_back()   # connections refused

and stop a request to one DOI half-way, to kill the hub's process at that exact point:

    held = datacite.hold(doi)                    # the next PUT of doi waits, unprocessed …
    held = datacite.hold(doi, after_change=True) # … or processed, with the answer waiting
    held.wait_arrived(timeout); …; held.release()   # or held.drop(): closed, nothing changed

It keeps connections open between requests (HTTP/1.1), counting them (``connections``), and
can limit the rate and answer slowly, as DataCite does:

    datacite.limit(100, per=10.0)   # beyond 100 requests in any 10 s: 429 with Retry-After
    datacite.latency = 0.3          # every answer takes 300 ms

Use the ``datacite`` fixture (``from tests.datacite_server import datacite`` in a conftest), or
run it as a process for benchmarks: ``python -m tests.datacite_server --help``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import re
import socket
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

STATS_PATH = "/_stats"  # not DataCite's: what the benchmarks read from a server process

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
        self.events: list[dict] = []  # event data: each an event's attributes
        self.requests: list[dict] = []
        self.faults: deque[str] = deque()
        self.doi_faults: dict[str, deque[str]] = {}  # upper-case DOI → its next requests' faults
        self.holds: dict[str, Hold] = {}  # upper-case DOI → the next PUT of it stops here
        self.retry_after = "1"
        self.slow_seconds = slow_seconds
        self.latency = 0.0
        self.rate_limit: tuple[int, float] | None = None
        self._recent: deque[float] = deque()  # when the requests of the last window came
        self.statuses: Counter[int] = Counter()
        self.connections = 0  # opened so far
        self._open: set[socket.socket] = set()
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
        # Kept-alive connections go too, so that a stopped server refuses the next request.
        with self.lock:
            open_now, self._open = list(self._open), set()
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def limit(self, requests: int, *, per: float) -> None:
        """Answer 429, with Retry-After saying when the next would be accepted, to any request
        beyond ``requests`` in ``per`` seconds (a sliding window; refused ones count too)."""
        self.rate_limit = (requests, per)
        self._recent.clear()

    def go_down(self) -> None:
        """Stop listening: connections are refused until ``come_back``."""
        self.stop()

    def come_back(self) -> None:
        self.start()

    def fail(self, *faults: str, doi: str | None = None) -> None:
        """Apply ``faults`` to the next requests, one each, in order; with ``doi``, to the next
        requests about that DOI (whatever arrives in between)."""
        for fault in faults:
            if fault not in FAULTS:
                raise ValueError(f"Unknown fault {fault!r}; one of {FAULTS}")
        if doi is None:
            self.faults.extend(faults)
        else:
            self.doi_faults.setdefault(doi.upper(), deque()).extend(faults)

    def recover(self) -> None:
        self.faults.clear()
        self.doi_faults.clear()
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

    def handle(
        self, method: str, path: str, headers, body: bytes, query: str = ""
    ) -> tuple[int, dict, object]:
        """Returns (status, headers, body); body is a dict (JSON), bytes (raw) or None."""
        doi = unquote(path[len("/dois/") :]) if path.startswith("/dois/") else ""
        with self.lock:
            faults = self.doi_faults.get(doi.upper()) or self.faults
            fault = faults.popleft() if faults else None
        fault = None if fault == "ok" else fault
        with self.lock:
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "doi": doi,
                    "fault": fault,
                    "body": body,
                    "query": query,
                    "at": time.monotonic(),
                }
            )
        if self.latency:
            time.sleep(self.latency)
        wait = self._over_the_limit()
        if wait is not None:
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
            return 429, headers, _error("429", "Too many requests")
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
            status, answer = self._route(method, path, doi, body, query)
        if hold is not None and hold.after_change:
            hold._stop_here()
        if fault == "timeout":
            # The change is made, but the answer comes too late for the client.
            time.sleep(self.slow_seconds)
        if fault == "malformed":
            return status, {}, b'{"data": {"id": "10.5072/'
        return status, {}, answer

    def stats(self) -> dict:
        """What the server saw: answers by status, connections opened, and when the first and
        the last request arrived (seconds on one clock)."""
        with self.lock:
            times = [r["at"] for r in self.requests]
            return {
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "connections": self.connections,
                "first_at": min(times, default=None),
                "last_at": max(times, default=None),
            }

    def _over_the_limit(self) -> float | None:
        """Seconds until the rate limit would accept a request, if it refuses this one."""
        if self.rate_limit is None:
            return None
        most, window = self.rate_limit
        with self.lock:
            now = time.monotonic()
            while self._recent and self._recent[0] <= now - window:
                self._recent.popleft()
            self._recent.append(now)
            if len(self._recent) <= most:
                return None
            return self._recent[-most - 1] + window - now

    def _authorised(self, headers, method: str) -> bool:
        auth = headers.get("Authorization", "")
        if not auth and method == "GET":
            return True  # public reads; drafts are then hidden (404)
        expected = base64.b64encode(f"{REPOSITORY_ID}:{PASSWORD}".encode()).decode()
        return auth == f"Basic {expected}"

    def _route(
        self, method: str, path: str, doi: str, body: bytes, query: str = ""
    ) -> tuple[int, dict | None]:
        if method == "POST" and path == "/dois":
            return self._create(body)
        if method == "GET" and path == "/dois":
            return self._list(parse_qs(query))
        if method == "GET" and path == "/events":
            return self._events(parse_qs(query))
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

    def _list(self, query: dict[str, list[str]]) -> tuple[int, dict]:
        """GET /dois?client-id=…&page[size]=…&page[cursor]=…&fields[dois]=…: the account's
        registered and findable DOIs, in pages joined by ``links.next``."""
        client = query.get("client-id", [""])[0]
        if client and client != REPOSITORY_ID.lower():
            return 200, {"data": [], "links": {}}
        try:
            size = min(int(query.get("page[size]", ["25"])[0]), 1000)
            cursor = query.get("page[cursor]", ["1"])[0]
            start = 0 if cursor == "1" else int(cursor.removeprefix("after-"))
        except ValueError:
            return 400, _error("400", "Invalid page parameters")
        fields = query.get("fields[dois]", [""])[0]
        listed = sorted(d for d, r in self.records.items() if r["state"] != "draft")
        data = []
        for doi in listed[start : start + size]:
            item = _document(doi, self.records[doi])["data"]
            if fields:
                wanted = fields.split(",")
                item["attributes"] = {k: v for k, v in item["attributes"].items() if k in wanted}
            data.append(item)
        links = {}
        if start + size < len(listed):
            links["next"] = (
                f"{self.url}/dois?client-id={client}&page%5Bsize%5D={size}"
                f"&page%5Bcursor%5D=after-{start + size}"
                + (f"&fields%5Bdois%5D={fields}" if fields else "")
            )
        return 200, {"data": data, "meta": {"total": len(listed)}, "links": links}

    def cite(
        self,
        doi: str,
        by: str,
        *,
        relation: str = "references",
        occurred_at: str = "2026-11-02T10:00:00Z",
        source: str = "crossref",
    ) -> None:
        """An event in DataCite's event data: the work ``by`` (a DOI or URL) cites ``doi`` with
        ``relation`` (its subject is ``by``; for the inverse relations, is-cited-by and the
        like, its object). The DOI's citationCount goes up, as DataCite's does, when it is one
        of the account's."""

        def as_id(value: str) -> str:
            return value if value.startswith("http") else f"https://doi.org/{value.lower()}"

        cited, citing = as_id(doi), as_id(by)
        inverse = relation.startswith("is-")
        self.events.append(
            {
                "subj-id": cited if inverse else citing,
                "obj-id": citing if inverse else cited,
                "relation-type-id": relation,
                "source-id": source,
                "occurred-at": occurred_at,
                "total": 1,
            }
        )
        record = self.records.get(doi.upper())
        if record is not None:  # a DOI of this account
            usage = record.get("usage") or {"citationCount": 0, "viewCount": 0, "downloadCount": 0}
            record["usage"] = {**usage, "citationCount": usage["citationCount"] + 1}

    def _events(self, query: dict[str, list[str]]) -> tuple[int, dict]:
        """GET /events?doi=…&relation-type-id=a,b&page[size]=…&page[cursor]=…: the events whose
        subject or object is the DOI, in pages joined by ``links.next``."""
        doi = query.get("doi", [""])[0].lower()
        relations = [r for r in query.get("relation-type-id", [""])[0].split(",") if r]
        try:
            size = min(int(query.get("page[size]", ["25"])[0]), 1000)
            start = int(query.get("page[cursor]", ["after-0"])[0].removeprefix("after-"))
        except ValueError:
            return 400, _error("400", "Invalid page parameters")
        ids = {f"https://doi.org/{doi}"}
        matching = [
            e
            for e in self.events
            if (not doi or ids & {e["subj-id"], e["obj-id"]})
            and (not relations or e["relation-type-id"] in relations)
        ]
        data = [
            {"id": f"event-{start + i}", "type": "events", "attributes": e}
            for i, e in enumerate(matching[start : start + size])
        ]
        links = {}
        if start + size < len(matching):
            links["next"] = (
                f"{self.url}/events?doi={doi}&relation-type-id={','.join(relations)}"
                f"&page%5Bsize%5D={size}&page%5Bcursor%5D=after-{start + size}"
            )
        return 200, {"data": data, "meta": {"total": len(matching)}, "links": links}

    def count(self, doi: str, *, citations: int = 0, views: int = 0, downloads: int = 0) -> None:
        """What DataCite has counted for ``doi`` (it must exist here)."""
        self.records[doi.upper()]["usage"] = {
            "citationCount": citations,
            "viewCount": views,
            "downloadCount": downloads,
        }

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
        record = {"state": state, "attributes": merged, "usage": (existing or {}).get("usage")}
        self.records[doi.upper()] = record
        return (200 if existing else 201), _document(doi, record)


def _error(status: str, title: str) -> dict:
    return {"errors": [{"status": status, "title": title}]}


def _document(doi: str, record: dict) -> dict:
    # DataCite adds its counts to every record, 0 until something was counted.
    usage = record.get("usage") or {"citationCount": 0, "viewCount": 0, "downloadCount": 0}
    attributes = {**record["attributes"], **usage, "doi": doi.lower(), "state": record["state"]}
    return {"data": {"id": doi.lower(), "type": "dois", "attributes": attributes}}


def _handler_for(fake: FakeDataCite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.1: connections stay open between requests, as DataCite's do.
        protocol_version = "HTTP/1.1"
        # Headers and body leave in separate writes; with Nagle's algorithm on, the body waits
        # for the client's delayed ACK of the headers (about 40 ms on Linux), a stall that
        # DataCite's servers do not add.
        disable_nagle_algorithm = True

        def setup(self) -> None:
            super().setup()
            with fake.lock:
                fake.connections += 1
                fake._open.add(self.connection)

        def finish(self) -> None:
            with fake.lock:
                fake._open.discard(self.connection)
            with contextlib.suppress(OSError):
                super().finish()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            path = url.path
            if path == STATS_PATH:
                self._send(200, {"Content-Type": "application/json"}, fake.stats())
                return
            status, headers, answer = fake.handle(self.command, path, self.headers, body, url.query)
            with fake.lock:
                fake.statuses[status] += 1
            if status == 0:  # drop the connection without an answer
                self.close_connection = True
                with contextlib.suppress(OSError):  # the client may be gone already
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(status, headers, answer)

        def _send(self, status: int, headers: dict, answer) -> None:
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
    settings.DATACITE_REQUESTS_PER_MINUTE = 0  # unpaced; the pacing tests set their own
    settings.DOI_INLINE_RETRIES = 0
    settings.DOI_INLINE_RETRY_WAIT = 0
    yield fake
    fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Run the DataCite-like server on 127.0.0.1 until stopped (for benchmarks); "
        f"prints its URL. GET {STATS_PATH} says what it saw."
    )
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each answer takes")
    parser.add_argument(
        "--limit",
        metavar="N/SECONDS",
        help="answer 429 with Retry-After beyond N requests in any SECONDS, e.g. 250/5",
    )
    args = parser.parse_args()
    fake = FakeDataCite()
    fake.port = args.port
    fake.latency = args.latency
    if args.limit:
        try:
            most, per = args.limit.split("/")
            fake.limit(int(most), per=float(per))
        except ValueError:
            parser.error(f"--limit must look like 250/5, not {args.limit!r}")
    fake.start()
    print(fake.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    fake.stop()


if __name__ == "__main__":
    main()

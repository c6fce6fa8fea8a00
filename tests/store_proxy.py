"""A forwarding HTTP proxy in front of the tests' object store that can break chosen part
uploads, as a network or a failing disk would: cut the connection halfway through a part,
refuse it, or flip a byte of it on the way. Everything else it passes on unchanged (the Host
header too, so presigned signatures still hold); it records the part PUTs it saw."""

from __future__ import annotations

import http.client
import socket
import threading
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CUT, REFUSE, CORRUPT = "cut", "refuse", "corrupt"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect"}


@dataclass(frozen=True)
class PartPut:
    number: int
    upload_id: str
    fault: str | None


class StoreProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname, parts.port)
        self.part_puts: list[PartPut] = []
        self._faults: dict[int, list[str]] = defaultdict(list)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.proxy = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def break_part(self, number: int, fault: str, times: int = 1) -> None:
        """The next ``times`` PUTs of part ``number`` meet ``fault``."""
        with self._lock:
            self._faults[number] += [fault] * times

    def sent_parts(self) -> list[int]:
        """The part numbers PUT so far, in order, broken ones included; then forgets them."""
        with self._lock:
            numbers = [p.number for p in self.part_puts]
            self.part_puts.clear()
        return numbers

    def fault_for(self, number: int, upload_id: str) -> str | None:
        with self._lock:
            fault = self._faults[number].pop(0) if self._faults[number] else None
            self.part_puts.append(PartPut(number, upload_id, fault))
        return fault

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, format, *args) -> None:
        pass

    def _forward(self) -> None:
        proxy: StoreProxy = self.server.proxy
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            raise AssertionError("The store proxy forwards bodies of a known length only.")
        length = int(self.headers.get("Content-Length") or 0)
        query = parse_qs(urlsplit(self.path).query)
        fault = None
        # A part PUT with a body (UploadPartCopy, the server copying inside the store, has none).
        if (
            self.command == "PUT"
            and "partNumber" in query
            and "x-amz-copy-source" not in self.headers
        ):
            fault = proxy.fault_for(int(query["partNumber"][0]), query["uploadId"][0])
        if fault == CUT:
            self.rfile.read(length // 2)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = self.rfile.read(length)
        if fault == REFUSE:
            self._answer(403, [("Content-Type", "application/xml")], b"<Error>Refused</Error>")
            return
        if fault == CORRUPT:
            body = bytes([body[0] ^ 1]) + body[1:]
        upstream = http.client.HTTPConnection(*proxy.upstream, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=headers)
            response = upstream.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            if response.getheader("Transfer-Encoding"):
                kept.append(("Content-Length", str(len(data))))
            self._answer(response.status, kept, data)
        finally:
            upstream.close()

    def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name, _ in headers):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

"""A STAND-IN for an OPA server, for tests: NOT OPA.

No OPA binary can be installed where these tests run, so this small HTTP server
implements the part of OPA's REST API that zenpolicy uses, and evaluates Rego with
regopy (rego-cpp) instead of OPA:

    GET    /health                  200 {}
    GET    /v1/policies             {"result": [{"id": ..., "raw": ...}, ...]}
    PUT    /v1/policies/{id}        body: a Rego module; 400 when rego-cpp cannot parse it
    DELETE /v1/policies/{id}
    POST   /v1/data/{path}          {"input": ...} -> {"result": ...}, or {} when undefined

with a bearer-token check when `token` is set, a loaded bundle (its policies and
data.json, with policy writes under its roots refused as OPA does), and error
injection for the client's failure paths (`mode`):

    "500"        every request answers HTTP 500
    "401"        every request answers HTTP 401
    "malformed"  data queries answer a body that is not JSON
    "no-result"  data queries answer {} (undefined)
    "slow"       data queries sleep `delay` seconds before answering (for timeouts)
    "extra-rule" data.zenpolicy.findings gains a finding for rule "ZZ-99"

What it proves is that zenpolicy's client speaks this protocol and that rego-cpp
evaluates the compiled policies as the native engine does; it proves nothing about a
real OPA. To run the same tests against one, start `opa run --server` and set
ZENPOLICY_OPA_URL (docs/opa.md).
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import ssl
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

# RE2 first: see zenpolicy/engines/rego_local.py (regopy loaded first corrupts the heap).
import re2  # noqa: F401  # isort: skip
import regopy

from zenpolicy.engines.rego_local import LocalRego, LocalRegoError


class StandInOpa:
    """The server's state; `start()` serves it on 127.0.0.1 at an ephemeral port."""

    def __init__(self, *, token: str | None = None) -> None:
        self.token = token
        self.mode: str | None = None
        self.delay = 2.0
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.bundle_roots: tuple[str, ...] = ()
        self.requests: list[tuple[str, str]] = []
        """(method, path) of every request, for assertions."""
        self._lock = threading.Lock()
        self._rego: LocalRego | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self, tls: ssl.SSLContext | None = None) -> str:
        """Serve; with `tls` (a server-side context), over HTTPS."""
        handler = type("Handler", (_Handler,), {"opa": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        scheme = "https" if tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def load_bundle(self, tarball: bytes) -> None:
        """Activate an OPA bundle (.tar.gz): its .rego files, data.json and roots."""
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            for member in tar.getmembers():
                content = tar.extractfile(member)
                if content is None:
                    continue
                name = member.name.lstrip("/")
                text = content.read().decode("utf-8")
                if name.endswith(".rego"):
                    self.policies[name] = text
                elif name == "data.json" or name.endswith("/data.json"):
                    self.data = json.loads(text)
                elif name == ".manifest":
                    self.bundle_roots = tuple(json.loads(text).get("roots", [""]))
        self._rego = None

    # ---- what the handler calls -------------------------------------------------------

    def put_policy(self, policy_id: str, source: str) -> tuple[int, dict[str, Any]]:
        if self._owned_by_bundle(policy_id):
            return 400, {"code": "invalid_parameter", "message": f"path {policy_id} is owned by bundle"}
        try:
            # Parse it alone (cheap); the whole set is compiled at the next query.
            regopy.Interpreter().add_module(policy_id, source)
        except regopy.RegoError as exc:
            message = " ".join(str(exc).split())[:300]
            return 400, {
                "code": "invalid_parameter",
                "message": f"error(s) occurred while compiling module(s): {message}",
            }
        with self._lock:
            self.policies[policy_id] = source
            self._rego = None
        return 200, {}

    def delete_policy(self, policy_id: str) -> tuple[int, dict[str, Any]]:
        if self._owned_by_bundle(policy_id):
            return 400, {"code": "invalid_parameter", "message": f"path {policy_id} is owned by bundle"}
        with self._lock:
            if self.policies.pop(policy_id, None) is None:
                return 404, {
                    "code": "resource_not_found",
                    "message": f"storage_not_found_error: policy id {policy_id!r}",
                }
            self._rego = None
        return 200, {}

    def _owned_by_bundle(self, policy_id: str) -> bool:
        # OPA refuses policy writes under a bundle's roots (the bundle owns them).
        return any(policy_id.startswith(root.replace(".", "/")) for root in self.bundle_roots)

    def query(self, path: str, input_value: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self._rego is None:
                try:
                    self._rego = LocalRego(self.policies, self.data)
                except LocalRegoError as exc:
                    return 500, {"code": "internal_error", "message": str(exc)}
            rego = self._rego
        dotted = path.strip("/").replace("/", ".")
        try:
            result = rego.query(dotted, input_value)
        except LocalRegoError as exc:
            return 500, {"code": "internal_error", "message": str(exc)}
        if self.mode == "extra-rule" and dotted == "zenpolicy.findings" and isinstance(result, list):
            result = [*result, {"rule_id": "ZZ-99", "address": "inventory", "status": "fail", "evidence": []}]
        return 200, ({} if result is None else {"result": result})


class _Server(ThreadingHTTPServer):
    # Handler threads are joined when the server closes, after their connections are
    # shut down (a client's pool keeps them open): no thread outlives a test, and
    # zenpolicy forks only in a process with one thread (tests/test_parallel.py).
    daemon_threads = False
    block_on_close = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        with self._open_lock:
            for request in self._open:
                with contextlib.suppress(OSError):
                    request.shutdown(socket.SHUT_RDWR)
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has closed its socket: nothing to report.
        pass


class _Handler(BaseHTTPRequestHandler):
    opa: StandInOpa
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read assertions, not logs
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        opa = self.opa
        path = urlsplit(self.path).path
        opa.requests.append((method, path))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if opa.mode == "slow" and path.startswith("/v1/data/"):
            time.sleep(opa.delay)
        if opa.mode in ("500", "401"):
            self._send(int(opa.mode), {"code": "injected", "message": f"injected HTTP {opa.mode}"})
            return
        if opa.token is not None and self.headers.get("Authorization") != f"Bearer {opa.token}":
            self._send(401, {"code": "unauthorized", "message": "missing or invalid bearer token"})
            return
        if method == "GET" and path == "/health":
            self._send(200, {})
        elif method == "GET" and path.rstrip("/") == "/v1/policies":
            self._send(200, {"result": [{"id": i, "raw": s} for i, s in sorted(opa.policies.items())]})
        elif method == "PUT" and path.startswith("/v1/policies/"):
            self._send(*opa.put_policy(unquote(path[len("/v1/policies/") :]), body.decode("utf-8")))
        elif method == "DELETE" and path.startswith("/v1/policies/"):
            self._send(*opa.delete_policy(unquote(path[len("/v1/policies/") :])))
        elif method == "POST" and path.startswith("/v1/data/"):
            if opa.mode == "malformed":
                self._send_raw(200, b"<html>not json</html>", "text/html")
                return
            if opa.mode == "no-result":
                self._send(200, {})
                return
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                self._send(400, {"code": "invalid_parameter", "message": "body is not JSON"})
                return
            self._send(*opa.query(path[len("/v1/data/") :], request.get("input")))
        else:
            self._send(404, {"code": "resource_not_found", "message": f"{method} {path} is not served here"})

    def _send(self, status: int, value: dict[str, Any]) -> None:
        self._send_raw(status, json.dumps(value).encode(), "application/json")

    def _send_raw(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

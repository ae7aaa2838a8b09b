"""Real backends for data-plane tests: small HTTP and TCP servers on loopback addresses.

Each HTTP backend answers every request with its own name as the body and the request's
headers as `X-Seen-<Header>` response headers, so a test can tell which member answered and
what the proxy added (X-Forwarded-For, ...). All of 127.0.0.0/8 is local on Linux, so each
member can have an address of its own without root.

    with http_backend("web1", "127.0.1.1") as web1, http_backend("web2", "127.0.1.2") as web2:
        ...
        web2.stop()   # a dead member: connections are refused
        web2.start()  # back on the same address and port
"""

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port_on(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_NamedServer"

    def _answer(self) -> None:
        body = self.server.name.encode()
        self.send_response(self.server.status)
        for name, value in self.headers.items():
            self.send_header(f"X-Seen-{name}", value)
        self.send_header("X-Client-Address", self.client_address[0])
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return


class _NamedServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str, address: tuple[str, int], status: int) -> None:
        self.name = name
        self.status = status
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A proxy resetting an idle keep-alive connection is routine, not worth a trace."""


class HttpBackend:
    """A named HTTP server that can be stopped and started again on the same address."""

    def __init__(self, name: str, address: str, port: int | None = None, status: int = 200):
        self.name = name
        self.address = address
        self.port = port or free_port_on(address)
        self.status = status
        self._server: _NamedServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            return
        self._server = _NamedServer(self.name, (self.address, self.port), self.status)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None


@contextmanager
def http_backend(
    name: str, address: str = "127.0.0.1", port: int | None = None
) -> Iterator[HttpBackend]:
    backend = HttpBackend(name, address, port)
    backend.start()
    try:
        yield backend
    finally:
        backend.stop()


class _EchoHandler(socketserver.BaseRequestHandler):
    server: "_EchoServer"

    def handle(self) -> None:
        self.request.sendall(self.server.name.encode() + b"\n")
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str, address: tuple[str, int]) -> None:
        self.name = name
        super().__init__(address, _EchoHandler)


@contextmanager
def tcp_backend(
    name: str, address: str = "127.0.0.1", port: int | None = None
) -> Iterator[tuple[str, int]]:
    """A TCP server that sends its name and a newline, then echoes what it receives."""
    bound = (address, port or free_port_on(address))
    server = _EchoServer(name, bound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield bound
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

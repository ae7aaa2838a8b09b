"""Members that tell a traffic test what reached them, and a client that sends from any address.

`tests.support.backends` answers with a name and echoes headers; these also record each
request (HTTP health checks included), speak TLS, answer with a chosen status or cookie, or
record the PROXY protocol header that precedes the stream.
"""

import contextlib
import http.client
import socket
import socketserver
import ssl
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.backends import free_port_on

PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    version: str
    headers: dict[str, str]  # by lower-case name: HAProxy lower-cases what it forwards


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class _RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_RecordingServer"

    def _answer(self) -> None:
        member = self.server.member
        member.seen.append(
            SeenRequest(
                self.command,
                self.path,
                self.request_version,
                {name.lower(): value for name, value in self.headers.items()},
            )
        )
        body = member.name.encode()
        self.send_response(member.statuses.get(self.path.split("?")[0], 200))
        for name, value in self.headers.items():
            self.send_header(f"X-Seen-{name}", value)
        if member.set_cookie is not None:
            self.send_header("Set-Cookie", member.set_cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, member: "HttpMember") -> None:
        self.member = member
        super().__init__((member.address, member.port), _RecordingHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's thread: done at accept() it would
        # stall every other client behind one that never completes it (a TCP health check).
        if self.member.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(10)
        with self.member.tls.wrap_socket(request, server_side=True) as secure:
            super().finish_request(secure, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # checks that hang up mid-handshake are expected, not worth a traceback


@dataclass
class HttpMember:
    """An HTTP (or HTTPS, with `tls`) member that records what it is sent. `statuses` maps a
    path to the status it answers (200 otherwise); `set_cookie` is added to every answer.
    """

    name: str
    address: str
    port: int = 0
    tls: ssl.SSLContext | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    set_cookie: str | None = None
    seen: list[SeenRequest] = field(default_factory=list)
    _server: _RecordingServer | None = None
    _thread: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_port_on(self.address)

    def start(self) -> "HttpMember":
        if self._server is None:
            self._server = _RecordingServer(self)
            self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def requests_to(self, path: str) -> list[SeenRequest]:
        return [request for request in list(self.seen) if request.path == path]


@contextlib.contextmanager
def members(*started: HttpMember) -> Iterator[tuple[HttpMember, ...]]:
    """Start every member; stop them all at the end, whatever happens."""
    try:
        for member in started:
            member.start()
        yield started
    finally:
        for member in started:
            member.stop()


class _FirstBytesHandler(socketserver.BaseRequestHandler):
    server: "_FirstBytesServer"

    def handle(self) -> None:
        self.request.settimeout(10)
        data = b""
        # A PROXY v1 line ends with CRLF; a v2 header is 16 bytes plus its announced length.
        while True:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            data += chunk
            if self._complete(data):
                break
        self.server.received.append(data)
        body = self.server.name.encode()
        if self.server.http:
            self.request.sendall(
                b"HTTP/1.1 200 OK\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
        else:
            self.request.sendall(body + b"\n")

    def _complete(self, data: bytes) -> bool:
        """Whether `data` holds the PROXY header (if any) and the first request or line."""
        start: int | None = 0
        if data.startswith(PROXY_V2_SIGNATURE):
            (length,) = struct.unpack("!H", data[14:16]) if len(data) >= 16 else (1 << 16,)
            start = 16 + length if len(data) >= 16 + length else None
        elif data.startswith(b"PROXY "):
            end = data.find(b"\r\n")
            start = end + 2 if end >= 0 else None
        if start is None:
            return False
        return b"\r\n\r\n" in data[start:] if self.server.http else b"\n" in data[start:]


class _FirstBytesServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str, address: tuple[str, int], http: bool) -> None:
        self.name = name
        self.http = http
        self.received: list[bytes] = []
        super().__init__(address, _FirstBytesHandler)


@contextlib.contextmanager
def first_bytes_member(name: str, address: str, *, http: bool) -> Iterator[tuple[int, list[bytes]]]:
    """A raw TCP member that records what precedes the payload (a PROXY header); it answers an
    HTTP request (`http=True`) or one line, with its name. Yields its port and the records.
    """
    server = _FirstBytesServer(name, (address, free_port_on(address)), http)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def silent_member(address: str) -> Iterator[int]:
    """A member that accepts connections and never answers: the server timeout's case."""
    sockets: list[socket.socket] = []
    listener = socket.create_server((address, 0))
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                sockets.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for sock in [listener, *sockets]:
            sock.close()


def self_signed(directory: Path, name: str = "member.test") -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate (P-256, one day)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


def get(
    address: str,
    port: int,
    path: str = "/",
    *,
    headers: dict[str, str] | None = None,
    source: str = "127.0.0.1",
    source_port: int = 0,
    method: str = "GET",
    tls: bool = False,
    timeout: float = 10.0,
) -> Reply:
    """One request on a new connection from `source` (and `source_port`, when not 0).

    With a fixed source port the connection is reset rather than closed, so that no
    TIME_WAIT keeps the next request from the same address and port.
    """
    connection: http.client.HTTPConnection
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(
            address, port, timeout=timeout, source_address=(source, source_port), context=context
        )
    else:
        connection = http.client.HTTPConnection(
            address, port, timeout=timeout, source_address=(source, source_port)
        )
    try:
        connection.connect()
        if source_port and connection.sock is not None:
            connection.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.request(method, path, headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        with response:
            return Reply(response.status, response.headers, response.read().decode())
    finally:
        connection.close()

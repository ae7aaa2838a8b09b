"""A tiny web server that answers every request with its own name: the demo's members.

    python -m pier.cli.demo_web web1 127.0.1.1 8080

It runs as its own process so that "stop web2" in the walk-through is a real dead member
(connections refused), exactly what a health monitor must notice.
"""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def serve(name: str, address: str, port: int) -> None:
    body = f"{name}\n".encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            return

    class Server(ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            """A proxy closing an idle keep-alive connection is routine, not worth a trace."""

    with Server((address, port), Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))

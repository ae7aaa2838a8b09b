"""The agent's HTTPS endpoint: uvicorn with mutual TLS. Only a client whose certificate the
given CA signed completes the handshake (the controller's), as in Octavia's amphora agent
(octavia-api.md §8.1), at TLS 1.2 or later.
"""

import logging
import ssl
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

# Requests in flight get this long to finish when the agent is asked to stop; HAProxy itself
# is not stopped (the next agent adopts it).
GRACEFUL_SHUTDOWN_S = 5


def build_ssl_context(*, cert: Path, key: Path, client_ca: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    context.load_verify_locations(cafile=str(client_ca))
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class _WithoutColor(logging.Filter):
    """uvicorn adds an ANSI-coloured copy of some messages as `color_message`; Pier's
    formatter would print it as one more field.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def serve(app: ASGIApp, *, bind: str, port: int, cert: Path, key: Path, client_ca: Path) -> None:
    """Serve until SIGINT or SIGTERM. The context is built first, so that unreadable
    certificates fail here, before the port is bound.
    """
    context = build_ssl_context(cert=cert, key=key, client_ca=client_ca)
    config = uvicorn.Config(
        app,
        host=bind,
        port=port,
        ssl_context_factory=lambda _config, _default: context,
        log_config=None,  # keep Pier's structured lines on stderr
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).addFilter(_WithoutColor())
    uvicorn.Server(config).run()

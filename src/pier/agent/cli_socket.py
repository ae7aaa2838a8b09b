"""One command to an HAProxy CLI socket (the master's or a worker's stats socket), one answer.

HAProxy answers a non-interactive command and closes, but its master CLI waits for the end of
the request first: the command is followed by a half-close.
"""

import socket
from pathlib import Path


def send_command(path: Path, command: str, timeout: float = 5.0) -> str:
    """Raises OSError (ConnectionRefusedError while a master re-executes, TimeoutError)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(str(path))
        connection.sendall(command.encode() + b"\n")
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")

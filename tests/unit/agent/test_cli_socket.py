"""One command, one answer, over a UNIX socket that answers only once the request ended."""

import socket
import threading
from pathlib import Path

import pytest

from pier.agent.cli_socket import send_command


def test_the_command_is_half_closed_and_the_whole_answer_read(tmp_path: Path) -> None:
    path = tmp_path / "master.sock"
    received: list[bytes] = []
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()

        def answer() -> None:
            connection, _ = server.accept()
            with connection:
                request = b""
                while chunk := connection.recv(1024):  # until the client's half-close
                    request += chunk
                received.append(request)
                connection.sendall(b"line 1\n" + b"x" * 100_000 + b"\nend\n")

        thread = threading.Thread(target=answer)
        thread.start()
        reply = send_command(path, "show proc", timeout=30)
        thread.join(timeout=30)

    assert received == [b"show proc\n"]
    assert reply.startswith("line 1\n") and reply.endswith("\nend\n")


def test_a_missing_socket_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        send_command(tmp_path / "none.sock", "show info")

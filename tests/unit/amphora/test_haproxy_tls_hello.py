"""The ClientHello a TLS-HELLO check sends: well formed, so that a TLS server answers it."""

import struct

from pier.amphora.haproxy_tls_hello import CIPHER_SUITES, client_hello, tls_hello_check_lines


def test_the_hello_is_one_tls_1_2_client_hello_record() -> None:
    hello = client_hello()
    content_type, record_version, length = struct.unpack("!BHH", hello[:5])
    assert (content_type, record_version, length) == (0x16, 0x0301, len(hello) - 5)
    assert hello[5] == 0x01  # ClientHello
    assert int.from_bytes(hello[6:9], "big") == len(hello) - 9
    assert hello[9:11] == b"\x03\x03"  # TLS 1.2
    suites_at = 11 + 32 + 1  # after the random and an empty session id
    (suites_length,) = struct.unpack("!H", hello[suites_at : suites_at + 2])
    assert suites_length == 2 * len(CIPHER_SUITES)


def test_the_hello_is_the_same_every_time() -> None:
    """A constant random: the rendered text, hence the config version, must not vary."""
    assert client_hello() == client_hello()


def test_the_check_accepts_a_handshake_or_an_alert_record() -> None:
    lines = tls_hello_check_lines()
    assert lines[0] == "option tcp-check"
    assert lines[1] == f"tcp-check send-binary {client_hello().hex()}"
    assert lines[2] == "tcp-check expect rbinary ^1[56]03"

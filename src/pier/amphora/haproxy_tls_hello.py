"""The TLS-HELLO health check: send a TLS ClientHello, expect a TLS record back.

Octavia rendered `option ssl-hello-chk`, whose fixed hello is SSLv3, then dropped it (2023)
for "the default check", which on a pass-through pool is a bare TCP connect: a member that
accepts connections but speaks no TLS stays UP. A full handshake (`check-ssl`) is no answer
either: a member that demands a client certificate over TLS 1.2 fails it, and Octavia's
cookbook recommends TLS-HELLO precisely for those. So Pier does what `ssl-hello-chk` does
(HAProxy sends a hello and accepts a handshake or an alert record, `^1[56]`), with a TLS 1.2
hello that current servers parse: the member answers in TLS, whether it would go on or not.
"""

import hashlib
import struct

# TLS 1.3 suites (ignored by a TLS 1.2 server), then ECDHE AES-GCM and ChaCha20, then plain RSA.
CIPHER_SUITES = (0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0x009C)
GROUPS = (0x001D, 0x0017, 0x0018)  # x25519, secp256r1, secp384r1
# ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256, the same with SHA-384.
SIGNATURE_ALGORITHMS = (0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501)
HANDSHAKE = 0x16
# What HAProxy must read first: a handshake (ServerHello) or an alert record, TLS 1.x.
EXPECTED_RECORD = "^1[56]03"


def _u16s(values: tuple[int, ...]) -> bytes:
    return struct.pack(f"!{len(values)}H", *values)


def _vector16(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def _extension(kind: int, data: bytes) -> bytes:
    return struct.pack("!H", kind) + _vector16(data)


def client_hello() -> bytes:
    """A TLS 1.2 ClientHello record, the same bytes every time (the random is a constant: the
    handshake never goes past the server's first answer).
    """
    extensions = b"".join(
        (
            _extension(0x000A, _vector16(_u16s(GROUPS))),  # supported_groups
            _extension(0x000B, b"\x01\x00"),  # ec_point_formats: uncompressed
            _extension(0x000D, _vector16(_u16s(SIGNATURE_ALGORITHMS))),
        )
    )
    body = b"".join(
        (
            b"\x03\x03",  # client_version TLS 1.2
            hashlib.sha256(b"pier tls-hello").digest(),  # random
            b"\x00",  # no session id
            _vector16(_u16s(CIPHER_SUITES)),
            b"\x01\x00",  # compression: null only
            _vector16(extensions),
        )
    )
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body  # ClientHello
    return struct.pack("!BHH", HANDSHAKE, 0x0301, len(handshake)) + handshake


def tls_hello_check_lines() -> list[str]:
    """The backend lines of a TLS-HELLO monitor (the servers get a plain `check`)."""
    return [
        "option tcp-check",
        f"tcp-check send-binary {client_hello().hex()}",
        f"tcp-check expect rbinary {EXPECTED_RECORD}",
    ]

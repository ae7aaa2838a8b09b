"""The local CA: what it writes, what its certificates say, and that OpenSSL accepts them."""

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from pier.drivers.certs import LocalCertificateAuthority

START = datetime(2030, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def load(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def ca(tmp_path: Path, clock: Clock) -> LocalCertificateAuthority:
    return LocalCertificateAuthority(tmp_path / "ca", clock)


def test_ensure_creates_a_p256_ca_for_ten_years_once(ca: LocalCertificateAuthority) -> None:
    path = ca.ensure()

    cert = load(path.read_bytes())
    assert mode_of(ca.key_path) == 0o600
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.name == "secp256r1"
    assert cert.not_valid_after_utc - START >= timedelta(days=3649)
    cert.verify_directly_issued_by(cert)


def test_ensure_reuses_the_ca_across_instances(ca: LocalCertificateAuthority, clock: Clock) -> None:
    first = ca.ensure().read_bytes(), ca.key_path.read_bytes()
    clock.now += 400 * DAY

    again = LocalCertificateAuthority(ca.directory, clock)
    again.ensure()

    assert (again.cert_path.read_bytes(), again.key_path.read_bytes()) == first


def test_server_certificate_names_usage_and_lifetime(
    ca: LocalCertificateAuthority,
) -> None:
    issued = ca.issue(
        "amphora-1", server=True, sans=["127.0.0.1", "::1", "agent.local"], lifetime=30 * DAY
    )

    cert = load(issued.cert_pem)
    cert.verify_directly_issued_by(load(ca.ensure().read_bytes()))
    assert cert.subject.rfc4514_string() == "CN=amphora-1"
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert sans.get_values_for_type(x509.DNSName) == ["agent.local"]
    extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(extended) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert issued.not_after == cert.not_valid_after_utc == START + 30 * DAY
    assert b"PRIVATE KEY" in issued.key_pem


def test_client_certificate_has_client_auth_and_no_empty_san(
    ca: LocalCertificateAuthority,
) -> None:
    cert = load(ca.issue("controller", server=False, sans=[], lifetime=DAY).cert_pem)

    extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(extended) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_a_certificate_never_outlives_its_ca(ca: LocalCertificateAuthority) -> None:
    issued = ca.issue("long", server=False, sans=[], lifetime=20 * 365 * DAY)

    assert issued.not_after == load(ca.ensure().read_bytes()).not_valid_after_utc


def test_ensure_pair_writes_then_reuses_until_renewal(
    ca: LocalCertificateAuthority, clock: Clock
) -> None:
    def ensure() -> tuple[bytes, datetime]:
        paths = ca.ensure_pair(
            "server", server=True, sans=["127.0.0.1"], lifetime=30 * DAY, renew_before=7 * DAY
        )
        assert paths.cert == ca.directory / "server.pem"
        assert mode_of(paths.key) == 0o600
        return paths.cert.read_bytes(), paths.not_after

    first, not_after = ensure()
    assert not_after == START + 30 * DAY
    clock.now += 22 * DAY
    assert ensure() == (first, not_after)

    clock.now += 2 * DAY  # now within 7 days of expiry
    renewed, renewed_after = ensure()
    assert renewed != first
    assert renewed_after == clock.now + 30 * DAY


@pytest.mark.parametrize("damage", ["missing key", "other names", "other usage", "new CA"])
def test_ensure_pair_reissues_what_no_longer_fits(
    ca: LocalCertificateAuthority, clock: Clock, damage: str
) -> None:
    def ensure(*, server: bool = True, sans: tuple[str, ...] = ("127.0.0.1",)) -> bytes:
        paths = ca.ensure_pair("pair", server=server, sans=sans, lifetime=DAY, renew_before=0 * DAY)
        return paths.cert.read_bytes()

    first = ensure()
    if damage == "missing key":
        (ca.directory / "pair.key").unlink()
        assert ensure() != first
    elif damage == "other names":
        assert ensure(sans=("127.0.0.2",)) != first
    elif damage == "other usage":
        assert ensure(server=False) != first
    else:
        ca.key_path.unlink()
        ca.cert_path.unlink()
        assert ensure() != first
    assert load(ensure()).verify_directly_issued_by(load(ca.ensure().read_bytes())) is None


def test_openssl_accepts_the_pair_for_mutual_tls(tmp_path: Path) -> None:
    """A TLS handshake in memory: the server requires a client certificate from the CA."""
    ca = LocalCertificateAuthority(tmp_path, lambda: datetime.now(UTC))
    server = ca.ensure_pair(
        "server", server=True, sans=["127.0.0.1"], lifetime=DAY, renew_before=0 * DAY
    )
    client = ca.ensure_pair("client", server=False, sans=[], lifetime=DAY, renew_before=0 * DAY)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(server.cert, server.key)
    server_context.load_verify_locations(ca.ensure())
    server_context.verify_mode = ssl.CERT_REQUIRED
    client_context = ssl.create_default_context(cafile=ca.ensure())
    client_context.load_cert_chain(client.cert, client.key)

    server_side, client_side = handshake(server_context, client_context, "127.0.0.1")

    assert client_side.getpeercert() is not None
    peer = server_side.getpeercert()
    assert peer is not None and peer["subject"] == ((("commonName", "client"),),)


def test_openssl_refuses_a_client_certificate_from_another_ca(tmp_path: Path) -> None:
    def now() -> datetime:
        return datetime.now(UTC)

    ca, other = (
        LocalCertificateAuthority(tmp_path / "a", now),
        LocalCertificateAuthority(tmp_path / "b", now),
    )
    server = ca.ensure_pair(
        "s", server=True, sans=["127.0.0.1"], lifetime=DAY, renew_before=DAY * 0
    )
    stranger = other.ensure_pair("c", server=False, sans=[], lifetime=DAY, renew_before=DAY * 0)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(server.cert, server.key)
    server_context.load_verify_locations(ca.ensure())
    server_context.verify_mode = ssl.CERT_REQUIRED
    client_context = ssl.create_default_context(cafile=ca.ensure())
    client_context.load_cert_chain(stranger.cert, stranger.key)

    with pytest.raises(ssl.SSLError, match="certificate"):
        handshake(server_context, client_context, "127.0.0.1")


def handshake(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, hostname: str
) -> tuple[ssl.SSLObject, ssl.SSLObject]:
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    from_server, from_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = server_context.wrap_bio(to_server, from_server, server_side=True)
    client = client_context.wrap_bio(to_client, from_client, server_hostname=hostname)
    done = {"server": False, "client": False}
    for _ in range(10):
        for name, side, outgoing, incoming in (
            ("client", client, from_client, to_server),
            ("server", server, from_server, to_client),
        ):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
            incoming.write(outgoing.read())
        if all(done.values()):
            return server, client
    raise AssertionError("handshake did not complete")

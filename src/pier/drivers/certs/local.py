"""A certificate authority kept in one directory: it signs the agent's server certificate and the
controller's client certificate, so both ends of the agent API trust exactly one issuer.

Keys are EC P-256 and written with mode 0600. Files are replaced atomically (write, then
rename), so a reader sees either the old pair or the new one, never half of each.
"""

import ipaddress
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CA_LIFETIME = timedelta(days=3650)
CA_COMMON_NAME = "Pier local CA"
# Certificates start a little in the past: a peer whose clock runs behind still accepts them.
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    cert_pem: bytes
    key_pem: bytes
    not_after: datetime


@dataclass(frozen=True, slots=True)
class CertificatePaths:
    cert: Path
    key: Path
    not_after: datetime


class LocalCertificateAuthority:
    def __init__(self, directory: Path, clock: Callable[[], datetime]) -> None:
        self.directory = directory
        self._clock = clock

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def key_path(self) -> Path:
        return self.directory / "ca.key"

    def ensure(self) -> Path:
        """Create the CA once; later calls (and later processes) reuse it. Returns `ca.pem`."""
        if self.cert_path.exists() and self.key_path.exists():
            return self.cert_path
        self.directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
        now = self._clock()
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(certificate_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        # The key goes first: a CA certificate without its key on disk would be useless.
        _write_atomically(self.key_path, _private_pem(key), mode=0o600)
        _write_atomically(self.cert_path, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
        log.info("certificate authority created", extra={"ca_path": str(self.cert_path)})
        return self.cert_path

    def issue(
        self, common_name: str, *, server: bool, sans: Sequence[str], lifetime: timedelta
    ) -> IssuedCertificate:
        """A new key and a certificate for it: TLS server (serverAuth) or client (clientAuth).
        Each entry of `sans` that parses as an IP address becomes an IP SAN, any other a DNS one.
        """
        ca_cert, ca_key = self._load()
        key = ec.generate_private_key(ec.SECP256R1())
        now = self._clock()
        not_after = min(now + lifetime, ca_cert.not_valid_after_utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(certificate_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([_extended_usage(server=server)]), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if sans:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(san) for san in sans]), critical=False
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        return IssuedCertificate(
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=_private_pem(key),
            not_after=cert.not_valid_after_utc,
        )

    def ensure_pair(
        self,
        name: str,
        *,
        server: bool,
        sans: Sequence[str],
        lifetime: timedelta,
        renew_before: timedelta,
    ) -> CertificatePaths:
        """`<name>.pem` and `<name>.key` in the CA's directory, reissued when missing, not
        signed by this CA, issued for other names or usage, or within `renew_before` of expiry.
        The common name is `name`.
        """
        cert_path, key_path = self.directory / f"{name}.pem", self.directory / f"{name}.key"
        current = self._usable(cert_path, key_path, server=server, sans=sans)
        if current is not None and current.not_valid_after_utc - renew_before > self._clock():
            return CertificatePaths(cert_path, key_path, current.not_valid_after_utc)
        issued = self.issue(name, server=server, sans=sans, lifetime=lifetime)
        _write_atomically(key_path, issued.key_pem, mode=0o600)
        _write_atomically(cert_path, issued.cert_pem, mode=0o644)
        log.info(
            "certificate issued",
            extra={"certificate": name, "not_after": issued.not_after.isoformat()},
        )
        return CertificatePaths(cert_path, key_path, issued.not_after)

    def _load(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        self.ensure()
        cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{self.key_path} is not an EC private key")
        return cert, key

    def _usable(
        self, cert_path: Path, key_path: Path, *, server: bool, sans: Sequence[str]
    ) -> x509.Certificate | None:
        """The certificate on disk if it still fits the request, else None (reissue)."""
        if not (cert_path.exists() and key_path.exists()):
            return None
        ca_cert, _ = self._load()
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            cert.verify_directly_issued_by(ca_cert)
        except (ValueError, TypeError, InvalidSignature):
            return None
        if cert.public_key() != key.public_key():
            return None
        wanted = (_requested_names(sans), frozenset({_extended_usage(server=server)}))
        return cert if _names_and_usages(cert) == wanted else None


def _key_usage(*, certificate_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificate_sign,
        crl_sign=certificate_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(value: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def _requested_names(sans: Sequence[str]) -> frozenset[x509.GeneralName]:
    return frozenset(_general_name(san) for san in sans)


def _extended_usage(*, server: bool) -> x509.ObjectIdentifier:
    return ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH


def _names_and_usages(
    cert: x509.Certificate,
) -> tuple[frozenset[x509.GeneralName], frozenset[x509.ObjectIdentifier]]:
    extensions = cert.extensions
    try:
        names = frozenset(extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        names = frozenset()
    try:
        usages = frozenset(extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = frozenset()
    return names, usages


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_atomically(path: Path, content: bytes, *, mode: int) -> None:
    """Write beside the target, then rename over it; the file has `mode` from its creation,
    so a key is never readable by others, not even for a moment.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    temporary.chmod(mode)  # what the umask took away from a certificate's mode
    temporary.replace(path)

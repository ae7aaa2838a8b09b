"""Certificates for the agent's mutual TLS: a local certificate authority and what it issues."""

from pier.drivers.certs.local import CertificatePaths, IssuedCertificate, LocalCertificateAuthority

__all__ = ["CertificatePaths", "IssuedCertificate", "LocalCertificateAuthority"]

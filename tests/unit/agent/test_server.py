"""The agent's TLS settings: client certificates required, TLS 1.2 at least."""

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pier.agent.server import build_ssl_context
from pier.drivers.certs import LocalCertificateAuthority


def test_the_context_requires_a_client_certificate_and_tls_1_2(tmp_path: Path) -> None:
    ca = LocalCertificateAuthority(tmp_path, lambda: datetime.now(UTC))
    server = ca.ensure_pair(
        "agent",
        server=True,
        sans=["127.0.0.1"],
        lifetime=timedelta(days=1),
        renew_before=timedelta(),
    )

    context = build_ssl_context(cert=server.cert, key=server.key, client_ca=ca.ensure())

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "Pier local CA"),),)]

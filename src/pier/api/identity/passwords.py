"""Salted scrypt hashes for passwords and application-credential secrets; sha256 for tokens.

Tokens are 256-bit random, so a plain sha256 is enough and keeps validation cheap; passwords
may be weak, so they get a memory-hard KDF.
"""

import base64
import functools
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_KEY_BYTES = 32


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=128 * r * n * 2
    )


def hash_secret(secret: str) -> str:
    """Return `scrypt$n$r$p$salt$key`; the parameters travel with the hash so they can change."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(secret, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


@functools.cache
def _dummy_hash() -> str:
    """Compared against when there is no hash, so an unknown user costs as much as a bad
    password (no user enumeration by timing). Built on first use, not at import.
    """
    return hash_secret(secrets.token_urlsafe(16))


def verify_secret(secret: str, stored: str | None) -> bool:
    """Constant-time check of `secret` against `hash_secret` output; None never matches."""
    try:
        scheme, n, r, p, salt, key = (stored or _dummy_hash()).split("$")
        if scheme != "scrypt":
            return False
        candidate = _scrypt(secret, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, _unb64(key)) and stored is not None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """An opaque token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_audit_id() -> str:
    """Keystone's audit id shape: 16 random bytes, URL-safe base64 without padding (22 chars)."""
    return secrets.token_urlsafe(16)

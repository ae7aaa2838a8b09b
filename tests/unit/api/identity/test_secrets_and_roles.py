"""Pure helpers: secret hashing and Keystone's implied-role expansion."""

from pier.api.identity.implied_roles import expand_roles, implied_by
from pier.api.identity.passwords import hash_secret, new_token, token_hash, verify_secret


def test_hash_is_salted_scrypt_and_verifies() -> None:
    first, second = hash_secret("s3cret"), hash_secret("s3cret")

    assert first.startswith("scrypt$16384$8$1$") and first != second
    assert "s3cret" not in first
    assert verify_secret("s3cret", first) and verify_secret("s3cret", second)
    assert not verify_secret("s3cret!", first)


def test_missing_or_malformed_hashes_never_match() -> None:
    for stored in (None, "", "plain", "bcrypt$1$2$3$a$b", "scrypt$x$8$1$a$b"):
        assert not verify_secret("anything", stored)


def test_tokens_are_256_bit_and_hashed_with_sha256() -> None:
    token = new_token()

    assert len(token) == 43 and token != new_token()
    assert len(token_hash(token)) == 64 and token_hash(token) == token_hash(token)


def test_implied_roles_follow_keystone_defaults() -> None:
    assert implied_by("admin") == ["manager", "member", "reader"]
    assert implied_by("member") == ["reader"]
    assert implied_by("load-balancer_member") == []
    assert expand_roles(["manager", "load-balancer_observer"]) == {
        "manager",
        "member",
        "reader",
        "load-balancer_observer",
    }

"""The heartbeat codec against Octavia's own envelope code, forgeries and malformed input."""

import hashlib
import hmac
import json
import zlib
from dataclasses import replace
from typing import Any

import pytest

from pier.wire.heartbeat import (
    MAX_DATAGRAM,
    ForgedHeartbeat,
    HeartbeatMessage,
    ListenerReport,
    ListenerStats,
    MalformedHeartbeat,
    OversizedHeartbeat,
    PoolReport,
    decode_heartbeat,
    encode_heartbeat,
    from_document,
    pool_id_of,
    sign,
    to_document,
)

KEY = "insecure-test-heartbeat-key"
AMPHORA = "3c8d2e1a-5b7f-4c9d-8e0f-1a2b3c4d5e6f"
LISTENER = "4e1b5f2c-0001-4000-8000-00000000000a"
POOL = "9a7c3d10-0001-4000-8000-0000000000a1"
MEMBER = "c0ffee00-0000-4000-8000-000000000001"

# The example of octavia/amphorae/backends/health_daemon/health_daemon.py build_stats_message.
OCTAVIA_MESSAGE: dict[str, Any] = {
    "id": AMPHORA,
    "seq": 67,
    "listeners": {
        LISTENER: {
            "status": "OPEN",
            "stats": {"tx": 1275, "rx": 510, "conns": 1, "totconns": 6, "ereq": 1},
        }
    },
    "pools": {f"{POOL}:{LISTENER}": {"status": "UP", "members": {MEMBER: "no check"}}},
    "ver": 3,
}


def octavia_wrap_envelope(obj: Any, key: str, hex: bool = True) -> bytes:  # noqa: A002
    """octavia/amphorae/backends/health_daemon/status_message.py, as the amphora runs it
    (oslo's jsonutils.dumps is json.dumps with its default separators).
    """
    payload = zlib.compress(json.dumps(obj).encode("utf-8"), 9)
    hmc = hmac.new(key.encode("utf-8"), payload, hashlib.sha256)
    return payload + (hmc.hexdigest().encode("utf-8") if hex else hmc.digest())


def signed(document: bytes, key: str = KEY) -> bytes:
    """Correctly signed bytes whatever they hold: the codec must judge the content."""
    return document + sign(document, key)


def test_a_datagram_made_by_octavias_amphora_decodes() -> None:
    message = decode_heartbeat(octavia_wrap_envelope(OCTAVIA_MESSAGE, KEY), KEY)

    assert message == HeartbeatMessage(
        amphora_id=AMPHORA,
        seq=67,
        version=3,
        listeners={
            LISTENER: ListenerReport(
                "OPEN", ListenerStats(tx=1275, rx=510, conns=1, totconns=6, ereq=1)
            )
        },
        pools={f"{POOL}:{LISTENER}": PoolReport("UP", {MEMBER: "no check"})},
    )
    assert message.stats_are_deltas


def test_the_legacy_raw_digest_is_accepted() -> None:
    datagram = octavia_wrap_envelope(OCTAVIA_MESSAGE, KEY, hex=False)

    assert decode_heartbeat(datagram, KEY).seq == 67


def test_what_we_send_is_what_octavias_receiver_reads() -> None:
    message = from_document(OCTAVIA_MESSAGE)
    datagram = encode_heartbeat(message, KEY)

    payload, digest = datagram[:-64], datagram[-64:]
    # Octavia's get_payload: hex HMAC of the compressed bytes, then zlib, then JSON.
    expected = hmac.new(KEY.encode(), payload, hashlib.sha256).hexdigest().encode()
    assert hmac.compare_digest(digest, expected)
    assert json.loads(zlib.decompress(payload)) == OCTAVIA_MESSAGE
    assert decode_heartbeat(datagram, KEY) == message
    assert to_document(message) == OCTAVIA_MESSAGE


def test_a_datagram_signed_with_another_key_is_forged() -> None:
    datagram = encode_heartbeat(from_document(OCTAVIA_MESSAGE), "another-key")

    with pytest.raises(ForgedHeartbeat):
        decode_heartbeat(datagram, KEY)


def _flip_last(datagram: bytes) -> bytes:
    return datagram[:-1] + (b"0" if datagram[-1:] != b"0" else b"1")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda d: bytes([d[0] ^ 1]) + d[1:], id="payload changed"),
        pytest.param(_flip_last, id="digest changed"),
        pytest.param(lambda d: d[:-64], id="digest removed"),
        pytest.param(lambda d: b"", id="empty"),
        pytest.param(lambda d: d[:20], id="shorter than a digest"),
    ],
)
def test_a_tampered_datagram_is_forged(tamper: Any) -> None:
    datagram = tamper(encode_heartbeat(from_document(OCTAVIA_MESSAGE), KEY))

    with pytest.raises(ForgedHeartbeat):
        decode_heartbeat(datagram, KEY)


def test_a_datagram_over_64_kib_is_refused_before_anything_else() -> None:
    with pytest.raises(OversizedHeartbeat):
        decode_heartbeat(signed(b"x" * MAX_DATAGRAM), KEY)


def test_a_signed_zlib_bomb_is_refused_without_inflating_it() -> None:
    bomb = zlib.compress(b'{"id": "' + b"a" * (2 * 1024 * 1024) + b'"}', 9)
    assert len(bomb) < MAX_DATAGRAM

    with pytest.raises(OversizedHeartbeat):
        decode_heartbeat(signed(bomb), KEY)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"not zlib at all", id="not zlib"),
        pytest.param(zlib.compress(b'{"id": "a", "seq": 1}')[:-6], id="truncated zlib"),
        pytest.param(zlib.compress(b"{not json"), id="not JSON"),
        pytest.param(zlib.compress(b"\xff\xfe\xfd"), id="not UTF-8"),
    ],
)
def test_signed_garbage_is_malformed(payload: bytes) -> None:
    with pytest.raises(MalformedHeartbeat):
        decode_heartbeat(signed(payload), KEY)


def _with(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(OCTAVIA_MESSAGE))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = document
        for name in parents:
            target = target[{"L": LISTENER, "P": f"{POOL}:{LISTENER}", "M": MEMBER}.get(name, name)]
        last = {"L": LISTENER, "P": f"{POOL}:{LISTENER}", "M": MEMBER}.get(last, last)
        if value is ...:
            del target[last]
        else:
            target[last] = value
    return document


@pytest.mark.parametrize(
    "document",
    [
        pytest.param([OCTAVIA_MESSAGE], id="an array"),
        pytest.param(_with(id=...), id="no id"),
        pytest.param(_with(id=""), id="empty id"),
        pytest.param(_with(id=7), id="numeric id"),
        pytest.param(_with(seq=...), id="no seq"),
        pytest.param(_with(seq=-1), id="negative seq"),
        pytest.param(_with(seq=True), id="boolean seq"),
        pytest.param(_with(seq="67"), id="string seq"),
        pytest.param(_with(ver=0), id="version 0"),
        pytest.param(_with(ver=2.5), id="fractional version"),
        pytest.param(_with(listeners=[]), id="listeners not an object"),
        pytest.param(_with(listeners__L__status=...), id="listener without status"),
        pytest.param(_with(listeners__L__stats__rx=-5), id="negative delta"),
        pytest.param(_with(listeners__L__stats__tx=1.5), id="fractional bytes"),
        pytest.param(_with(listeners__L__stats=None), id="stats not an object"),
        pytest.param(_with(pools__P__status=None), id="pool without status"),
        pytest.param(_with(pools__P__members__M=1), id="member status not a string"),
        pytest.param(_with(pools__P__members=["x"]), id="members not an object"),
        pytest.param(_with(pools=None), id="pools not an object"),
    ],
)
def test_signed_json_of_the_wrong_shape_is_malformed(document: Any) -> None:
    datagram = signed(zlib.compress(json.dumps(document).encode(), 9))

    with pytest.raises(MalformedHeartbeat):
        decode_heartbeat(datagram, KEY)


def test_unknown_fields_are_ignored_for_newer_senders() -> None:
    document = _with(config_version="abc", listeners__L__future={"x": 1})

    assert from_document(document) == from_document(OCTAVIA_MESSAGE)


def test_missing_stats_count_as_zero() -> None:
    message = from_document(_with(listeners__L__stats=...))

    assert message.listeners[LISTENER].stats == ListenerStats()


def test_version_2_reports_absolute_stats() -> None:
    assert not from_document(_with(ver=2)).stats_are_deltas


def test_version_1_pools_nested_in_listeners_are_flattened() -> None:
    document = {
        "id": AMPHORA,
        "seq": 3,
        "listeners": {
            LISTENER: {
                "status": "OPEN",
                "stats": {"tx": 1, "rx": 2, "conns": 0, "totconns": 3, "ereq": 0},
                "pools": {POOL: {"status": "UP", "members": {MEMBER: "UP"}}},
            }
        },
    }

    message = from_document(document)

    assert message.version == 1 and not message.stats_are_deltas
    assert message.pools == {POOL: PoolReport("UP", {MEMBER: "UP"})}


def test_pool_keys_drop_the_listener_suffix() -> None:
    assert pool_id_of(f"{POOL}:{LISTENER}") == POOL
    assert pool_id_of(POOL) == POOL


def test_services_down_travel_as_piers_one_extra_key() -> None:
    message = replace(from_document(OCTAVIA_MESSAGE), down=("haproxy",))

    document = to_document(message)

    assert document == {**OCTAVIA_MESSAGE, "down": ["haproxy"]}
    assert decode_heartbeat(encode_heartbeat(message, KEY), KEY).down == ("haproxy",)
    assert "down" not in to_document(from_document(OCTAVIA_MESSAGE))  # Octavia's shape


@pytest.mark.parametrize("down", ["haproxy", [1], {"haproxy": True}])
def test_a_down_that_is_not_a_list_of_names_is_malformed(down: Any) -> None:
    with pytest.raises(MalformedHeartbeat, match="down"):
        from_document({**OCTAVIA_MESSAGE, "down": down})


def test_the_configuration_version_travels_as_config() -> None:
    message = replace(from_document(OCTAVIA_MESSAGE), config_version="ab12")

    assert to_document(message)["config"] == "ab12"
    assert decode_heartbeat(encode_heartbeat(message, KEY), KEY).config_version == "ab12"
    with pytest.raises(MalformedHeartbeat, match="config"):
        from_document({**OCTAVIA_MESSAGE, "config": 12})

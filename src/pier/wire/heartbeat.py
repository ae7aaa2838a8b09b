"""Heartbeat codec, shared by agent and health manager: Octavia's wire format (octavia-api.md
§9.2), so an Octavia amphora and a Pier agent are interchangeable on the wire.

    datagram = zlib.compress(JSON, 9) || hex(HMAC-SHA256(key, compressed))   (64 ASCII bytes)

Pure: no sockets, no clock. `decode_heartbeat` checks the size, then the signature (constant
time; a legacy raw 32-byte digest is accepted too), and only then decompresses (bounded) and
checks the shape. Every refusal is a `HeartbeatError`:

    HeartbeatError (ValueError)
     ├── OversizedHeartbeat    datagram > 64 KiB, or JSON that would inflate past 1 MiB
     ├── ForgedHeartbeat       neither digest verifies with the key
     └── MalformedHeartbeat    signed, but not zlib, not JSON, or not a heartbeat's shape
"""

import hashlib
import hmac
import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_parse_json: Callable[[bytes], Any]
try:  # 2-3x faster than json on the health manager's hot path; the agent can do without
    import orjson

    _parse_json = orjson.loads
except ImportError:  # pragma: no cover - an amphora image without Pier's dependencies
    _parse_json = json.loads

MAX_DATAGRAM = 64 * 1024
# The largest JSON document a datagram may inflate to: a signed sender is trusted to be honest,
# not to be bug-free, and zlib's 1000:1 ratio would let 64 KiB become 64 MiB.
MAX_DOCUMENT = 1024 * 1024
HEX_DIGEST_LENGTH = 64
RAW_DIGEST_LENGTH = 32
# Version 3: stats are deltas since the previous heartbeat; 2: absolute; 1: pools nested in
# listeners (octavia-api.md §9.2).
VERSION = 3
STATS_FIELDS = ("tx", "rx", "conns", "totconns", "ereq")


class HeartbeatError(ValueError):
    """A datagram that is not a heartbeat this key vouches for; the receiver drops it."""


class OversizedHeartbeat(HeartbeatError):
    pass


class ForgedHeartbeat(HeartbeatError):
    pass


class MalformedHeartbeat(HeartbeatError):
    pass


@dataclass(frozen=True, slots=True)
class ListenerStats:
    """`rx` bytes in, `tx` bytes out, `conns` current sessions (always absolute), `totconns`
    sessions, `ereq` request errors; deltas in version 3, absolute before.
    """

    tx: int = 0
    rx: int = 0
    conns: int = 0
    totconns: int = 0
    ereq: int = 0


@dataclass(frozen=True, slots=True)
class ListenerReport:
    status: str  # HAProxy frontend status: OPEN, FULL (STOP, PAUSED while reloading)
    stats: ListenerStats = field(default_factory=ListenerStats)


@dataclass(frozen=True, slots=True)
class PoolReport:
    status: str  # HAProxy backend status: UP, DOWN
    # member id -> UP, DOWN, "UP 1/3", DRAIN, MAINT, "no check", ...
    members: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HeartbeatMessage:
    """One amphora's report. `pools` is keyed as sent: `<pool_id>:<listener_id>` (the HAProxy
    backend name) in versions 2 and 3; version 1 messages are flattened into it on decode.
    """

    amphora_id: str
    seq: int
    version: int = VERSION
    listeners: Mapping[str, ListenerReport] = field(default_factory=dict)
    pools: Mapping[str, PoolReport] = field(default_factory=dict)
    # Pier's one addition (key `down`, sent only when not empty): the services the amphora's
    # configuration needs that are not running ("haproxy", "nginx"). An Octavia receiver
    # ignores it; Pier's health manager fails such an amphora over without waiting for
    # `heartbeat_timeout`, since a dead HAProxy is an answer, not a silence.
    down: tuple[str, ...] = ()
    # Pier's second addition (key `config`): the version (sha256) of the configuration the
    # amphora served when the heartbeat was built. A heartbeat built before the last push
    # describes the configuration before it (a new listener missing), so the health manager
    # takes its statistics but not its statuses. None from Octavia's amphorae.
    config_version: str | None = None

    @property
    def stats_are_deltas(self) -> bool:
        return self.version >= 3


def sign(payload: bytes, key: str) -> bytes:
    """The 64 ASCII bytes of the hex HMAC-SHA256 that follow the payload."""
    return hmac.digest(key.encode(), payload, hashlib.sha256).hex().encode("ascii")


def encode_heartbeat(message: HeartbeatMessage, key: str) -> bytes:
    document = json.dumps(to_document(message), separators=(",", ":")).encode()
    payload = zlib.compress(document, 9)
    return payload + sign(payload, key)


def to_document(message: HeartbeatMessage) -> dict[str, Any]:
    """The JSON object Octavia's amphora sends (version 2/3 shape), plus Pier's `down` and
    `config` when there is something to say.
    """
    document: dict[str, Any] = {
        "id": message.amphora_id,
        "seq": message.seq,
        "ver": message.version,
        "listeners": {
            listener_id: {
                "status": report.status,
                "stats": {name: getattr(report.stats, name) for name in STATS_FIELDS},
            }
            for listener_id, report in message.listeners.items()
        },
        "pools": {
            key: {"status": report.status, "members": dict(report.members)}
            for key, report in message.pools.items()
        },
    }
    if message.down:
        document["down"] = list(message.down)
    if message.config_version is not None:
        document["config"] = message.config_version
    return document


def decode_heartbeat(datagram: bytes, key: str) -> HeartbeatMessage:
    """Raises a `HeartbeatError` subclass for anything but a well-formed, signed heartbeat."""
    payload = verify(datagram, key)
    return from_document(_inflate(payload))


def verify(datagram: bytes, key: str) -> bytes:
    """The signed payload of `datagram`.

    Amphorae older than Octavia's hexdigest change append the raw 32-byte digest; Octavia's
    receiver retries with that form, and so does this one.
    """
    if len(datagram) > MAX_DATAGRAM:
        raise OversizedHeartbeat(f"{len(datagram)} bytes is over {MAX_DATAGRAM}")
    secret = key.encode()
    if len(datagram) > HEX_DIGEST_LENGTH:
        payload, digest = datagram[:-HEX_DIGEST_LENGTH], datagram[-HEX_DIGEST_LENGTH:]
        expected = hmac.digest(secret, payload, hashlib.sha256).hex().encode("ascii")
        if hmac.compare_digest(digest, expected):
            return payload
    if len(datagram) > RAW_DIGEST_LENGTH:
        payload, digest = datagram[:-RAW_DIGEST_LENGTH], datagram[-RAW_DIGEST_LENGTH:]
        if hmac.compare_digest(digest, hmac.digest(secret, payload, hashlib.sha256)):
            return payload
    raise ForgedHeartbeat("the signature does not match the heartbeat key")


def _inflate(payload: bytes) -> Any:
    inflater = zlib.decompressobj()
    try:
        document = inflater.decompress(payload, MAX_DOCUMENT)
    except zlib.error as error:
        raise MalformedHeartbeat(f"not zlib data: {error}") from None
    if inflater.unconsumed_tail:
        raise OversizedHeartbeat(f"the JSON document is over {MAX_DOCUMENT} bytes")
    if not inflater.eof:
        raise MalformedHeartbeat("truncated zlib data")
    try:
        return _parse_json(document)
    except ValueError as error:  # every JSON decode error (and UnicodeDecodeError) is one
        raise MalformedHeartbeat(f"not JSON: {error}") from None


def from_document(document: Any) -> HeartbeatMessage:
    """Check the shape of a decoded JSON document. Unknown keys are ignored, so a newer
    sender can add fields; counters must be non-negative integers (a negative delta would
    decrement stored statistics).
    """
    if not isinstance(document, dict):
        raise MalformedHeartbeat("a heartbeat is a JSON object")
    amphora_id = document.get("id")
    if not isinstance(amphora_id, str) or not amphora_id:
        raise MalformedHeartbeat("id must be a non-empty string")
    seq = _count(document.get("seq"), "seq")
    version = _count(document.get("ver", 1), "ver")
    if version < 1:
        raise MalformedHeartbeat("ver must be a positive integer")
    raw_listeners = _object(document.get("listeners", {}), "listeners")
    listeners = {
        listener_id: _listener(listener_id, value) for listener_id, value in raw_listeners.items()
    }
    if version < 2:
        raw_pools: dict[str, Any] = {}
        for listener_id, value in raw_listeners.items():
            raw_pools.update(_object(value.get("pools", {}), f"listeners.{listener_id}.pools"))
    else:
        raw_pools = _object(document.get("pools", {}), "pools")
    pools = {pool_key: _pool(pool_key, value) for pool_key, value in raw_pools.items()}
    down = document.get("down", ())
    if down and (not isinstance(down, list) or not all(isinstance(d, str) for d in down)):
        raise MalformedHeartbeat("down must be a list of service names")
    config_version = document.get("config")
    if config_version is not None and not isinstance(config_version, str):
        raise MalformedHeartbeat("config must be a configuration version string")
    return HeartbeatMessage(amphora_id, seq, version, listeners, pools, tuple(down), config_version)


def _count(value: Any, where: str) -> int:
    if type(value) is int and value >= 0:  # `type`, not isinstance: True is no count
        return value
    raise MalformedHeartbeat(f"{where} must be a non-negative integer")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedHeartbeat(f"{where} must be an object")
    return value


# The hot path of the health manager: error texts are built only when there is an error.


def _listener(listener_id: str, value: Any) -> ListenerReport:
    if not isinstance(value, dict):
        raise MalformedHeartbeat(f"listeners.{listener_id} must be an object")
    status = value.get("status")
    if not isinstance(status, str):
        raise MalformedHeartbeat(f"listeners.{listener_id}.status must be a string")
    stats = value.get("stats", _NO_STATS)
    if not isinstance(stats, dict):
        raise MalformedHeartbeat(f"listeners.{listener_id}.stats must be an object")
    counts = [stats.get(name, 0) for name in STATS_FIELDS]
    for count in counts:
        if type(count) is not int or count < 0:
            raise MalformedHeartbeat(
                f"listeners.{listener_id}.stats must hold non-negative integers"
            )
    return ListenerReport(status, ListenerStats(*counts))


def _pool(pool_key: str, value: Any) -> PoolReport:
    if not isinstance(value, dict):
        raise MalformedHeartbeat(f"pools.{pool_key} must be an object")
    status, members = value.get("status"), value.get("members", {})
    if not isinstance(status, str):
        raise MalformedHeartbeat(f"pools.{pool_key}.status must be a string")
    if not isinstance(members, dict) or not all(isinstance(m, str) for m in members.values()):
        raise MalformedHeartbeat(f"pools.{pool_key}.members must map member ids to statuses")
    return PoolReport(status, members)


_NO_STATS: dict[str, int] = {}  # read only


def pool_id_of(pool_key: str) -> str:
    """`<pool_id>:<listener_id>` -> `<pool_id>`; a bare pool id (old amphorae) stays as is."""
    return pool_key.rpartition(":")[0] or pool_key

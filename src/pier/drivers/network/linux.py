"""Idempotent `ip` operations for the bridge network driver: bridges, veths into namespaces,
addresses and routes. Each one looks before it changes (`ip -j`), so running it again changes
nothing; every name Pier makes starts with a prefix of its own, so a sweep finds only Pier's.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from pier.domain.errors import TransientDriverError

IP = shutil.which("ip") or "/usr/sbin/ip"
NETNS_DIR = Path("/run/netns")
TIMEOUT_S = 10.0


def ip(*arguments: str, namespace: str | None = None) -> str:
    command = [IP, *(("-n", namespace) if namespace else ()), *arguments]
    try:
        result = subprocess.run(  # noqa: S603 - `ip` by absolute path, arguments of ours
            command, check=True, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.CalledProcessError as error:
        raise TransientDriverError(f"{' '.join(command)}: {error.stderr.strip()}") from error
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TransientDriverError(f"{' '.join(command)}: {error}") from error
    return result.stdout


def links(namespace: str | None = None) -> dict[str, dict[str, Any]]:
    """Name -> `ip -j -d link` entry."""
    entries: list[dict[str, Any]] = json.loads(
        ip("-j", "-d", "link", "show", namespace=namespace) or "[]"
    )
    return {entry["ifname"]: entry for entry in entries}


def addresses(name: str, namespace: str | None = None) -> set[str]:
    """`address/prefix` strings on one link."""
    entries: list[dict[str, Any]] = json.loads(
        ip("-j", "addr", "show", "dev", name, namespace=namespace) or "[]"
    )
    return {
        f"{info['local']}/{info['prefixlen']}"
        for entry in entries
        for info in entry.get("addr_info", [])
    }


def ensure_namespace(name: str) -> None:
    if not (NETNS_DIR / name).exists():
        ip("netns", "add", name)
    ip("link", "set", "lo", "up", namespace=name)


def ensure_bridge(name: str) -> None:
    if name not in links():
        ip("link", "add", name, "type", "bridge")
    ip("link", "set", name, "up")


def ensure_address(name: str, address: str, namespace: str | None = None) -> None:
    if address not in addresses(name, namespace):
        ip("addr", "add", address, "dev", name, namespace=namespace)


def ensure_veth(host_end: str, bridge: str, namespace: str, inner: str) -> None:
    """A veth from `bridge` into `namespace`, its inner end named `inner`; both ends up."""
    if host_end not in links():
        ip("link", "add", host_end, "type", "veth", "peer", "name", inner, "netns", namespace)
    ip("link", "set", host_end, "master", bridge)
    ip("link", "set", host_end, "up")
    ip("link", "set", inner, "up", namespace=namespace)


def ensure_default_route(namespace: str, gateway: str) -> None:
    ip("route", "replace", "default", "via", gateway, namespace=namespace)


def delete_link(name: str) -> None:
    if name in links():
        ip("link", "del", name)


def enable_forwarding() -> None:
    """The host routes between the bridges (each holds its subnet's gateway)."""
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")


NFT = shutil.which("nft") or "/usr/sbin/nft"
NAT_TABLE = "pier_floating_ips"


def apply_dnat(rules: dict[str, str]) -> None:
    """Replace Pier's NAT table with one DNAT per floating address (floating -> fixed), for
    packets arriving (prerouting) and sent by this host (output), in one nft transaction.
    """
    lines = [f"ip daddr {floating} dnat to {fixed}" for floating, fixed in sorted(rules.items())]
    body = "\n".join(f"    {line}" for line in lines)
    script = f"""add table ip {NAT_TABLE}
delete table ip {NAT_TABLE}
table ip {NAT_TABLE} {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
{body}
  }}
  chain output {{
    type nat hook output priority -100; policy accept;
{body}
  }}
}}
"""
    try:
        subprocess.run(  # noqa: S603 - `nft` by absolute path, a script of ours
            [NFT, "-f", "-"], input=script, check=True, capture_output=True, text=True,
            timeout=TIMEOUT_S,
        )  # fmt: skip
    except subprocess.CalledProcessError as error:
        raise TransientDriverError(f"nft: {error.stderr.strip()}") from error
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TransientDriverError(f"nft: {error}") from error


def delete_dnat() -> None:
    subprocess.run(  # noqa: S603 - `nft` by absolute path
        [NFT, "delete", "table", "ip", NAT_TABLE], capture_output=True, check=False, timeout=10
    )


def delete_address(name: str, address: str) -> None:
    ip("addr", "del", address, "dev", name)

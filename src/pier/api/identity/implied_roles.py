"""Keystone's default implied roles: admin ⇒ manager ⇒ member ⇒ reader.

Octavia's default policies (`project-reader`, `project-member`) rely on the expansion, so every
authenticator applies it, whoever issued the token.
"""

from collections.abc import Iterable

IMPLIES: dict[str, tuple[str, ...]] = {
    "admin": ("manager",),
    "manager": ("member",),
    "member": ("reader",),
}


def implied_by(role: str) -> list[str]:
    """Every role `role` implies, nearest first, without `role` itself."""
    found: list[str] = []
    pending = list(IMPLIES.get(role, ()))
    while pending:
        name = pending.pop(0)
        if name not in found and name != role:
            found.append(name)
            pending.extend(IMPLIES.get(name, ()))
    return found


def expand_roles(names: Iterable[str]) -> frozenset[str]:
    expanded: set[str] = set()
    for name in names:
        expanded.add(name)
        expanded.update(implied_by(name))
    return frozenset(expanded)

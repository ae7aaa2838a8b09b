"""List filters and `fields=` selection over Neutron views (pure).

Neutron semantics: every query parameter naming a field is an exact-match filter, repeated
parameters are alternatives (OR), different fields combine with AND, and parameters naming
no field are ignored. `fixed_ips=ip_address=X` matches ports holding that address.
"""

from collections.abc import Sequence
from typing import Any

from pier.api.network.views import View

# Paging and sorting parameters: accepted, never treated as filters.
NOT_FILTERS = frozenset({"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse"})


def _matches_scalar(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted.lower() == ("true" if value else "false") or wanted == str(int(value))
    if value is None:
        return False
    return str(value) == wanted


def _matches_fixed_ips(fixed_ips: list[dict[str, str]], wanted: Sequence[str]) -> bool:
    conditions: dict[str, set[str]] = {}
    for item in wanted:
        key, _, expected = item.partition("=")
        conditions.setdefault(key, set()).add(expected)
    return any(
        all(entry.get(key) in expected for key, expected in conditions.items())
        for entry in fixed_ips
    )


def _matches(view: View, key: str, wanted: Sequence[str]) -> bool:
    value = view[key]
    if key == "fixed_ips":
        return _matches_fixed_ips(value, wanted)
    if isinstance(value, list):
        return any(str(item) in wanted for item in value if not isinstance(item, dict))
    return any(_matches_scalar(value, item) for item in wanted)


def filter_views(views: Sequence[View], params: Sequence[tuple[str, str]]) -> list[View]:
    grouped: dict[str, list[str]] = {}
    for key, value in params:
        if key not in NOT_FILTERS:
            grouped.setdefault(key, []).append(value)
    return [
        view
        for view in views
        if all(_matches(view, key, wanted) for key, wanted in grouped.items() if key in view)
    ]


def select_fields(view: View, params: Sequence[tuple[str, str]]) -> View:
    """Only the fields asked for with `fields=` (all of them when none are asked for)."""
    fields = {value for key, value in params if key == "fields" and value}
    if not fields:
        return view
    return {key: value for key, value in view.items() if key in fields}

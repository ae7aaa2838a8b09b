from pier.api.network.query import filter_views, select_fields

VIEWS = [
    {
        "id": "1",
        "name": "a",
        "shared": True,
        "mtu": 1500,
        "port_id": None,
        "subnets": ["s1", "s2"],
        "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}],
    },
    {
        "id": "2",
        "name": "b",
        "shared": False,
        "mtu": 9000,
        "port_id": "p",
        "subnets": [],
        "fixed_ips": [{"subnet_id": "s2", "ip_address": "10.0.0.6"}],
    },
]


def ids(params: list[tuple[str, str]]) -> list[str]:
    return [view["id"] for view in filter_views(VIEWS, params)]


def test_exact_match_and_repeated_parameters_are_or() -> None:
    assert ids([("name", "a")]) == ["1"]
    assert ids([("name", "a"), ("name", "b")]) == ["1", "2"]
    assert ids([("name", "a"), ("id", "2")]) == []


def test_booleans_integers_and_lists() -> None:
    assert ids([("shared", "True")]) == ["1"]
    assert ids([("shared", "false")]) == ["2"]
    assert ids([("mtu", "9000")]) == ["2"]
    assert ids([("subnets", "s2")]) == ["1"]


def test_none_never_matches_and_unknown_or_paging_parameters_are_ignored() -> None:
    assert ids([("port_id", "")]) == []
    assert ids([("port_id", "p")]) == ["2"]
    assert ids([("pool_id", "x"), ("limit", "1"), ("fields", "id")]) == ["1", "2"]


def test_fixed_ips_filter() -> None:
    assert ids([("fixed_ips", "ip_address=10.0.0.6")]) == ["2"]
    assert ids([("fixed_ips", "subnet_id=s1"), ("fixed_ips", "ip_address=10.0.0.5")]) == ["1"]
    assert ids([("fixed_ips", "subnet_id=s1"), ("fixed_ips", "ip_address=10.0.0.6")]) == []


def test_select_fields() -> None:
    assert select_fields(VIEWS[0], [("fields", "id"), ("fields", "name")]) == {
        "id": "1",
        "name": "a",
    }
    assert select_fields(VIEWS[0], [("name", "a")]) == VIEWS[0]

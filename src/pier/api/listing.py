"""List requests: filters, tag filters, sorting, keyset pagination, links (spec §1.7)."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, exists, false, not_, or_, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from pier.api.schemas.fields import Bool, Int
from pier.db.tables import Tag
from pier.domain.errors import InvalidInput

RESERVED = {"limit", "marker", "page_reverse", "sort", "sort_key", "sort_dir", "fields"}
TAG_FILTERS = {"tags", "tags-any", "not-tags", "not-tags-any"}
BAD_ARGUMENTS = "One or more arguments are either duplicate or invalid"


class BadPaginationRequest(InvalidInput):
    """Raised outside WSME in Octavia, so rendered in webob's shape (spec §1.7)."""

    webob_shape = True


def parse_text(value: str) -> Any:
    return value


def parse_bool(value: str) -> Any:
    return Bool().parse("filter", value)


def parse_int(value: str) -> Any:
    return Int().parse("filter", value)


@dataclass(frozen=True)
class Collection:
    """How one table is listed: which query parameters filter and sort which columns."""

    table: Any
    list_key: str
    links_key: str
    filters: Mapping[str, tuple[Any, Callable[[str], Any]]]
    sort_columns: Mapping[str, Any]
    tagged: bool = True


@dataclass
class ListQuery:
    limit: int | None
    marker: str | None
    page_reverse: bool
    sort: list[tuple[str, str]]
    fields: list[str]
    filters: dict[str, list[str]] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)
    raw_sort: str | None = None
    raw_sort_key: str | None = None


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _parse_limit(raw: str | None, maximum: int | None) -> int | None:
    if raw is None:
        return maximum
    if raw == "infinite":
        return None
    try:
        limit = int(raw)
    except ValueError as exc:
        raise BadPaginationRequest(f"Supplied pagination limit '{raw}' is not valid.") from exc
    if limit < 1:
        return None
    return limit if maximum is None else min(limit, maximum)


def _parse_sort(request: Request, collection: Collection) -> list[tuple[str, str]]:
    params = request.query_params
    pairs: list[tuple[str, str]] = []
    if "sort" in params:
        for item in _split(params.getlist("sort")):
            key, _, direction = item.partition(":")
            pairs.append((key, direction or "asc"))
    elif "sort_key" in params:
        keys = _split(params.getlist("sort_key"))
        dirs = _split(params.getlist("sort_dir"))
        pairs = [(key, dirs[i] if i < len(dirs) else "asc") for i, key in enumerate(keys)]
    for key, direction in pairs:
        if key not in collection.sort_columns:
            raise InvalidInput(f"Supplied sort key '{key}' is not valid.")
        if direction not in ("asc", "desc"):
            raise InvalidInput(f"Supplied sort direction '{direction}' is not valid.")
    return pairs


def parse_list_query(
    request: Request,
    collection: Collection,
    max_limit: int | None,
    extra_ignored: frozenset[str] = frozenset(),
) -> ListQuery:
    params = request.query_params
    page_reverse = params.get("page_reverse", "false").lower() in ("true", "1")
    query = ListQuery(
        limit=_parse_limit(params.get("limit"), max_limit),
        marker=params.get("marker"),
        page_reverse=page_reverse,
        sort=_parse_sort(request, collection),
        fields=params.getlist("fields"),
        raw_sort=params.get("sort"),
        raw_sort_key=params.get("sort_key"),
    )
    for key in params:
        if key in RESERVED or key in extra_ignored:
            continue
        if key in TAG_FILTERS:
            query.tags[key] = _split(params.getlist(key))
        elif key in collection.filters:
            query.filters[key] = params.getlist(key)
        else:
            raise InvalidInput(BAD_ARGUMENTS)
    return query


def _filter_clauses(collection: Collection, query: ListQuery) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for key, values in query.filters.items():
        column, parse = collection.filters[key]
        try:
            parsed = [parse(value) for value in values]
        except InvalidInput as exc:
            raise InvalidInput(BAD_ARGUMENTS) from exc
        clauses.append(column.in_(parsed) if len(parsed) > 1 else column == parsed[0])
    return clauses


def _tag_clauses(collection: Collection, query: ListQuery) -> list[ColumnElement[bool]]:
    id_column = collection.table.id

    def has(tag: str) -> ColumnElement[bool]:
        return exists().where(Tag.resource_id == id_column, Tag.tag == tag)

    def has_any(tags: list[str]) -> ColumnElement[bool]:
        return exists().where(Tag.resource_id == id_column, Tag.tag.in_(tags))

    clauses: list[ColumnElement[bool]] = []
    if tags := query.tags.get("tags"):
        clauses.extend(has(tag) for tag in tags)
    if tags := query.tags.get("tags-any"):
        clauses.append(has_any(tags))
    if tags := query.tags.get("not-tags"):
        clauses.append(not_(and_(*[has(tag) for tag in tags])))
    if tags := query.tags.get("not-tags-any"):
        clauses.append(not_(has_any(tags)))
    return clauses


def _order(collection: Collection, query: ListQuery) -> list[tuple[Any, bool]]:
    """(column, descending) pairs, always ending with created_at and id as Octavia does."""
    order = [(collection.sort_columns[key], direction == "desc") for key, direction in query.sort]
    table = collection.table
    if hasattr(table, "created_at"):
        order.append((table.created_at, False))
    order.append((table.id, False))
    if query.page_reverse:
        order = [(column, not descending) for column, descending in order]
    return order


def _after_marker(order: list[tuple[Any, bool]], marker_row: Any) -> ColumnElement[bool]:
    """Keyset condition: rows strictly after the marker in the given order."""
    alternatives: list[ColumnElement[bool]] = []
    for index, (column, descending) in enumerate(order):
        marker_value = marker_row[index]
        if marker_value is None:
            continue
        equal_prefix = [
            order[i][0] == marker_row[i] if marker_row[i] is not None else order[i][0].is_(None)
            for i in range(index)
        ]
        step = column < marker_value if descending else column > marker_value
        if descending:
            step = or_(step, column.is_(None))
        alternatives.append(and_(*equal_prefix, step))
    return or_(*alternatives) if alternatives else false()


def fetch_page(
    session: Session,
    collection: Collection,
    query: ListQuery,
    base: Select[Any],
    *,
    as_rows: bool = False,
) -> list[Any]:
    """Rows of one page: `base` carries visibility (project scope, hidden statuses).

    `as_rows=True` returns plain rows of a column select instead of ORM objects: the hot
    load balancer list skips the identity map, several times cheaper per row.
    """
    statement = base.where(*_filter_clauses(collection, query), *_tag_clauses(collection, query))
    order = _order(collection, query)
    if query.marker is not None:
        columns = [column for column, _ in order]
        marker_row = session.execute(
            select(*columns).where(collection.table.id == query.marker)
        ).first()
        if marker_row is None:
            raise InvalidInput(f"Supplied pagination marker '{query.marker}' is not valid.")
        statement = statement.where(_after_marker(order, marker_row))
    statement = statement.order_by(
        *[(column.desc() if descending else column.asc()) for column, descending in order]
    )
    if query.limit is not None:
        statement = statement.limit(query.limit)
    result = session.execute(statement)
    rows = list(result.all() if as_rows else result.scalars().unique())
    if query.page_reverse:
        rows.reverse()
    return rows


def page_links(
    request: Request, query: ListQuery, items: Sequence[Mapping[str, Any]], ids: Sequence[str]
) -> list[dict[str, str]]:
    """Octavia's links: filters and sort_dir are not carried over (spec §1.7 quirk)."""
    base_url = str(request.url.replace(query=""))
    links: list[dict[str, str]] = []

    def href(marker: str, reverse: bool) -> str:
        params: list[tuple[str, str]] = [("limit", str(query.limit))]
        if query.raw_sort:
            params.append(("sort", query.raw_sort))
        if query.raw_sort_key:
            params.append(("sort_key", query.raw_sort_key))
        params.append(("marker", marker))
        if reverse:
            params.append(("page_reverse", "True"))
        return f"{base_url}?{urlencode(params)}"

    if query.limit is not None and ids and len(items) >= query.limit:
        links.append({"href": href(ids[-1], False), "rel": "next"})
    if query.marker is not None and ids:
        links.append({"href": href(ids[0], True), "rel": "previous"})
    return links


def select_fields(obj: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    if not fields:
        return obj
    return {key: obj[key] for key in fields if key in obj}

"""Rendered responses of hot lists, reused while the database revision is unchanged.

The database stays the only source of truth: an entry is served only under the revision it
was read at (see `pier.db.revision`), and the revision is read before the data, so a newer
commit can never hide behind an older entry. Keys include the caller's identity and the
whole URL, so visibility and paging are part of the key.
"""

import threading
from collections import OrderedDict
from collections.abc import Hashable

from starlette.requests import Request

from pier.db.revision import DataVersion


class ResponseCache:
    def __init__(self, source: DataVersion | None, size: int = 256) -> None:
        self._source = source
        self._size = size
        self._entries: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def revision(self) -> int | None:
        """The current revision, or None when this database offers none (no caching)."""
        return self._source.current() if self._source is not None else None

    def get(self, key: Hashable, revision: int | None) -> bytes | None:
        if revision is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != revision:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, revision: int | None, body: bytes) -> None:
        if revision is None:
            return
        with self._lock:
            self._entries[key] = (revision, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def get_response_cache(request: Request) -> ResponseCache:
    cache = getattr(request.app.state, "response_cache", None)
    return cache if isinstance(cache, ResponseCache) else ResponseCache(None)

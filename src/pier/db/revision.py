"""A number that changes whenever anything commits to the database, for read caches.

SQLite's `PRAGMA data_version` on a connection that never writes changes whenever any other
connection (in this process or another) commits, so a cached read is valid exactly as long
as the number is unchanged. Other databases have no such cheap signal: there is no revision
and callers do not cache.
"""

import threading
from typing import Any

from sqlalchemy import Engine


class DataVersion:
    def __init__(self, engine: Engine) -> None:
        self._connection: Any = engine.raw_connection()
        self._lock = threading.Lock()

    def current(self) -> int:
        with self._lock:
            cursor = self._connection.cursor()
            try:
                cursor.execute("PRAGMA data_version")
                return int(cursor.fetchone()[0])
            finally:
                cursor.close()

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def find_revision_source(engine: Engine) -> DataVersion | None:
    return DataVersion(engine) if engine.dialect.name == "sqlite" else None

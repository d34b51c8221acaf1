"""One SQLite file a store keeps its rows in (feedback, grid jobs): opened on first use, WAL,
one shared connection behind a lock, each read or write one explicit transaction."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SqliteStore:
    """Subclasses set `schema` (statements separated by ";") and `schema_version`."""

    schema: str = ""
    schema_version: int = 1

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; _transaction() opens each one.
        conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across process crashes
        conn.execute("PRAGMA busy_timeout=10000")
        with self._transaction_on(conn, write=True):
            for statement in self.schema.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={self.schema_version}")
        return conn

    @staticmethod
    @contextmanager
    def _transaction_on(conn: sqlite3.Connection, *, write: bool) -> Iterator[sqlite3.Connection]:
        # A writer takes the file's write lock at once (IMMEDIATE), so it never fails half-way
        # on a lock another process holds; a reader sees one consistent snapshot.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction on the shared connection, the lock held throughout."""
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
            with self._transaction_on(self._conn, write=write) as conn:
                yield conn

    def close(self) -> None:
        """Close the connection (the next use opens it again)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

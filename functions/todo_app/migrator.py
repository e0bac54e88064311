"""Versioned SQL migrations: `todo_app/migrations/NNNN_name.sql`, applied in order.

- `schema_migrations(version, name, checksum, applied_at)` records what ran;
- the whole run holds a PostgreSQL advisory lock, so concurrent runs (two deploys, the local runtime
  and a test) apply each migration once;
- each migration runs in its own transaction together with its bookkeeping row;
- a second run applies nothing; an applied migration whose file changed (checksum) or disappeared is
  an error: migrations are append-only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import psycopg

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
LOCK_KEY = 7_451_002_001  # arbitrary, fixed: this application's migration lock
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    pass


class MigrationRun(TypedDict):
    applied: list[str]  # the versions this run applied, in order
    current: str | None  # the latest applied version, None while nothing is


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"migration file name not understood: {path.name} (want NNNN_name.sql)")
        found.append(Migration(match.group(1), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version")
    return found


def migrate(conn: psycopg.Connection, migrations: list[Migration] | None = None) -> MigrationRun:
    """Apply pending migrations; returns {"applied": [versions], "current": version or None}."""
    migrations = discover() if migrations is None else migrations
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    text PRIMARY KEY,
                   name       text NOT NULL,
                   checksum   text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now()
               )"""
        )
        applied: dict[str, str] = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        known = {m.version: m for m in migrations}
        for version, checksum in sorted(applied.items()):
            if version not in known:
                raise MigrationError(f"migration {version} was applied but its file is missing")
            if known[version].checksum != checksum:
                raise MigrationError(f"migration {version} changed after it was applied (checksum mismatch)")
        done: list[str] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode("utf-8"))
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            done.append(migration.version)
        # under the lock, what was applied before and what this run applied are all there is
        return {"applied": done, "current": max([*applied, *done], default=None)}
    finally:
        if not conn.broken:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))

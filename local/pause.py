"""Aurora Serverless v2's auto-pause, emulated: a small TCP proxy on 127.0.0.1 in front of the embedded PostgreSQL.

`python -m local --pause-database-after SECONDS --resume-seconds SECONDS` points the functions' DB_HOST/DB_PORT
at this proxy. As on Aurora (minimum 0 ACU):
- once no client connection has been open through the proxy for `pause_after` seconds, PostgreSQL is really
  stopped (`pg_ctl stop`): nothing serves the port any more. An open connection, even an idle one, keeps it
  running (so the functions close idle ones: DB_IDLE_TIMEOUT, `idle_session_timeout`);
- a new connection to a paused database is held while PostgreSQL starts again and for `resume_seconds` more (a
  resume takes ~15 s on Aurora), then served. Connections arriving meanwhile wait for the same resume;
- `resumes` counts the resumes (the runtime logs each one: `[local] database resumed (resume #N ...)`), so a
  test can tell that something did (or did not) wake the database.

The runtime's own administrative connections (the bootstrap) go to PostgreSQL directly, never through here.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable

from .postgres_server import PostgresServer

CHUNK = 65536


class PausingProxy:
    def __init__(
        self,
        postgres: PostgresServer,
        *,
        pause_after: float,
        resume_seconds: float,
        host: str = "127.0.0.1",
        log: Callable[[str], None] = print,
        on_resume: Callable[[], None] | None = None,
    ) -> None:
        self.postgres = postgres
        self.pause_after, self.resume_seconds = pause_after, resume_seconds
        self.log, self.on_resume = log, on_resume
        self.resumes = 0
        self.pauses = 0
        self.paused = False
        self._open = 0  # client connections open through the proxy
        self._idle_since = time.monotonic()
        self._lock = threading.Lock()  # the state above; held across a pause or a resume
        self._stopping = threading.Event()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self.host, self.port = self._listener.getsockname()[:2]
        self._threads: list[threading.Thread] = []

    def start(self) -> PausingProxy:
        for target, name in ((self._accept_loop, "pg-proxy"), (self._pause_loop, "pg-pause")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop accepting and pausing; open connections end when PostgreSQL stops (the runtime stops it next)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    # -- pausing ------------------------------------------------------------------------------------
    def _pause_loop(self) -> None:
        while not self._stopping.wait(0.2):
            with self._lock:
                if self.paused or self._open or time.monotonic() - self._idle_since < self.pause_after:
                    continue
                began = time.monotonic()
                self.postgres.halt()
                self.paused = True
                self.pauses += 1
                self.log(f"[local] database paused after {self.pause_after:g}s without connections ({time.monotonic() - began:.2f}s)")

    def _resume(self) -> None:
        """With the lock held: start PostgreSQL again, then hold for the resume time."""
        began = time.monotonic()
        self.postgres.resume()
        if self.on_resume is not None:
            self.on_resume()
        remaining = self.resume_seconds - (time.monotonic() - began)
        if remaining > 0:
            time.sleep(remaining)
        self.paused = False
        self.resumes += 1
        self.log(f"[local] database resumed (resume #{self.resumes}, the connection held {time.monotonic() - began:.2f}s)")

    # -- proxying -----------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._open += 1  # counted at once: the database cannot pause under a connection being held
            threading.Thread(target=self._serve, args=(client,), name="pg-proxy-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            with self._lock:
                if self.paused:
                    self._resume()
            upstream = socket.create_connection((self.postgres.host, self.postgres.port), timeout=10)
            upstream.settimeout(None)
            pump = threading.Thread(target=_pump, args=(upstream, client), name="pg-proxy-down", daemon=True)
            pump.start()
            _pump(client, upstream)
            pump.join()
        except (OSError, subprocess.SubprocessError) as error:  # the client sees its connection closed
            self.log(f"[local] database proxy: a connection failed: {error!r}")
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    sock.close()
            with self._lock:
                self._open -= 1
                if not self._open:
                    self._idle_since = time.monotonic()


def _pump(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes until `source` ends, then shut both sockets down: when the server closes a session (e.g.
    idle_session_timeout) the connection is over at once, as Aurora counts it, not when the client next
    writes to it; and a blocked read in the other direction returns."""
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

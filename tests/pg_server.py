"""A throwaway PostgreSQL cluster for the test session.

Used by the ``pg_dsn`` fixture in ``conftest.py``; usable by hand too::

    server = PgServer.start_new()     # raises PgUnavailable with the reason
    print(server.dsn)                 # postgresql://postgres@127.0.0.1:PORT/swiftgraph_test
    server.stop()                     # stops the cluster, deletes its directory

How it works: find the server binaries (``initdb`` on PATH, else
``/usr/lib/postgresql/*/bin``, newest first), ``initdb`` a cluster with trust auth in a
fresh temp directory, and start it with ``pg_ctl`` listening on 127.0.0.1 at a free port
and on a unix socket inside the temp directory; then create the test database.
PostgreSQL refuses to run as root, so as root the temp directory belongs to the
``postgres`` user (created with ``useradd -r -m postgres`` if missing) and the server
commands run through ``runuser -u postgres --`` (or ``su postgres``).

Durability is switched off (``fsync=off`` and friends): the data is thrown away.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

DB_NAME = "swiftgraph_test"
ENV_DSN = "SWIFTGRAPH_TEST_PG_DSN"
_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
_TIMEOUT = 120  # seconds for any one server command


def in_ci() -> bool:
    """True on CI (``CI=true``), where a missing service fails tests instead of skipping."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


class PgUnavailable(RuntimeError):
    """No PostgreSQL server could be started; the message says why."""


def find_bin_dir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
        candidates.append(Path(on_path).parent)

    def version(d: str) -> tuple[int, str]:
        name = Path(d).parent.name
        return (int(name) if name.isdigit() else -1, name)

    candidates += [
        Path(d) for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    ]
    for d in candidates:
        if all(os.access(d / b, os.X_OK) for b in _SERVER_BINARIES):
            return d
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env() -> dict[str, str]:
    """The environment minus PG* variables, which would redirect the client tools."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _world_traversable(path: Path) -> bool:
    """Whether every directory from / down to ``path`` can be entered by other users."""
    path = path.resolve()
    for p in [path, *path.parents]:
        try:
            if not p.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def _ensure_postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        pass
    try:
        subprocess.run(
            ["useradd", "-r", "-m", "postgres"],
            check=True,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
        )
        return pwd.getpwnam("postgres")
    except (OSError, subprocess.SubprocessError, KeyError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        raise PgUnavailable(
            f"running as root and could not create the 'postgres' user: {detail}"
        ) from None


class PgServer:
    """One throwaway cluster. Create it with :meth:`start_new`."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.tmp: Path | None = None
        self.port: int | None = None
        self._as_root = os.geteuid() == 0
        self._started = False

    # ----------------------------------------------------------------- public

    @classmethod
    def start_new(cls) -> PgServer:
        """Start a cluster; raise :class:`PgUnavailable` with the reason if impossible."""
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise PgUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH nor "
                "in /usr/lib/postgresql/*/bin; install them (Debian: apt-get install -y "
                f"postgresql) or set {ENV_DSN} to a server's DSN"
            )
        server = cls(bin_dir)
        try:
            server._start()
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def dsn(self) -> str:
        """A libpq/psycopg URI over TCP to the test database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    @property
    def socket_dir(self) -> Path:
        assert self.tmp is not None
        return self.tmp / "sock"

    @property
    def socket_dsn(self) -> str:
        """A libpq key/value DSN over the unix socket to the test database."""
        return f"host={self.socket_dir} port={self.port} user=postgres dbname={DB_NAME}"

    def stop(self) -> None:
        """Stop the cluster (if running) and delete its directory. Idempotent."""
        tmp, self.tmp = self.tmp, None
        if tmp is None:
            return
        data = tmp / "data"
        if self._started:
            self._started = False
            try:
                self._run(
                    [
                        str(self.bin_dir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ],
                    tmp,
                )
            except PgUnavailable:
                self._kill_postmaster(data)
        shutil.rmtree(tmp, ignore_errors=True)

    # ----------------------------------------------------------------- internals

    def _start(self) -> None:
        base = Path(tempfile.gettempdir())
        if self._as_root and not _world_traversable(base):
            base = Path("/tmp")
        self.tmp = Path(tempfile.mkdtemp(prefix="swiftgraph-pg-", dir=base))
        atexit.register(self.stop)
        sock = self.tmp / "sock"
        sock.mkdir()
        if self._as_root:
            user = _ensure_postgres_user()
            for p in (self.tmp, sock):
                os.chown(p, user.pw_uid, user.pw_gid)
        data = self.tmp / "data"
        self._run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            self.tmp,
        )
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                "\n# swiftgraph test cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{sock}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        last_error: PgUnavailable | None = None
        for _attempt in range(3):  # a free port can be taken before the server binds it
            self.port = _free_port()
            log = self.tmp / f"server-{self.port}.log"
            try:
                self._run(
                    [
                        str(self.bin_dir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-l",
                        str(log),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        f"-p {self.port}",
                        "start",
                    ],
                    self.tmp,
                )
            except PgUnavailable as exc:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                last_error = PgUnavailable(f"{exc}\nserver log:\n{tail}")
                with contextlib.suppress(PgUnavailable):  # a half-started server, if any
                    self._run(
                        [
                            str(self.bin_dir / "pg_ctl"),
                            "-D",
                            str(data),
                            "-m",
                            "immediate",
                            "-w",
                            "stop",
                        ],
                        self.tmp,
                    )
                if "already in use" in tail or "could not bind" in tail:
                    continue
                raise last_error from None
            self._started = True
            break
        else:
            assert last_error is not None
            raise last_error
        self._createdb()

    def _createdb(self) -> None:
        createdb = self.bin_dir / "createdb"
        if os.access(createdb, os.X_OK):
            argv = [
                str(createdb),
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                DB_NAME,
            ]
        else:
            argv = [
                str(self.bin_dir / "psql"),
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                f"CREATE DATABASE {DB_NAME}",
            ]
        assert self.tmp is not None
        self._run(argv, self.tmp)

    def _argv(self, argv: list[str]) -> list[str]:
        if not self._as_root:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", "postgres", "--", *argv]
        return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]

    def _run(self, argv: list[str], cwd: Path) -> None:
        full = self._argv(argv)
        try:
            proc = subprocess.run(
                full,
                check=False,
                cwd=cwd,
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PgUnavailable(f"{shlex.join(full)} failed: {exc}") from None
        if proc.returncode != 0:
            out = (proc.stdout + proc.stderr).strip()[-2000:]
            raise PgUnavailable(f"{shlex.join(full)} exited {proc.returncode}: {out}")

    @staticmethod
    def _kill_postmaster(data: Path) -> None:
        """Last resort when ``pg_ctl stop`` failed: kill this cluster's postmaster.

        The pid comes from the cluster's own pid file and is checked against the
        process's command line, so no other process can be hit.
        """
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((data / "postmaster.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if str(data).encode() in cmdline:
                os.kill(pid, signal.SIGKILL)

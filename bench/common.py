"""What the benchmarks in bench/ share: a throwaway instance, gunicorn, a client, load, figures.

- `temporary_instance`: a context with an instance folder of its own (config.py, create_app,
  the migrations, the demo) on a SQLite file in it, a PostgreSQL database created and dropped
  for the run, or a database of the caller's; it stops the servers it started and removes it all.
- gunicorn: `Instance.serve` and `Instance.serve_bare` (the baseline page, bench/bare_app.py),
  built on `start_gunicorn`, `wait_until_up`, `fetch` and `stop`.
- `Visitor`, a browser over http.client (a cookie jar, a new connection per request), and
  `closed_loop`: GETs of one page from client threads for a time, measured as a `Load`.
- `percentile`, `print_head` (a report's title, named lines and table header) and
  `log_summary` (trouble in the gunicorn logs).
"""

import http.client
import logging
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import flask_migrate
from flask import Flask

from portal import config, create_app, demo
from portal.extensions import db

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TIMEOUT = 60
POSTGRES_SERVER = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
BUILDING = "Building the database ({database}) in {folder} ..."
LOG_PATTERNS = {
    "tracebacks": "Traceback (most recent call last)",
    "database is locked": "database is locked",
    "worker timeouts": "WORKER TIMEOUT",
}

# ------------------------------------------------------------------ gunicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    base_url: str
    log: Path


def start_gunicorn(name: str, target: str, env: dict, log: Path, chdir: Path) -> Server:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-k",
        "sync",
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(chdir),
        target,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=chdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(name, process, f"http://127.0.0.1:{port}", log)


def fetch(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_up(server: Server, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            status, _ = fetch(server.base_url + path, timeout=5)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    tail = server.log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{server.name} server did not answer at {server.base_url}{path}:\n{tail}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


def log_summary(servers: list[Server]) -> str:
    """Counts of trouble in the gunicorn logs, and the most common error lines."""
    text = "".join(s.log.read_text(errors="replace") for s in servers if s.log.exists())
    counts = ", ".join(f"{text.count(p)} {name}" for name, p in LOG_PATTERNS.items())
    errors = Counter(
        line.strip()[:160]
        for line in text.splitlines()
        if re.match(r"\w+(\.\w+)*(Error|Exception|Timeout)\b", line.strip())
    )
    lines = [f"server logs: {counts}"]
    lines += [f"  {n} x {line}" for line, n in errors.most_common(5)]
    return "\n".join(lines)


# ------------------------------------------------------------------ the temporary instance


@dataclass
class Instance:
    folder: Path
    app: Flask
    database_url: str
    database: str  # for the report: "SQLite (temporary file)" or "PostgreSQL (<name>)"
    servers: list[Server] = field(default_factory=list)

    @property
    def target(self) -> str:
        """The gunicorn target of this instance: the app of its folder's config.py."""
        return f"portal:create_app({{'INSTANCE_PATH': {str(self.folder)!r}}})"

    def serve(self, name: str, target: str, env: dict, path: str, chdir: Path = ROOT) -> Server:
        """gunicorn serving `target`, answering 200 at `path`; its log is <name>.log in the
        folder, and it is stopped when the instance closes."""
        server = start_gunicorn(name, target, env, self.folder / f"{name}.log", chdir)
        self.servers.append(server)
        wait_until_up(server, path)
        return server

    def serve_bare(self, env: dict, page_bytes: int) -> Server:
        """The baseline page (bench/bare_app.py), `page_bytes` long, served the same way."""
        bare_env = dict(env, BARE_PAGE_BYTES=str(page_bytes))
        return self.serve("bare", "bare_app:app", bare_env, "/", chdir=BENCH)


def create_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def describe(database_url: str) -> str:
    if database_url.startswith("postgres"):
        return f"PostgreSQL ({urlsplit(database_url).path.lstrip('/')})"
    return "SQLite (temporary file)"


@contextmanager
def _folder(prefix: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _database(folder: Path, postgres: str | None, database_url: str | None) -> Iterator[str]:
    """The database's URL: a new PostgreSQL database `postgres` (dropped after), the caller's
    `database_url` (kept), or a SQLite file in the folder."""
    if not postgres:
        yield database_url or f"sqlite:///{folder}/portal.db"
        return
    create_postgres_database(postgres)
    try:
        yield POSTGRES_URL.format(name=postgres)
    finally:
        drop_postgres_database(postgres)


def _migrate_and_load_demo(app: Flask) -> None:
    with app.app_context():
        logging.disable(logging.INFO)  # Alembic's progress lines
        try:
            flask_migrate.upgrade()
        finally:
            logging.disable(logging.NOTSET)
        demo.load(db.session)


@contextmanager
def temporary_instance(
    prefix: str,
    *,
    config_py: str = "",
    settings: dict | None = None,
    postgres: str | None = None,
    database_url: str | None = None,
    announce: str | None = BUILDING,
) -> Iterator[Instance]:
    """An instance folder, its database migrated and holding the demo, and its app.

    `config_py` (formatted with `database_url`) becomes the folder's config.py, and the
    caller's environment stops overriding it (gunicorn gets the same environment). `settings`
    go to create_app beside the folder and the database. `announce` (with {database} and
    {folder}) is printed before the migrations. On the way out: the servers stopped, the
    connections closed, the PostgreSQL database dropped (when made here), the folder removed.
    """
    with _folder(prefix) as folder, _database(folder, postgres, database_url) as url:
        if config_py:
            (folder / "config.py").write_text(config_py.format(database_url=url))
            for key in config.ENV_KEYS:
                os.environ.pop(key, None)
        app = create_app({"INSTANCE_PATH": str(folder), "DATABASE_URL": url, **(settings or {})})
        instance = Instance(folder, app, url, describe(url))
        try:
            if announce:
                print(announce.format(database=instance.database, folder=folder), flush=True)
            _migrate_and_load_demo(app)
            yield instance
        finally:
            for server in instance.servers:
                stop(server)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()  # before the database is dropped


# ------------------------------------------------------------------ the client and load


class Visitor:
    """One simulated browser: a cookie jar (name -> value) and plain HTTP/1.1 requests."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"User-Agent": "portal-bench", "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers | (extra or {})

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()

    def send(self, method: str, path: str, body: bytes | None = None, headers=None):
        """Opens the connection and sends the request; the caller reads the answer with
        `answer` (two can be in flight at once, for overlapping retries)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        conn.request(method, path, body=body, headers=self._headers(headers))
        return conn

    def answer(self, conn: http.client.HTTPConnection) -> tuple[int, dict, bytes]:
        try:
            response = conn.getresponse()
            body = response.read()
            self._keep_cookies(response)
            return response.status, dict(response.headers), body
        finally:
            conn.close()

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        return self.answer(self.send(method, path, body, headers))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Load:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int  # answered 200
    errors: int


def closed_loop(
    base: str,
    path: str,
    threads: int,
    duration: float,
    cookies: dict | None = None,
    headers: dict | None = None,
) -> Load:
    """GET `path` (with `headers`) from `threads` client threads for `duration` seconds, each
    sending its next request when the last one answered; 200 answers are timed, anything else
    is an error."""
    url = urlsplit(base)

    def client() -> tuple[list[float], int]:
        visitor = Visitor(url.hostname, url.port)
        timed, failed = [], 0
        while time.monotonic() < deadline:
            visitor.cookies = dict(cookies or {})  # the same session for every request
            t = time.perf_counter()
            try:
                status, _h, _b = visitor.request("GET", path, headers=headers)
            except (OSError, http.client.HTTPException):
                status = None
            if status == 200:
                timed.append((time.perf_counter() - t) * 1000)
            else:
                failed += 1
        return timed, failed

    started = time.monotonic()
    deadline = started + duration
    with ThreadPoolExecutor(threads) as pool:
        results = [f.result() for f in [pool.submit(client) for _ in range(threads)]]
    seconds = time.monotonic() - started
    latencies = [ms for timed, _failed in results for ms in timed]
    return Load(
        rps=len(latencies) / seconds,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        requests=len(latencies),
        errors=sum(failed for _timed, failed in results),
    )


# ------------------------------------------------------------------ reports


def print_head(title: str, lines: dict[str, str], width: int, header: str) -> None:
    """A report's opening: its title, one indented line per name, the table's header."""
    print()
    print(title)
    for name, text in lines.items():
        print(f"  {name:<{width}} {text}")
    print()
    print(header)
    print("-" * len(header))

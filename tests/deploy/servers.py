"""Servers the deployment tests start: gunicorn instances of the app on the test database, and PgBouncer."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings

from tests.core.test_demo import GUNICORN, ROOT, free_port

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def _wait_until_up(process: subprocess.Popen[bytes], url: str, what: str) -> None:
    for _ in range(150):
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            assert process.poll() is None, f"{what} exited"
            threading.Event().wait(0.2)
    pytest.fail(f"{what} did not answer on {url} within 30 s")


@contextmanager
def gunicorns(count: int, database_url: str, **env: str) -> Iterator[list[str]]:
    """count gunicorn instances (two workers each) with the test settings on database_url and env; their
    addresses."""
    servers = []
    try:
        for _ in range(count):
            port = free_port()
            server_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"} | {
                "DJANGO_SETTINGS_MODULE": "config.settings_test",
                "DATABASE_URL": database_url,
                "SECRET_KEY": settings.SECRET_KEY,  # every instance, like this process, signs with the same key
                "DJANGO_LOCAL_HTTP": "1",
                "SITE_URL": f"http://127.0.0.1:{port}",
                **env,
            }
            command = [
                GUNICORN,
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
            ]
            servers.append((subprocess.Popen(command, cwd=ROOT, env=server_env), f"http://127.0.0.1:{port}"))
        for server, url in servers:
            _wait_until_up(server, f"{url}/healthz/", "gunicorn")
        yield [url for _, url in servers]
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(timeout=30)


@contextmanager
def pgbouncer(*, pool_size: int) -> Iterator[tuple[str, int]]:
    """PgBouncer (Debian's package) in transaction pooling mode on a free loopback port, in front of the test
    database's server, with at most pool_size server connections per database; its host and port."""
    if not Path(PGBOUNCER).exists():
        pytest.skip("needs PgBouncer: apt-get install pgbouncer")
    database = settings.DATABASES["default"]
    user, port = database["USER"], free_port()
    with tempfile.TemporaryDirectory(prefix="pgbouncer-") as scratch:
        folder = Path(scratch)
        folder.chmod(0o755)  # run as root, PgBouncer drops to the postgres user, which must read its settings
        (folder / "users.txt").write_text(f'"{user}" ""\n')
        (folder / "pgbouncer.ini").write_text(
            f"""[databases]
* = host={database["HOST"]} port={database["PORT"]}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
admin_users = {user}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 200
"""
        )
        as_user = ["-u", "postgres"] if os.geteuid() == 0 else []  # PgBouncer refuses to run as root
        with open(folder / "pgbouncer.log", "wb") as log:  # it logs to stderr
            process = subprocess.Popen([PGBOUNCER, *as_user, str(folder / "pgbouncer.ini")], stderr=log)
        try:
            for _ in range(100):
                try:
                    psycopg.connect(host="127.0.0.1", port=port, user=user, dbname=database["NAME"]).close()
                    break
                except psycopg.OperationalError:
                    assert process.poll() is None, (folder / "pgbouncer.log").read_text()
                    threading.Event().wait(0.1)
            else:
                pytest.fail(f"PgBouncer did not accept connections:\n{(folder / 'pgbouncer.log').read_text()}")
            yield "127.0.0.1", port
        finally:
            process.terminate()
            process.wait(timeout=30)


def pgbouncer_transactions(host: str, port: int, database_name: str) -> int:
    """How many transactions PgBouncer has passed to database_name's server (its admin console's SHOW STATS)."""
    user = settings.DATABASES["default"]["USER"]
    with psycopg.connect(host=host, port=port, user=user, dbname="pgbouncer", autocommit=True) as admin:
        cursor = admin.execute("SHOW STATS")
        columns = [column.name for column in cursor.description or []]
        for row in cursor.fetchall():
            stats = dict(zip(columns, row, strict=True))
            if stats["database"] == database_name:
                return int(stats["total_xact_count"])
    return 0

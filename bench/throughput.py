"""Throughput of a page at 1, 2 and 4 gunicorn workers: requests per second with 8 clients asking at once.

Serves the app with the production settings (collected static files, persistent database connections) on a catalog
that `bench/pages.py` seeded (10,000 models / 100,000 versions: scale-owner sees them all), and has 8 threads, each
with its own keep-alive HTTP connection and scale-owner's session, ask for the page for a fixed time.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelcatalog_bench python bench/throughput.py \\
        [--workers 1 2 4] [--clients 8] [--seconds 15] [--path /models/]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SECRET_KEY = "bench-only-secret-key-0123456789-0123456789-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, static_root: str) -> dict[str, str]:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "DJANGO_LOCAL_HTTP": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
    }


def session_cookie(env: dict[str, str], username: str) -> str:
    """A session of username's in the database, made as a sign-in would."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client.cookies["sessionid"].value


def serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [GUNICORN, "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz/", timeout=2)
            return server, url
        except httpx.TransportError:
            if server.poll() is not None:
                raise SystemExit("gunicorn exited") from None
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def run_clients(clients: int, seconds: float, work: Callable[[int, threading.Barrier, threading.Event], None]) -> float:
    """Run work(n, start, stop) in clients threads at once: each warms up, waits at start, then works until stop is
    set, seconds later. Returns the seconds from start to the last thread's end."""
    start = threading.Barrier(clients + 1)
    stop = threading.Event()
    threads = [threading.Thread(target=work, args=(n, start, stop)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def load(url: str, path: str, cookie: str, clients: int, seconds: float) -> tuple[float, float, float]:
    """Requests per second, and the median and p95 latency in ms, of clients threads asking for path."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[int] = [0] * clients

    def client(n: int, start: threading.Barrier, stop: threading.Event) -> None:
        with httpx.Client(base_url=url, cookies={"sessionid": cookie}, timeout=30) as http:
            for _ in range(3):  # warm this connection and the worker it lands on
                http.get(path)
            start.wait()
            while not stop.is_set():
                began = time.perf_counter()
                response = http.get(path)
                if response.status_code == 200:
                    latencies[n].append((time.perf_counter() - began) * 1000)
                else:
                    failures[n] += 1

    elapsed = run_clients(clients, seconds, client)
    if any(failures):
        raise SystemExit(f"{sum(failures)} requests failed")
    every = sorted(ms for per_client in latencies for ms in per_client)
    return len(every) / elapsed, statistics.median(every), every[int(len(every) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--path", default="/models/")
    parser.add_argument("--username", default="scale-owner")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database that bench/pages.py seeded.")
    with tempfile.TemporaryDirectory() as static_root:
        env = server_env(database_url, static_root)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        cookie = session_cookie(env, args.username)
        print(f"{args.path} as {args.username}, {args.clients} clients at once, {args.seconds:.0f} s per row, ")
        print(f"on {os.cpu_count()} CPUs (PostgreSQL on the same machine)\n")
        print("| gunicorn workers | requests/s | median ms | p95 ms |")
        print("|---:|---:|---:|---:|")
        for workers in args.workers:
            server, url = serve(env, workers)
            try:
                rate, median, p95 = load(url, args.path, cookie, args.clients, args.seconds)
            finally:
                server.terminate()
                server.wait(timeout=30)
            print(f"| {workers} | {rate:.1f} | {median:.1f} | {p95:.1f} |", flush=True)


if __name__ == "__main__":
    main()

"""A real MLflow tracking server, for the importer's tests and the side-by-side benchmark.

MLflow (the full server, pinned to the mlflow-skinny our compatibility tests use) lives in a virtual environment of
its own under var/mlflow-venv, so that its many dependencies never meet ours. `ensure_venv()` creates it once (a few
minutes the first time); `mlflow_server()` starts `mlflow server` on a free loopback port with a SQLite or a given
PostgreSQL backend store, waits until it answers, and stops it.

    python bench/mlflow_server.py          # create the environment, start a server, print its address, stop it
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
MLFLOW_VERSION = "3.17.2"  # the same as mlflow-skinny in pyproject.toml
# psycopg 3 is what MLflow's SQLAlchemy store speaks to a postgresql:// store with.
REQUIREMENTS = [f"mlflow=={MLFLOW_VERSION}", "psycopg[binary]>=3.2,<4"]
VENV = Path(os.environ.get("MLFLOW_VENV", ROOT / "var" / "mlflow-venv"))
STARTUP_SECONDS = 180


class RunningServer(NamedTuple):
    url: str
    pid: int  # the process that leads the server's workers (what their memory is read under)


class MlflowSetupError(RuntimeError):
    """The MLflow environment could not be created or its server did not start; the message says why."""


def _marker(venv: Path) -> Path:
    """A file that says the environment holds REQUIREMENTS (a changed list installs again)."""
    return venv / f".installed-{zlib.crc32(' '.join(REQUIREMENTS).encode()):08x}"


def ensure_venv(venv: Path = VENV) -> Path:
    """The `mlflow` command of a virtual environment with the pinned MLflow, created when missing.

    Raises MlflowSetupError with pip's last lines when it cannot be made."""
    mlflow = venv / "bin" / "mlflow"
    if _marker(venv).exists() and mlflow.exists():
        return mlflow
    venv.parent.mkdir(parents=True, exist_ok=True)
    # One creator at a time (two test runs, or a test run and the benchmark): the others wait, then find it made.
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _marker(venv).exists() and mlflow.exists():
            return mlflow
        return _create(venv, mlflow)


def _create(venv: Path, mlflow: Path) -> Path:
    # --clear: a half-made environment (an earlier run cut short) is made again from the start.
    steps = [[sys.executable, "-m", "venv", "--clear", str(venv)]]
    steps += [
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise MlflowSetupError(f"Could not create MLflow's environment in {venv} ({' '.join(step[:4])}…):\n{tail}")
    for old in venv.glob(".installed-*"):
        old.unlink()
    _marker(venv).touch()
    return mlflow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def mlflow_server(
    *, backend_store_uri: str | None = None, workers: int = 1, port: int | None = None, log: Path | None = None
) -> Iterator[RunningServer]:
    """A running `mlflow server` on 127.0.0.1 (a SQLite store in a temporary directory unless backend_store_uri);
    yields its address and process and stops it on exit. Raises MlflowSetupError when it does not come up."""
    mlflow = ensure_venv()
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="mlflow-server-") as scratch:
        store = backend_store_uri or f"sqlite:///{scratch}/mlflow.db"
        log_path = log or Path(scratch) / "server.log"
        command = [
            str(mlflow),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--backend-store-uri",
            store,
            "--default-artifact-root",
            f"{scratch}/artifacts",
        ]
        env = os.environ | {
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # background jobs serve GenAI features, not the registry
        }
        env.pop("DATABASE_URL", None)
        with open(log_path, "w") as log_file:
            process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=scratch, start_new_session=True
            )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not _healthy(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
                    raise MlflowSetupError(f"mlflow server did not start on {url}:\n{tail}")
                time.sleep(0.3)
            yield RunningServer(url, process.pid)
        finally:
            # The server forks workers: stop the whole process group it leads.
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


if __name__ == "__main__":
    started = time.monotonic()
    print(f"MLflow {MLFLOW_VERSION}: {ensure_venv()} ({time.monotonic() - started:.0f} s)")
    with mlflow_server() as server:
        print(f"mlflow server answers at {server.url}")

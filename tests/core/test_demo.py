"""`make demo` as it runs: the Makefile's demo environment, production settings, gunicorn on 127.0.0.1."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def demo_env_from_makefile() -> dict[str, str]:
    """The variables the Makefile's demo target sets (its DEMO_ENV line), as a dict."""
    line = re.search(r"^DEMO_ENV := (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert line, "the Makefile has no DEMO_ENV line"
    return dict(item.split("=", 1) for item in shlex.split(line.group(1)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Demo:
    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.key_file = tmp / "secret_key"
        makefile_env = demo_env_from_makefile()
        assert makefile_env["SECRET_KEY_FILE"] == "var/secret_key"
        # The Makefile's variables, with var/ moved to a temporary folder so the developer's demo is left alone.
        env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", "DJANGO_DEBUG"}}
        env |= makefile_env | {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY_FILE": str(self.key_file),
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "STATIC_ROOT": str(tmp / "staticfiles"),
            "SITE_URL": f"http://127.0.0.1:{self.port}",
        }
        self.env = env
        self.url = f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def serve(self) -> subprocess.Popen[bytes]:
        server = subprocess.Popen(
            [GUNICORN, "config.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--log-level", "warning"],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/healthz/", timeout=2)
                return server
            except httpx.TransportError:
                assert server.poll() is None, "gunicorn exited"
                time.sleep(0.2)
        server.terminate()
        pytest.fail("the demo server did not answer within 30 s")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo set up as `make demo` does it (migrate, collectstatic), served by gunicorn."""
    demo = Demo(tmp_path_factory.mktemp("var"))
    demo.manage("migrate", "--noinput")
    demo.manage("collectstatic", "--noinput", "--verbosity", "0")
    server = demo.serve()
    yield demo
    server.terminate()
    server.wait(timeout=10)


def test_the_secret_key_is_generated_once_readable_by_its_owner_only(demo: Demo) -> None:
    key = demo.key_file.read_text().strip()
    assert len(key) >= 50
    assert stat.S_IMODE(demo.key_file.stat().st_mode) == 0o600
    # Every later start (collectstatic, gunicorn, this shell) reads the same key instead of making a new one.
    printed = demo.manage("shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)")
    assert printed.splitlines()[-1] == key
    assert demo.key_file.read_text().strip() == key


def test_a_missing_page_is_the_apps_404_not_the_debug_page(demo: Demo) -> None:
    response = httpx.get(f"{demo.url}/no-such-page/")
    assert response.status_code == 404
    assert "Not found" in response.text
    assert "Back to the catalog" in response.text
    assert "URLconf" not in response.text
    assert "DEBUG = True" not in response.text


def test_a_host_not_allowed_is_the_apps_400(demo: Demo) -> None:
    response = httpx.get(f"{demo.url}/healthz/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Bad request" in response.text
    assert "DisallowedHost" not in response.text


def test_static_files_are_served_with_cache_busting_names(demo: Demo) -> None:
    page = httpx.get(f"{demo.url}/accounts/login/")
    assert page.status_code == 200
    stylesheet = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page.text)
    assert stylesheet, "the page does not link the collected, hashed stylesheet"
    css = httpx.get(demo.url + stylesheet.group(1))
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    assert httpx.get(f"{demo.url}/static/js/app.js").status_code == 200


def test_sign_in_works_over_plain_http(demo: Demo) -> None:
    demo.manage("shell", "-c", "from tests.factories import UserFactory; UserFactory(username='ann')")
    with httpx.Client(base_url=demo.url) as client:
        login = client.get("/accounts/login/")
        assert "secure" not in login.headers["set-cookie"].lower()
        response = client.post(
            "/accounts/login/",
            data={"username": "ann", "password": "pw", "csrfmiddlewaretoken": client.cookies["csrftoken"]},
        )
        assert response.status_code == 302, response.text
        assert client.get("/").status_code == 200
        assert "Signed in as" in client.get("/").text


def test_the_demo_runs_a_task_worker_beside_the_server_and_ctrl_c_stops_both(demo: Demo) -> None:
    """`make demo-up` (the end of `make demo`) with the demo's variables: queued mail is sent by its worker; one
    SIGINT to the foreground process group (what Ctrl-C sends) ends the server, the worker and make."""
    port = free_port()
    demo_env = demo_env_from_makefile() | {k: demo.env[k] for k in ("SECRET_KEY_FILE", "DATABASE_URL", "STATIC_ROOT")}
    demo_env["SITE_URL"] = f"http://127.0.0.1:{port}"
    assert demo_env["WEBHOOK_ALLOW_HTTP"] == demo_env["WEBHOOK_ALLOW_PRIVATE"] == "1"
    make = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "demo-up",
            f"BIN={Path(PYTHON).parent}",
            f"PORT={port}",
            "DEMO_ENV=" + " ".join(f"{k}={shlex.quote(v)}" for k, v in demo_env.items()),
        ],
        cwd=ROOT,
        env=demo.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal's foreground job has
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz/", timeout=2).status_code == 200
                break
            except httpx.TransportError:
                assert make.poll() is None, "make demo-up exited"
                assert time.monotonic() < deadline, "the demo server did not answer within 30 s"
                time.sleep(0.2)
        demo.manage(
            "shell",
            "-c",
            "from core.mail import send_mail_task; "
            "send_mail_task.enqueue(subject='Queued in the demo', body='Sent by the worker.', to=['ann@example.com'])",
        )
        count = (
            "from django_tasks_db.models import DBTaskResult; "
            "print(DBTaskResult.objects.filter(status='SUCCESSFUL').count())"
        )
        deadline = time.monotonic() + 30
        while demo.manage("shell", "-c", count).strip().splitlines()[-1] != "1":
            assert time.monotonic() < deadline, "the demo's worker did not run the queued mail within 30 s"
            time.sleep(0.5)
    finally:
        os.killpg(make.pid, signal.SIGINT)
        output = make.communicate(timeout=30)[0].decode()
    assert "Subject: Queued in the demo" in output  # the console mail backend, in the worker's output
    with pytest.raises(ProcessLookupError):
        os.killpg(make.pid, 0)  # nothing of the group is left running

"""The README's receiver, run as it is printed: it prints each event once, and refuses a bad signature and a replay
of a request older than five minutes."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Signer

from activity.services import comment_on_version
from tests.tasks import closed_port, run_tasks
from tests.webhooks.conftest import hook

README = Path(__file__).resolve().parents[2] / "README.md"


def receiver_code() -> str:
    block = re.search(r"<!-- receiver -->\n```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert block, "the README has no receiver block"
    return block.group(1)


@pytest.mark.usefixtures("local")
def test_the_readme_receiver_verifies_deliveries_and_refuses_replays(
    version: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    code = receiver_code()
    assert len([line for line in code.splitlines() if line.strip()]) <= 15
    port = closed_port()
    url = f"http://127.0.0.1:{port}/"
    webhook, secret = hook(owner, version.model, url)
    receiver = subprocess.Popen(
        [sys.executable, "-c", code],
        env={"WEBHOOK_SECRET": secret, "PORT": str(port), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the receiver did not start"
                time.sleep(0.1)
        with django_capture_on_commit_callbacks(execute=True):
            comment_on_version(actor=owner, version=version, comment="Hello, receiver")
        run_tasks()
        assert webhook.deliveries.get().status_code == 204

        body = b'{"id":"evt_old","type":"comment.added","data":{"text":"replayed"}}'
        old = datetime.now(UTC) - timedelta(minutes=6)
        signature = Signer(secret).sign("evt_old", old, body.decode())
        stale = {
            "webhook-id": "evt_old",
            "webhook-timestamp": str(int(old.timestamp())),
            "webhook-signature": signature,
        }
        assert httpx.post(url, content=body, headers=stale).status_code == 400
        forged = stale | {"webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,AAAA"}
        assert httpx.post(url, content=body, headers=forged).status_code == 400
    finally:
        receiver.terminate()
        output, _ = receiver.communicate(timeout=10)
    assert output.splitlines() == ["owner commented on Churn Predictor v1.0.0: Hello, receiver"]

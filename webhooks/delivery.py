"""One attempt to deliver an event to a webhook: the body, its Standard Webhooks signature, and an HTTP POST to the
address checked by webhooks.safety, with timeouts, no redirects, and the answer read up to a cap."""

from __future__ import annotations

import base64
import functools
import json
import secrets
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from django.conf import settings
from standardwebhooks.webhooks import Webhook as Signer

from core import clock
from webhooks.models import RESPONSE_CAP, RESPONSE_EXCERPT, Event, PayloadFormat, Webhook
from webhooks.safety import UnsafeURL, resolve

SECRET_PREFIX = "whsec_"
USER_AGENT = "ModelCatalog-Webhooks/1"
# Headers a webhook's extra headers may not set: the signature's, and those that frame the request.
RESERVED_HEADERS = frozenset(
    {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "host", "user-agent",
     "transfer-encoding", "connection"}
)  # fmt: skip


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the system's certificates takes tens of milliseconds: once per worker process, not per attempt.
    return ssl.create_default_context()


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(webhook: Webhook, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its grace period."""
    keys = [webhook.secret]
    if webhook.previous_secret and webhook.previous_secret_expires_at and webhook.previous_secret_expires_at > now:
        keys.append(webhook.previous_secret)
    return keys


def body_of(webhook: Webhook, event: Event) -> str:
    if webhook.payload_format == PayloadFormat.SLACK:
        return json.dumps({"text": event.payload["data"]["text"]}, ensure_ascii=False)
    return json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"))


def signed_headers(webhook: Webhook, event: Event, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: id, timestamp, and one v1 signature per signing secret."""
    when = now.astimezone(UTC)
    signatures = " ".join(Signer(key).sign(event.event_id, when, body) for key in signing_secrets(webhook, now))
    return {
        "webhook-id": event.event_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signatures,
    }


@dataclass
class Outcome:
    ok: bool
    status_code: int | None = None
    duration_ms: int = 0
    excerpt: str = ""
    error: str = ""


def _read_capped(response: httpx.Response, deadline: float) -> bytes:
    received = b""
    for chunk in response.iter_bytes():
        received += chunk
        # A receiver that trickles its answer byte by byte would hold the worker past the read timeout.
        if len(received) >= RESPONSE_CAP or time.monotonic() > deadline:
            break
    return received[:RESPONSE_CAP]


def attempt(webhook: Webhook, event: Event) -> Outcome:
    """POST event to webhook once; never raises for the receiver's or the network's failures."""
    started = time.monotonic()

    def outcome(**kwargs: object) -> Outcome:
        return Outcome(duration_ms=int((time.monotonic() - started) * 1000), **kwargs)  # type: ignore[arg-type]

    try:
        destination = resolve(webhook.url)
    except UnsafeURL as error:
        return outcome(ok=False, error=str(error))
    url = httpx.URL(webhook.url)
    # Connect to the address checked, not to the name again: the Host header and TLS (SNI and the certificate's
    # name) still use the name.
    target = url.copy_with(host=destination.address, port=destination.port)
    body = body_of(webhook, event)
    headers = {key: str(value) for key, value in (webhook.headers or {}).items() if key.lower() not in RESERVED_HEADERS}
    headers |= {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": url.netloc.decode("ascii"),
    }
    headers |= signed_headers(webhook, event, body, clock.now())
    connect, read = settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT
    timeout = httpx.Timeout(connect=connect, read=read, write=read, pool=connect)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls()) as client:
            request = client.build_request(
                "POST", target, content=body.encode(), headers=headers, extensions={"sni_hostname": destination.host}
            )
            response = client.send(request, stream=True)
            try:
                received = _read_capped(response, started + connect + 2 * read)
            finally:
                response.close()
    except httpx.TimeoutException as error:
        return outcome(ok=False, error=f"Timed out ({type(error).__name__}).")
    except httpx.HTTPError as error:
        return outcome(ok=False, error=f"{type(error).__name__}: {error}"[:300])
    excerpt = received.decode("utf-8", errors="replace")[:RESPONSE_EXCERPT]
    ok = 200 <= response.status_code < 300
    problem = "" if ok else f"The receiver answered {response.status_code}."
    if 300 <= response.status_code < 400:
        problem = f"The receiver answered {response.status_code} (redirects are not followed)."
    return outcome(ok=ok, status_code=response.status_code, excerpt=excerpt, error=problem)

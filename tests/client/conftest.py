"""The Python client against the live server: a client per persona (each with its own API token), and a real proxy
that loses answers, for the retries."""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from modelcatalog_client import Client
from pytest_django.live_server_helper import LiveServer

from api.services import create_api_token

Connect = Callable[..., Client]

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"})


@pytest.fixture(scope="session")
def _gate(live_server: LiveServer) -> Iterator[str]:
    """The live server's address; on SQLite, that of a proxy that sends it one request at a time.

    On SQLite the tests' in-memory database is one connection that the live server's threads share, and two
    requests at once (a pipeline's wait() polling while a reviewer approves) fail with "database table is locked".
    On PostgreSQL each request has its own connection and the requests really run at the same time.
    """
    if connection.vendor != "sqlite":
        yield str(live_server.url)
        return
    gate = Proxy(str(live_server.url), one_at_a_time=True)
    yield gate.url
    gate.close()


@pytest.fixture
def server(_gate: str, transactional_db: None) -> str:
    """The live server's address (see _gate); its database is emptied after each test."""
    return _gate


@pytest.fixture
def token_for() -> Callable[[Any], str]:
    """A new API token for user."""

    def make(user: Any, name: str = "client tests", **options: Any) -> str:
        return create_api_token(actor=user, name=name, **options)[1]

    return make


@pytest.fixture
def connect(server: str, token_for: Callable[[Any], str]) -> Iterator[Connect]:
    """A Client acting as user (with a token of their own), at the live server or at another address."""
    clients: list[Client] = []

    def make(user: Any, *, host: str | None = None, **options: Any) -> Client:
        client = Client(host or server, token_for(user), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class Proxy:
    """An HTTP proxy on 127.0.0.1 in front of the live server that records each request it forwards.

    The first `lose` requests reach the server, which carries them out, but their answers are lost: the proxy
    closes the connection instead (or, with `answer_with`, answers that status itself), as a network or a load
    balancer can.
    """

    def __init__(
        self, upstream: str, *, lose: int = 0, answer_with: int | None = None, one_at_a_time: bool = False
    ) -> None:
        self.seen: list[tuple[str, str, str | None]] = []  # method, path and query, Idempotency-Key
        self.lose = lose
        self.answer_with = answer_with
        self._lock = threading.Lock()
        self._turn: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if one_at_a_time else contextlib.nullcontext()
        )
        target = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy._forward(self, target.hostname or "127.0.0.1", target.port or 80)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def requests(self, method: str) -> list[tuple[str, str, str | None]]:
        return [seen for seen in self.seen if seen[0] == method]

    def _forward(self, handler: BaseHTTPRequestHandler, host: str, port: int) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        with self._lock:
            self.seen.append((handler.command, handler.path, handler.headers.get("Idempotency-Key")))
            lost = self.lose > 0
            self.lose -= int(lost)
        headers = {name: value for name, value in handler.headers.items() if name.lower() not in {"host", "connection"}}
        with self._turn:
            upstream = http.client.HTTPConnection(host, port, timeout=30)
            upstream.request(handler.command, handler.path, body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            upstream.close()
        if lost and self.answer_with is None:
            handler.close_connection = True  # the server did the work; its answer never arrives
            return
        status, content = (self.answer_with, b"<h1>Bad gateway</h1>") if lost else (answer.status, data)
        handler.send_response(status)  # type: ignore[arg-type]
        for name, value in answer.getheaders() if not lost else [("Content-Type", "text/html")]:
            if name.lower() not in HOP_BY_HOP:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        handler.wfile.write(content)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def proxy(server: str) -> Iterator[Callable[..., Proxy]]:
    """Start proxies in front of the live server (see Proxy); they stop after the test."""
    started: list[Proxy] = []

    def start(**options: Any) -> Proxy:
        started.append(Proxy(server, **options))
        return started[-1]

    yield start
    for each in started:
        each.close()

"""The Python client against the live server: a client per persona (each with its own API token), and a real proxy
that loses answers, for the retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from modelcatalog_client import Client

from tests.helpers import Proxy

Connect = Callable[..., Client]


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

"""Personas and the rules that turn a missing PostgreSQL or Chromium into a failure in CI."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from pytest_django.live_server_helper import LiveServer

from api.services import create_api_token
from catalog.models import RegisteredModel
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import ModelFactory, UserFactory, VersionFactory
from tests.helpers import Proxy

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_POSTGRES and not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but DATABASE_URL does not point at PostgreSQL.")


@pytest.fixture(autouse=True)
def _postgres_when_required(request: pytest.FixtureRequest) -> None:
    if REQUIRE_POSTGRES and "django_db_setup" in request.fixturenames and connection.vendor != "postgresql":
        pytest.fail(f"REQUIRE_POSTGRES=1 but the tests run on {connection.vendor}.")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if connection.vendor == "postgresql":
        return
    for item in items:
        if item.get_closest_marker("postgres"):
            reason = "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/modelcatalog"
            if REQUIRE_POSTGRES:
                item.add_marker(pytest.mark.xfail(reason=reason, run=False, strict=True))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if (REQUIRE_POSTGRES or REQUIRE_BROWSER) and skipped:
        terminalreporter.write_line(f"{len(skipped)} test(s) skipped while CI requires every test to run.", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter and (REQUIRE_POSTGRES or REQUIRE_BROWSER) and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# Personas: one model owned by `owner`, with one user in each role, plus an outsider with no role and anonymous.
@pytest.fixture
def owner(db: None) -> Any:
    return UserFactory(username="owner")


@pytest.fixture
def model(owner: Any) -> Any:
    return ModelFactory(owner=owner, name="Churn Predictor", visibility="private")


@pytest.fixture
def org_model(owner: Any) -> Any:
    return ModelFactory(owner=owner, name="Open Model", visibility="organization")


def _with_role(model: RegisteredModel, owner: Any, username: str, role: Role) -> Any:
    user = UserFactory(username=username)
    add_collaborator(actor=owner, model=model, user=user, role=role)
    return user


@pytest.fixture
def editor(model: RegisteredModel, owner: Any) -> Any:
    return _with_role(model, owner, "editor", Role.EDITOR)


@pytest.fixture
def reviewer(model: RegisteredModel, owner: Any) -> Any:
    return _with_role(model, owner, "reviewer", Role.REVIEWER)


@pytest.fixture
def viewer(model: RegisteredModel, owner: Any) -> Any:
    return _with_role(model, owner, "viewer", Role.VIEWER)


@pytest.fixture
def outsider(db: None) -> Any:
    return UserFactory(username="outsider")


@pytest.fixture
def anonymous() -> AnonymousUser:
    return AnonymousUser()


@pytest.fixture
def superuser(db: None) -> Any:
    return UserFactory.create(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def reader(db: None) -> Any:
    """A user with no role yet, for whom the query-count tests build models to read."""
    return UserFactory.create(username="reader")


@pytest.fixture
def version(model: RegisteredModel, owner: Any) -> Any:
    return VersionFactory(model=model, created_by=owner, name="v1.0.0")


# A second editor and a second reviewer, for requests that need two approvals and for "someone else" cases.
@pytest.fixture
def editor2(model: RegisteredModel, owner: Any) -> Any:
    return _with_role(model, owner, "editor2", Role.EDITOR)


@pytest.fixture
def reviewer2(model: RegisteredModel, owner: Any) -> Any:
    return _with_role(model, owner, "reviewer2", Role.REVIEWER)


# The live server, for clients that speak HTTP to it (our client, MLflow's, Databricks').


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
def token_for() -> Callable[..., str]:
    """A new API token for user."""

    def make(user: Any, name: str = "client tests", **options: Any) -> str:
        return create_api_token(actor=user, name=name, **options)[1]

    return make

"""The OpenAPI schema documents every operation, the docs are served locally, and fuzzing finds no 5xx and no
response that breaks the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.services import create_api_token
from approvals.models import StageChangeRequest
from approvals.services import request_stage_change
from catalog.models import Stage
from config.wsgi import application
from tests.factories import GroupFactory, ModelFactory, UserFactory, VersionFactory

OPENAPI = "/api/v1/openapi.json"
# No 5xx, and every answer is one the schema documents, in the documented shape and content type. Not "every
# schema-valid input is accepted": a `find` of random characters is valid text and still a 400, as it should be.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SCHEMA = schemathesis.openapi.from_wsgi(OPENAPI, application)


def test_every_operation_has_a_summary_typed_bodies_and_documented_errors(db: None) -> None:
    schema = Client().get(OPENAPI).json()
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]

    assert len(operations) >= 25
    for path, method, operation in operations:
        assert operation.get("summary"), (method, path)
        assert {"200", "201"} & set(operation["responses"]), (method, path)
        assert {"400", "401", "403", "404"} <= set(operation["responses"]), (method, path)
        if method in ("post", "put", "patch") and not path.endswith(
            ("/approve", "/reject", "/cancel", "/test", "/redeliver")
        ):
            assert "requestBody" in operation, (method, path)
    assert schema["components"]["securitySchemes"]["CatalogAuth"] == {"type": "http", "scheme": "bearer"}


def test_the_interactive_docs_load_their_scripts_from_this_site(db: None) -> None:
    page = Client().get("/api/v1/docs").text

    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn." not in page
    assert "https://" not in page.replace('href="https://', "")


@pytest.fixture
def in_process_wsgi() -> Iterator[None]:
    """Call the WSGI app as Django's test client does: without closing the test's database connection after each
    request (the request_started/finished handlers would, and PostgreSQL's test transaction would be lost)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzzed_world(db: None, in_process_wsgi: None) -> dict[str, Any]:
    """Things for fuzzed requests to find: a model, versions in stages, a pending request, a group; a token."""
    owner = UserFactory.create(username="owner")
    UserFactory.create(username="viewer")
    GroupFactory.create(name="team")
    model = ModelFactory.create(owner=owner, name="Churn Predictor", labels=["tabular"])
    version = VersionFactory.create(model=model, name="v1", attributes={"auc": "0.9"})
    VersionFactory.create(model=model, name="v2")
    request_stage_change(actor=owner, version=version, to_stage=Stage.STAGING)
    _, secret = create_api_token(actor=owner, name="fuzz")
    return {"Authorization": f"Bearer {secret}"}


# Path parameters that name things that exist, so that fuzzed queries and bodies reach the operations themselves
# (random names only ever meet the 404, which tests/api/test_models.py covers).
EXISTING = {"slug": "churn-predictor", "version": "v1", "kind": "user", "name": "viewer"}


@SCHEMA.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_fuzzed_requests_never_fail_the_server_or_the_schema(case: Any, fuzzed_world: dict[str, str]) -> None:
    case.headers = {**(case.headers or {}), **fuzzed_world}  # a real token, over whatever was generated for it
    if case.path_parameters:
        pending = StageChangeRequest.objects.order_by("pk").values_list("pk", flat=True).first()
        case.path_parameters = {
            name: EXISTING.get(name, pending) if name in EXISTING or name == "request_id" else value
            for name, value in case.path_parameters.items()
        }
    case.call_and_validate(checks=CHECKS)

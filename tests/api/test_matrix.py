"""Every API operation × every persona: the status each one gets, and nothing changed by a refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from activity.models import ActivityEntry
from api.models import ApiToken
from api.services import create_api_token, revoke_api_token
from approvals.models import Review, StageChangeRequest
from approvals.services import request_stage_change
from catalog.models import ModelVersion, RegisteredModel, RegisteredModelUserObjectPermission, Stage
from tests.factories import VersionFactory
from tests.helpers import ApiClient

ROLES = ["owner", "editor", "reviewer", "viewer"]
PERSONAS = [*ROLES, "outsider", "anonymous", "bad-token", "expired-token", "revoked-token"]
M = "/models/churn-predictor"
V = f"{M}/versions/v1.0.0"

# (method, path, body, {persona: status}) on the private model; personas not named get the default for their kind:
# a role not listed is refused (403), the outsider cannot see the model (404), and the last four are 401.
OPERATIONS: list[tuple[str, str, Any, dict[str, int]]] = [
    ("get", "/models", None, dict.fromkeys([*ROLES, "outsider"], 200)),
    ("post", "/models", {"name": "New {persona}"}, dict.fromkeys([*ROLES, "outsider"], 201)),
    ("get", M, None, dict.fromkeys(ROLES, 200)),
    ("patch", M, {"description": "x"}, {"owner": 200, "editor": 200}),
    ("get", f"{M}/versions", None, dict.fromkeys(ROLES, 200)),
    ("post", f"{M}/versions", {"name": "v9"}, {"owner": 201, "editor": 201}),
    ("get", V, None, dict.fromkeys(ROLES, 200)),
    ("patch", V, {"description": "x"}, {"owner": 200, "editor": 200}),
    ("put", f"{V}/lock", {"lock_level": "closed"}, {"owner": 200, "editor": 200}),
    ("get", "/versions", None, dict.fromkeys([*ROLES, "outsider"], 200)),
    ("post", f"{M}/versions/v2/requests", {"to_stage": "staging"}, {"owner": 201, "editor": 201}),
    ("get", "/requests", None, dict.fromkeys([*ROLES, "outsider"], 200)),
    ("get", "/requests/{pending}", None, dict.fromkeys(ROLES, 200)),
    ("post", "/requests/{pending}/approve", {}, {"owner": 200, "reviewer": 200}),
    ("post", "/requests/{pending}/reject", {}, {"owner": 200, "reviewer": 200}),
    ("post", "/requests/{pending}/cancel", {}, {"owner": 200}),
    ("get", "/activity", None, dict.fromkeys([*ROLES, "outsider"], 200)),
    ("get", f"{V}/timeline", None, dict.fromkeys(ROLES, 200)),
    ("get", f"{M}/stages-as-of?at=2026-01-01T00:00:00Z", None, dict.fromkeys(ROLES, 200)),
    ("get", f"{V}/comments", None, dict.fromkeys(ROLES, 200)),
    ("post", f"{V}/comments", {"comment": "Hi."}, {"owner": 201, "editor": 201, "reviewer": 201}),
    ("get", f"{M}/collaborators", None, dict.fromkeys(ROLES, 200)),
    ("put", f"{M}/collaborators", {"name": "outsider", "role": "viewer"}, {"owner": 200}),
    ("delete", f"{M}/collaborators/user/viewer", None, {"owner": 200}),
    ("get", f"{M}/policy", None, dict.fromkeys(ROLES, 200)),
    ("put", f"{M}/policy", {"required_approvals": 2}, {"owner": 200}),
]


def expected(persona: str, allowed: dict[str, int]) -> int:
    if persona in allowed:
        return allowed[persona]
    if persona in ROLES:
        return 403
    return 404 if persona == "outsider" else 401


def client_of(persona: str, people: dict[str, Any]) -> ApiClient:
    if persona == "anonymous":
        return ApiClient(None)
    if persona == "bad-token":
        return ApiClient("mc_not-a-token-anyone-was-given")
    token, secret = create_api_token(actor=people["owner"], name=persona, expires_in_days=1)
    if persona == "expired-token":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif persona == "revoked-token":
        revoke_api_token(actor=people["owner"], token=token)
    else:
        _, secret = create_api_token(actor=people[persona], name="matrix")
    return ApiClient(secret)


def state() -> tuple[Any, ...]:
    """Everything an API write could change, except the tokens the test makes."""
    return (
        list(RegisteredModel.objects.order_by("pk").values()),
        list(ModelVersion.objects.order_by("pk").values()),
        list(StageChangeRequest.objects.order_by("pk").values()),
        list(Review.objects.order_by("pk").values()),
        list(RegisteredModelUserObjectPermission.objects.order_by("pk").values_list("user_id", "permission_id")),
        list(ActivityEntry.objects.exclude(verb__startswith="token_").order_by("pk").values_list("pk", flat=True)),
    )


@pytest.fixture
def people(owner: Any, editor: Any, editor2: Any, reviewer: Any, viewer: Any, outsider: Any, version: Any) -> Any:
    pending = request_stage_change(actor=editor2, version=version, to_stage=Stage.DEVELOPMENT)
    VersionFactory.create(model=version.model, name="v2")  # with no pending request, for new ones
    return {"owner": owner, "editor": editor, "reviewer": reviewer, "viewer": viewer, "outsider": outsider} | {
        "pending": pending.pk
    }


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("method", "path", "body", "allowed"), OPERATIONS, ids=[f"{o[0]} {o[1]}" for o in OPERATIONS])
def test_each_operation_for_each_persona(
    people: dict[str, Any], persona: str, method: str, path: str, body: Any, allowed: dict[str, int]
) -> None:
    client = client_of(persona, people)
    url = path.format(pending=people["pending"])
    if body is not None:
        body = {key: value.format(persona=persona) if isinstance(value, str) else value for key, value in body.items()}
    before = state()
    response = (
        client.get(url) if method == "get" else getattr(client, method)(url, *([body] if body is not None else []))
    )

    status = expected(persona, allowed)
    assert response.status_code == status, response.content
    if status >= 400:
        assert set(response.json()) == {"error"}
        assert response.json()["error"]["message"]
        assert state() == before

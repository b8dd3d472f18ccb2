"""MLflow's own client (mlflow-skinny) against the live server, as each persona, with a token of their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

Connect = Callable[..., MlflowClient]


@pytest.fixture
def mlflow_as(server: str, token_for: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> Connect:
    """An MlflowClient acting as user, configured the way a user does it: MLFLOW_TRACKING_TOKEN (or, with basic,
    MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD) in the environment; None for no credentials.

    MLflow reads the credentials from the environment on every call, so the last user asked for is the one every
    client acts as: a test switches users by asking again.
    """
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # a 5xx would be a bug: fail at once, not in minutes
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)

    secrets: dict[int, str] = {}

    def make(user: Any, *, basic: bool = False) -> MlflowClient:
        for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            monkeypatch.delenv(name, raising=False)
        if user is not None:
            secret = secrets.setdefault(user.pk, token_for(user, name="mlflow client"))
            if basic:
                monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user.username)
                monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", secret)
            else:
                monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", secret)
        return MlflowClient(tracking_uri=server, registry_uri=server)

    return make

"""API clients for the personas: each calls with a personal access token of its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from api.services import create_api_token
from tests.helpers import ApiClient


@pytest.fixture
def api_as(db: None) -> Callable[[Any], ApiClient]:
    """An API client for a user (a token made for them), or an anonymous one for None."""

    def make(user: Any) -> ApiClient:
        if user is None:
            return ApiClient(None)
        _, secret = create_api_token(actor=user, name=f"tests for {user.username}")
        return ApiClient(secret)

    return make

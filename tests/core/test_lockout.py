"""Failed sign-ins lock the username and the client address out for a cool-off period: the login form, the admin's,
API tokens on the REST API and on the MLflow-compatible API; an admin sees the attempts."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

from api.services import create_api_token
from tests.factories import UserFactory

LIMIT = settings.AXES_FAILURE_LIMIT
LOGIN = "/accounts/login/"


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1") -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_limit_is_configured_and_small() -> None:
    assert 3 <= LIMIT <= 10
    assert timedelta(minutes=1) <= settings.AXES_COOLOFF_TIME


def test_wrong_passwords_then_the_right_one_is_refused_with_a_message(db: None) -> None:
    UserFactory.create(username="alice")
    client = Client()
    for _ in range(LIMIT - 1):
        assert sign_in(client, "alice", "wrong").status_code == 200  # the form again, with its error
    assert sign_in(client, "alice", "wrong").status_code == 429  # the failure that reaches the limit locks

    response = sign_in(client, "alice", "pw")

    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert int(response["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still signed out


def test_fewer_failures_than_the_limit_still_sign_in_but_do_not_clear_the_count(db: None) -> None:
    """A success does not forgive earlier failures within the cool-off: an attacker signing in to an account of
    their own from the same address must not reset the address's count between guesses."""
    UserFactory.create(username="alice")
    UserFactory.create(username="mallory")
    for _ in range(LIMIT - 1):
        sign_in(Client(), "alice", "wrong")

    assert sign_in(Client(), "mallory", "pw").status_code == 302
    assert sign_in(Client(), "alice", "wrong").status_code == 429


def test_the_username_is_locked_from_every_address(db: None) -> None:
    UserFactory.create(username="alice")
    for n in range(LIMIT):
        sign_in(Client(), "alice", "wrong", address=f"10.0.1.{n}")

    assert sign_in(Client(), "alice", "pw", address="10.0.2.1").status_code == 429


def test_the_address_is_locked_for_every_username(db: None) -> None:
    UserFactory.create(username="bob")
    for n in range(LIMIT):
        sign_in(Client(), f"guess{n}", "wrong", address="10.0.3.1")

    assert sign_in(Client(), "bob", "pw", address="10.0.3.1").status_code == 429
    assert sign_in(Client(), "bob", "pw", address="10.0.3.2").status_code == 302


def test_the_lock_lifts_after_the_cool_off(db: None) -> None:
    UserFactory.create(username="alice")
    for _ in range(LIMIT):
        sign_in(Client(), "alice", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert sign_in(Client(), "alice", "pw").status_code == 302


def test_the_admin_login_is_locked_too_and_an_admin_sees_the_attempts(db: None) -> None:
    UserFactory.create(username="root", is_staff=True, is_superuser=True)
    for _ in range(LIMIT):
        Client().post("/admin/login/", {"username": "root", "password": "wrong"}, REMOTE_ADDR="10.0.4.1")
    assert (
        Client().post("/admin/login/", {"username": "root", "password": "pw"}, REMOTE_ADDR="10.0.4.1").status_code
        == 429
    )

    admin = UserFactory.create(username="admin2", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/axes/accessattempt/").content.decode()
    assert "root" in page
    assert "10.0.4.1" in page


def bearer(secret: str, address: str = "10.0.5.1") -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}", "REMOTE_ADDR": address}


def test_wrong_api_tokens_lock_the_address_even_for_a_right_token(db: None) -> None:
    alice = UserFactory.create(username="alice")
    _, secret = create_api_token(actor=alice, name="ci")
    client = Client()
    for _ in range(LIMIT):
        answer = client.get("/api/v1/models", **bearer("mc_wrong"))
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthenticated"

    locked = client.get("/api/v1/models", **bearer(secret))

    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "locked_out"
    assert "Too many failed attempts" in locked.json()["error"]["message"]
    assert int(locked["Retry-After"]) > 0
    assert client.get("/api/v1/models", **bearer(secret, address="10.0.5.2")).status_code == 200


def test_a_right_token_does_not_clear_the_count_of_its_address(db: None) -> None:
    mallory = UserFactory.create(username="mallory")
    _, own = create_api_token(actor=mallory, name="own")
    client = Client()
    for _ in range(LIMIT - 1):
        client.get("/api/v1/models", **bearer("mc_guess"))
    assert client.get("/api/v1/models", **bearer(own)).status_code == 200

    assert client.get("/api/v1/models", **bearer("mc_guess")).status_code == 401
    assert client.get("/api/v1/models", **bearer(own)).status_code == 429


def basic(username: str, secret: str, address: str = "10.0.6.1") -> dict[str, Any]:
    value = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {value}", "REMOTE_ADDR": address}


@pytest.mark.parametrize("first_address", ["10.0.6.1", "10.0.6.9"])
def test_mlflow_basic_credentials_lock_the_username_and_answer_401_not_429(db: None, first_address: str) -> None:
    alice = UserFactory.create(username="alice")
    _, secret = create_api_token(actor=alice, name="mlflow")
    path = "/api/2.0/mlflow/registered-models/search"
    for n in range(LIMIT):
        address = first_address if first_address == "10.0.6.1" else f"10.0.7.{n}"
        assert Client().get(path, **basic("alice", "mc_wrong", address)).status_code == 401

    locked = Client().get(path, **basic("alice", secret, "10.0.6.1"))

    assert locked.status_code == 401
    assert locked.json()["error_code"] == "UNAUTHENTICATED"
    assert "Too many failed attempts" in locked.json()["message"]

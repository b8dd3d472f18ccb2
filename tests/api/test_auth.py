"""Who may call the API: tokens (and why one is refused), the browser session, the tokens page and command."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from activity.models import ActivityEntry, Verb
from api.models import ApiToken
from api.services import TokenError, create_api_token, digest, revoke_api_token
from catalog.models import RegisteredModel
from tests.factories import UserFactory
from tests.helpers import HTMX, ApiClient, client_for

NO_TOKEN = "No API token was sent: use “Authorization: Bearer <token>”, or sign in."


def error_of(response: Any) -> dict[str, Any]:
    return response.json()["error"]


@pytest.mark.parametrize("path", ["/models", "/versions", "/requests", "/activity", "/models/churn-predictor"])
def test_anonymous_calls_are_401_and_say_how_to_authenticate(model: RegisteredModel, path: str) -> None:
    response = ApiClient(None).get(path)

    assert response.status_code == 401
    assert error_of(response) == {"code": "unauthenticated", "message": NO_TOKEN, "field": None}
    assert response["WWW-Authenticate"] == 'Bearer realm="Model Catalog"'
    assert response["Content-Type"] == "application/json; charset=utf-8"


def test_a_token_authenticates_as_its_user_and_notes_when_it_was_used(owner: Any, model: RegisteredModel) -> None:
    token, secret = create_api_token(actor=owner, name="ci")
    assert token.last_used_at is None

    response = ApiClient(secret).get("/models/churn-predictor")

    assert response.status_code == 200
    assert response.json()["owner"] == "owner"
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert ApiToken.objects.get(pk=token.pk).digest == digest(secret)
    assert not ApiToken.objects.filter(digest=secret).exists()  # never the token itself


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("wrong", "This API token is not valid: check that it was copied whole."),
        ("revoked", "This API token (“ci”) was revoked on {day}."),
        ("expired", "This API token (“ci”) expired on {day}."),
        ("inactive", "The account this API token belongs to is deactivated."),
    ],
)
def test_a_refused_token_is_401_saying_why(owner: Any, model: RegisteredModel, state: str, message: str) -> None:
    token, secret = create_api_token(actor=owner, name="ci", expires_in_days=1)
    day = f"{timezone.now():%Y-%m-%d}"
    if state == "wrong":
        secret = secret[:-2] + "xx"
    elif state == "revoked":
        revoke_api_token(actor=owner, token=token)
    elif state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        owner.is_active = False
        owner.save(update_fields=["is_active"])

    response = ApiClient(secret).get("/models")

    assert response.status_code == 401
    assert error_of(response)["message"] == message.format(day=day)


@pytest.mark.parametrize("header", ["Token abc", "Bearer", "Bearer    ", "Basic YWxpY2U6ZGVtbw=="])
def test_a_malformed_authorization_header_is_401(model: RegisteredModel, header: str) -> None:
    response = Client().get("/api/v1/models", headers={"Authorization": header})

    assert response.status_code == 401
    assert error_of(response)["message"] == "Send the token as “Authorization: Bearer <token>”."


def test_the_browser_session_reads_without_a_token(owner: Any, model: RegisteredModel) -> None:
    response = client_for(owner).get("/api/v1/models/churn-predictor")

    assert response.status_code == 200
    assert response.json()["slug"] == "churn-predictor"


def test_the_browser_session_writes_only_with_the_csrf_token(owner: Any, model: RegisteredModel) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    body = {"description": "From the browser."}

    refused = browser.patch("/api/v1/models/churn-predictor", body, content_type="application/json")
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "csrf_failed"
    assert RegisteredModel.objects.get(pk=model.pk).description == "A model for tests."

    browser.get("/")  # sets the CSRF cookie, as any page does
    csrf = browser.cookies["csrftoken"].value
    allowed = browser.patch(
        "/api/v1/models/churn-predictor", body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert allowed.status_code == 200
    assert RegisteredModel.objects.get(pk=model.pk).description == "From the browser."


# --- The API tokens page ----------------------------------------------------------------------------------------


def test_the_tokens_page_is_in_the_navigation(owner: Any) -> None:
    page = client_for(owner).get("/").text
    assert '<a href="/settings/tokens/"' in page
    assert client_for(None).get("/settings/tokens/").status_code == 302


def test_a_new_token_is_shown_once_stored_as_a_hash_and_logged(owner: Any) -> None:
    client = client_for(owner)
    response = client.post("/settings/tokens/", {"name": "release pipeline", "expires_in_days": "30"})

    assert response.status_code == 200
    token = ApiToken.objects.get(user=owner)
    found = re.search(r'<input id="new-token"[^>]* value="([^"]+)"', response.text)
    assert found is not None, response.text
    shown = found[1]
    assert shown.startswith("mc_")
    assert digest(shown) == token.digest
    assert "Copy it now: it is not shown again." in response.text
    assert token.expires_at is not None
    assert (token.expires_at - timezone.now()).days in (29, 30)
    assert shown not in client.get("/settings/tokens/").text
    assert f"{token.prefix}…" in client.get("/settings/tokens/").text
    entry = ActivityEntry.objects.get(verb=Verb.TOKEN_CREATED)
    assert (entry.actor, entry.model, entry.extra["name"]) == (owner, None, "release pipeline")
    assert ApiClient(shown).get("/models").status_code == 200


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 101}, "Ensure this value has at most 100 characters"),
        ({"name": "ci", "expires_in_days": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"name": "ci", "expires_in_days": "99999"}, "Ensure this value is less than or equal to 3650."),
    ],
)
def test_a_bad_token_form_says_why_and_makes_nothing(owner: Any, data: dict[str, str], error: str) -> None:
    response = client_for(owner).post("/settings/tokens/", data, headers=HTMX)

    assert response.status_code == 200
    assert error in response.text
    assert not ApiToken.objects.exists()
    assert not ActivityEntry.objects.filter(verb=Verb.TOKEN_CREATED).exists()


def test_revoking_a_token_stops_it_at_once_and_is_logged(owner: Any, model: RegisteredModel) -> None:
    token, secret = create_api_token(actor=owner, name="laptop")
    response = client_for(owner).post(f"/settings/tokens/{token.pk}/revoke/", headers=HTMX)

    assert response.status_code == 200
    assert "Revoked “laptop”: it no longer works." in response.text
    assert ApiClient(secret).get("/models").status_code == 401
    entry = ActivityEntry.objects.get(verb=Verb.TOKEN_REVOKED)
    assert (entry.actor, entry.extra) == (owner, {"name": "laptop", "token": token.prefix})
    again = client_for(owner).post(f"/settings/tokens/{token.pk}/revoke/", follow=True)
    assert "The token “laptop” was already revoked." in again.text


def test_someone_elses_token_does_not_exist_for_you(owner: Any, outsider: Any) -> None:
    token, _ = create_api_token(actor=owner, name="mine")
    response = client_for(outsider).post(f"/settings/tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert "mine" not in client_for(outsider).get("/settings/tokens/").text
    with pytest.raises(PermissionDenied, match=r"^You can revoke only your own API tokens\.$"):
        revoke_api_token(actor=outsider, token=token)


def test_token_events_are_seen_by_their_actor_only(owner: Any, outsider: Any, superuser: Any) -> None:
    create_api_token(actor=owner, name="secret-ci")

    assert "secret-ci" in client_for(owner).get("/activity/").text
    assert "secret-ci" not in client_for(outsider).get("/activity/").text
    assert "secret-ci" in client_for(superuser).get("/activity/").text
    assert "secret-ci" in client_for(owner).get("/activity/export.jsonl").getvalue().decode()
    assert "secret-ci" not in client_for(outsider).get("/activity/export.jsonl").getvalue().decode()


# --- The command --------------------------------------------------------------------------------------------------


def test_the_command_prints_a_new_token_on_its_own_line(owner: Any, model: RegisteredModel) -> None:
    out = io.StringIO()
    call_command("create_api_token", "owner", "--name", "bootstrap", "--expires", "7", stdout=out)

    secret = out.getvalue().strip()
    assert out.getvalue() == secret + "\n"
    assert ApiClient(secret).get("/models/churn-predictor").status_code == 200
    assert ApiToken.objects.get(user=owner).name == "bootstrap"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "--name", "x"], "No user is called “nobody”."),
        (["owner", "--name", " "], "Name the token (1–100 characters)"),
        (["owner", "--name", "x", "--expires", "0"], "A token expires after 1 to 3,650 days, or never."),
    ],
)
def test_the_command_refuses_clearly(owner: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("create_api_token", *args, stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_an_inactive_user_cannot_make_tokens(db: None) -> None:
    gone = UserFactory.create(username="gone", is_active=False)
    with pytest.raises(PermissionDenied, match=r"^You cannot create API tokens\.$"):
        create_api_token(actor=gone, name="x")
    with pytest.raises(TokenError):
        create_api_token(actor=UserFactory.create(username="ok"), name="")

"""How the MLflow-compatible endpoints talk: tokens (Bearer, or Basic with the token as password), JSON in (query
parameters for GET, a body otherwise, DELETE included), JSON out, and every refusal in MLflow's error shape."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from activity.services import ActivityError
from api.services import TokenRejected, authenticate_token
from approvals.services import WorkflowError
from catalog.permissions import Access
from catalog.services import CatalogError
from core import lockout
from core.text import first_unstorable
from mlflow_compat.translate import MlflowError

logger = logging.getLogger(__name__)

Params = dict[str, Any]
Handler = Callable[[HttpRequest, User, Access, Params], dict[str, Any]]


def error_response(error: MlflowError) -> JsonResponse:
    return JsonResponse({"error_code": error.error_code, "message": error.message}, status=error.status)


def _user(request: HttpRequest) -> User:
    """The user an MLflow client's credentials name; raises MlflowError (UNAUTHENTICATED) saying what is wrong."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        secret, username = value, None
    elif scheme.lower() == "basic" and value:
        try:
            username, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise MlflowError("UNAUTHENTICATED", "The Basic credentials are not valid base64.") from error
    else:
        raise MlflowError(
            "UNAUTHENTICATED",
            "Authenticate with a Model Catalog API token: set MLFLOW_TRACKING_TOKEN to it, or "
            "MLFLOW_TRACKING_USERNAME to your username and MLFLOW_TRACKING_PASSWORD to the token.",
        )
    # A lock answers 401, not 429: MLflow's client retries a 429 for minutes, and the lock would not lift sooner.
    if lockout.token_locked_out(request, username):
        raise MlflowError("UNAUTHENTICATED", lockout.locked_out_message(request))
    try:
        user = authenticate_token(secret)
    except TokenRejected as rejected:
        lockout.token_failed(request, username)
        raise MlflowError("UNAUTHENTICATED", str(rejected)) from rejected
    if username is not None and username != user.get_username():
        lockout.token_failed(request, username)
        raise MlflowError("UNAUTHENTICATED", f"This API token belongs to another user than “{username}”.")
    return user


def _params(request: HttpRequest) -> Params:
    """GET: the query string (lists for repeated keys). Otherwise: the JSON body (DELETE too), or the query."""
    if request.method == "GET":
        return {
            key: values if len(values) > 1 or key in LIST_PARAMS else values[0] for key, values in request.GET.lists()
        }
    if not request.body.strip():
        return dict(request.GET.items())
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise MlflowError("BAD_REQUEST", "The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise MlflowError("BAD_REQUEST", "The request body must be a JSON object.")
    found = first_unstorable(body)
    if found:
        field, reason = found
        raise MlflowError("INVALID_PARAMETER_VALUE", f"{field}: {reason}" if field else reason)
    return body


LIST_PARAMS = frozenset({"order_by", "stages"})


def endpoint(*methods: str) -> Callable[[Handler], Callable[[HttpRequest], HttpResponse]]:
    """An MLflow endpoint answering methods: authenticated, JSON in and out, refusals as MLflow errors (4xx)."""

    def wrap(handler: Handler) -> Callable[[HttpRequest], HttpResponse]:
        @csrf_exempt
        @functools.wraps(handler)
        def view(request: HttpRequest) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise MlflowError("ENDPOINT_NOT_FOUND", f"No {request.method} endpoint at {request.path}.")
                user = _user(request)
                access = Access(user)
                request.user, request.access = user, access  # type: ignore[attr-defined]
                return JsonResponse(handler(request, user, access, _params(request)))
            except MlflowError as error:
                return error_response(error)
            except Http404 as error:
                return error_response(MlflowError("RESOURCE_DOES_NOT_EXIST", str(error) or "Not found."))
            except PermissionDenied as error:
                return error_response(MlflowError("PERMISSION_DENIED", str(error)))
            except (CatalogError, ActivityError) as error:
                return error_response(MlflowError("INVALID_PARAMETER_VALUE", str(error)))
            except WorkflowError as error:
                return error_response(MlflowError("RESOURCE_CONFLICT", str(error)))

        return view

    return wrap


def required(params: Params, *names: str) -> list[Any]:
    """The named parameters, each present and not empty; raises MlflowError naming the first one missing."""
    values = []
    for name in names:
        value = params.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise MlflowError("INVALID_PARAMETER_VALUE", f"Missing value for required parameter '{name}'.")
        values.append(value)
    return values


def text(params: Params, name: str, default: str = "") -> str:
    value = params.get(name, default)
    if value is None:
        return default
    if isinstance(value, list | dict):
        raise MlflowError("INVALID_PARAMETER_VALUE", f"Invalid value for parameter '{name}': expected a string.")
    return str(value)


def flag(params: Params, name: str) -> bool:
    value = params.get(name, False)
    return value is True or str(value).strip().lower() == "true"


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Every other path under the MLflow prefixes: a JSON 404 the client recognizes (ENDPOINT_NOT_FOUND)."""
    return error_response(MlflowError("ENDPOINT_NOT_FOUND", f"No endpoint at {request.path} in Model Catalog."))

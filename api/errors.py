"""The API's one error shape, {"error": {"code", "message", "field"}}, and how each domain refusal maps onto it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from activity.services import ActivityError
from approvals.services import WorkflowError
from catalog.find import FindError
from catalog.services import CatalogError
from core import lockout
from core.text import first_unstorable
from webhooks.services import WebhookError


class ApiError(Exception):
    """A refusal to answer with a 4xx status and a message fit to show a user."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class Unauthenticated(ApiError):
    """No credentials, or ones that are wrong, revoked or expired: the message says which."""

    def __init__(self, message: str) -> None:
        super().__init__(401, "unauthenticated", message)


class CheckedParser(Parser):
    """JSON bodies and queries as ninja reads them, refusing text no database column can hold (a 400, not a 500)."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)
        found = first_unstorable(data)
        if found:
            field, reason = found
            raise ApiError(400, "invalid", f"{field}: {reason}" if field else reason, field=field or None)
        return data


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _field_of(location: tuple[Any, ...]) -> str | None:
    """The dotted name of a pydantic error location, without where it came from (body, query, path)."""
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header", "payload")]
    return ".".join(parts) or None


def install_error_handlers(api: NinjaAPI) -> None:
    """Answer every refusal in the API's error shape; anything else is left to fail loudly (a 500 is a bug)."""

    def respond(request: HttpRequest, status: int, code: str, message: str, field: str | None = None) -> HttpResponse:
        response = api.create_response(request, error_body(code, message, field), status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="Model Catalog"'
        if status == 429:
            response["Retry-After"] = str(lockout.cool_off_seconds(request))
        return response

    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
        return respond(request, error.status, error.code, error.message, error.field)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
        return respond(request, 401, "unauthenticated", "Sign in, or send an API token: Authorization: Bearer <token>.")

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
        return respond(request, 404, "not_found", str(error) or "Not found.")

    @api.exception_handler(PermissionDenied)
    def permission_denied(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
        return respond(request, 403, "permission_denied", str(error) or "You may not do this.")

    @api.exception_handler(FindError)
    def bad_find(request: HttpRequest, error: FindError) -> HttpResponse:
        return respond(request, 400, "invalid_find", error.message, "find")

    @api.exception_handler(CatalogError)
    def catalog_refusal(request: HttpRequest, error: CatalogError) -> HttpResponse:
        return respond(request, 400, "invalid", str(error))

    @api.exception_handler(ActivityError)
    def activity_refusal(request: HttpRequest, error: ActivityError) -> HttpResponse:
        return respond(request, 400, "invalid", str(error))

    @api.exception_handler(WebhookError)
    def webhook_refusal(request: HttpRequest, error: WebhookError) -> HttpResponse:
        return respond(request, 400, "invalid", str(error))

    @api.exception_handler(WorkflowError)
    def workflow_refusal(request: HttpRequest, error: WorkflowError) -> HttpResponse:
        return respond(request, 409, "conflict", str(error))

    @api.exception_handler(ValidationError)
    def invalid_input(request: HttpRequest, error: ValidationError) -> HttpResponse:
        first = error.errors[0] if error.errors else {}
        field = _field_of(tuple(first.get("loc", ())))
        message = str(first.get("msg", "Invalid input."))
        return respond(request, 400, "invalid", f"{field}: {message}" if field else message, field)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
        if isinstance(error.__cause__, ApiError):  # ninja wraps whatever the body parser raises
            return api_error(request, error.__cause__)
        code = {403: "permission_denied", 404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "invalid")
        return respond(request, error.status_code, code, str(error))

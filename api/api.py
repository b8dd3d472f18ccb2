"""The REST API at /api/v1/: OpenAPI schema at openapi.json, interactive docs at docs (served from static files)."""

from __future__ import annotations

from ninja import NinjaAPI

from api.auth import CatalogAuth
from api.errors import CheckedParser, install_error_handlers
from api.routers import activity, collaborators, models, requests, webhooks

DESCRIPTION = """
Model Catalog from code: the same catalog, permissions, approvals and activity log as the pages.

Authenticate with a personal access token (made on the *API tokens* page, or with
`manage.py create_api_token`): `Authorization: Bearer <token>`. Lists are newest first and paged by cursor:
pass a response's `next` as `?cursor=`. Every error is `{"error": {"code", "message", "field"}}` with a 4xx status.
What you cannot see is a 404; what your role does not allow is a 403 that says why.
"""

api = NinjaAPI(
    title="Model Catalog API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=CatalogAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=CheckedParser(),
)
install_error_handlers(api)
for module in (models, requests, activity, collaborators, webhooks):
    api.add_router("", module.router)

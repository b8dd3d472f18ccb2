"""Typed errors: each carries the server's message (what a user would read on the page) and its status and code.

ModelCatalogError                 any failure; .message, .status (None: no HTTP answer), .code, .field
├── BadRequest                    400: invalid input, a bad `find`, a name already taken
├── AuthenticationError           401: no token, or a wrong, revoked or expired one; 429: locked out for a while
├── PermissionDenied              403: your role does not allow it (the message says why)
├── NotFound                      404: it does not exist, or you may not see it
├── WorkflowError                 409: the object's state refuses it (locked, a request already pending, decided)
│   └── ChangeRequestEnded        a request waited on ended without being approved; .change_request
│       ├── RequestRejected       a reviewer rejected it
│       └── RequestCancelled      its requester or an owner cancelled it
├── WaitTimeout                   (also a TimeoutError) still pending when the wait ran out; .change_request
├── ServerError                   5xx: the server failed
└── NetworkError                  no answer: the connection failed (after retrying where that is safe)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelcatalog_client.change_request import ChangeRequest


class ModelCatalogError(Exception):
    """A failure; `message` is the server's own sentence whenever the server answered."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field


class BadRequest(ModelCatalogError):
    """400: the server refused the input; `field` names it when the server did."""


class AuthenticationError(ModelCatalogError):
    """401: the token is missing, wrong, revoked or expired (the message says which)."""


class PermissionDenied(ModelCatalogError):
    """403: your role on the model does not allow this (the message says why)."""


class NotFound(ModelCatalogError):
    """404: no such model, version or request, or one you may not see."""


class WorkflowError(ModelCatalogError):
    """409: the state of the version or request refuses this (locked, a request already pending, already decided)."""


class ChangeRequestEnded(WorkflowError):
    """A stage-change request that was waited on ended without being approved: the stage did not change."""

    def __init__(self, message: str, *, change_request: ChangeRequest) -> None:
        super().__init__(message)
        self.change_request = change_request


class RequestRejected(ChangeRequestEnded):
    """A reviewer rejected the request."""


class RequestCancelled(ChangeRequestEnded):
    """The requester or an owner of the model cancelled the request."""


class WaitTimeout(ModelCatalogError, TimeoutError):
    """The request was still pending when the wait's time ran out; it stays pending on the server."""

    def __init__(self, message: str, *, change_request: ChangeRequest) -> None:
        super().__init__(message)
        self.change_request = change_request


class ServerError(ModelCatalogError):
    """5xx: the server failed to answer the request."""


class NetworkError(ModelCatalogError):
    """The server could not be reached or the connection broke before an answer came."""


__all__ = [
    "AuthenticationError",
    "BadRequest",
    "ChangeRequestEnded",
    "ModelCatalogError",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "RequestCancelled",
    "RequestRejected",
    "ServerError",
    "WaitTimeout",
    "WorkflowError",
]

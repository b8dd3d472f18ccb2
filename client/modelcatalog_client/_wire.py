"""Talking to the API: the address, the token, retries where they are safe, and the server's errors as exceptions."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import httpx

from modelcatalog_client import errors

API_PATH = "/api/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_PAGE_SIZE = 25
# Waits between attempts: 0.25 s, 0.5 s, 1 s, … at most 8 s.
BACKOFF_BASE, BACKOFF_MAX = 0.25, 8.0
# Answers a proxy gives while the application restarts; worth another try where a retry is safe.
RETRY_STATUSES = frozenset({502, 503, 504})
# Failures after which the request may or may not have reached the server; retried only where that is safe.
RETRY_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)

ERRORS_BY_STATUS: Mapping[int, type[errors.ModelCatalogError]] = {
    400: errors.BadRequest,
    401: errors.AuthenticationError,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    409: errors.WorkflowError,
    429: errors.AuthenticationError,  # too many wrong tokens from this address: locked for a while
}

Params = Mapping[str, str | int | bool]


def api_base(host: str) -> str:
    """The API's root for a host such as `catalog.example.com` (https) or `http://127.0.0.1:8000`."""
    base = host.strip().rstrip("/")
    if not base:
        raise ValueError("host is empty: pass the catalog's address, e.g. https://catalog.example.com")
    if "://" not in base:
        base = f"https://{base}"
    return base if base.endswith(API_PATH) else base + API_PATH


def path(*segments: str | int) -> str:
    """A path under the API's root, each segment escaped."""
    return "/" + "/".join(quote(str(segment), safe="") for segment in segments)


def parse_time(value: str) -> datetime:
    # Python 3.10's fromisoformat does not read the "Z" the API writes.
    return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)


def parse_optional_time(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


def show_time(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


class Http:
    """One connection pool to the API, with the token sent on every request."""

    def __init__(
        self, host: str, token: str | None, *, timeout: float, retries: int, page_size: int, user_agent: str
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        if page_size < 1:
            raise ValueError("page_size must be 1 or more")
        self.base_url = api_base(host)
        self.retries = retries
        self.page_size = page_size
        headers = {"Accept": "application/json", "User-Agent": user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token.strip()}"
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def get(self, where: str, params: Params | None = None) -> Any:
        return self._send("GET", where, params=params)

    def post(self, where: str, body: Mapping[str, Any] | None = None, *, idempotency_key: str | None = None) -> Any:
        return self._send("POST", where, body=body, idempotency_key=idempotency_key)

    def put(self, where: str, body: Mapping[str, Any]) -> Any:
        return self._send("PUT", where, body=body)

    def _send(
        self,
        method: str,
        where: str,
        *,
        params: Params | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        # A GET changes nothing, and the server answers a repeated POST with the same key as it did the first time;
        # any other request may have been carried out before the connection broke, so it is never sent twice.
        safe = method == "GET" or (method == "POST" and idempotency_key is not None)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        retries = self.retries if safe else 0
        attempt = 0
        while True:
            try:
                response = self._client.request(method, where, params=params, json=body, headers=headers)
            except RETRY_ERRORS as error:
                if attempt >= retries:
                    raise _network_error(method, self.base_url + where, error, tries=attempt + 1) from error
            except httpx.HTTPError as error:
                raise _network_error(method, self.base_url + where, error, tries=attempt + 1) from error
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= retries:
                    return _answer(response)
            time.sleep(min(BACKOFF_BASE * 2**attempt, BACKOFF_MAX))
            attempt += 1


def _network_error(method: str, url: str, error: httpx.HTTPError, *, tries: int) -> errors.NetworkError:
    after = f" (tried {tries} times)" if tries > 1 else ""
    return errors.NetworkError(f"{method} {url} got no answer{after}: {error or type(error).__name__}")


def _answer(response: httpx.Response) -> Any:
    """The JSON of a successful answer; the server's error as a typed exception otherwise."""
    status = response.status_code
    if 300 <= status < 400:
        where = response.headers.get("Location", "another address")
        raise errors.ModelCatalogError(
            f"The server redirected {response.request.url} to {where}: use that address as the host.", status=status
        )
    if status >= 400:
        raise _error(response)
    try:
        return response.json()
    except ValueError:
        raise errors.ModelCatalogError(
            f"The answer to {response.request.url} is not JSON: is the host a Model Catalog?", status=status
        ) from None


def _error(response: httpx.Response) -> errors.ModelCatalogError:
    """The API's {"error": {"code", "message", "field"}} as an exception; anything else summarized."""
    status = response.status_code
    kind = ERRORS_BY_STATUS.get(status, errors.ServerError if status >= 500 else errors.ModelCatalogError)
    try:
        detail = response.json()["error"]
        message, code, field = str(detail["message"]), detail.get("code"), detail.get("field")
    except (ValueError, KeyError, TypeError):
        text = " ".join(response.text.split())[:200] if "text/plain" in response.headers.get("Content-Type", "") else ""
        message = f"The server answered {status} {response.reason_phrase}" + (f": {text}" if text else ".")
        code = field = None
    return kind(message, status=status, code=code, field=field)


class Entity:
    """What every entity shares: the connection it was read through and the server's JSON it was built from."""

    _http: Http
    _json: dict[str, Any]

    @classmethod
    def _from_json(cls, http: Http, data: Mapping[str, Any]) -> Any:  # pragma: no cover - each entity defines it
        raise NotImplementedError

    def _reload(self, data: Mapping[str, Any]) -> None:
        """Take every field from a fresh answer of the server."""
        self.__dict__.update(type(self)._from_json(self._http, data).__dict__)

    def to_json(self) -> dict[str, Any]:
        """The server's JSON for this entity, as last read."""
        return dict(self._json)

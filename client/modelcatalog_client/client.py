"""The entry point, as Verta's `Client`: `Client(host, token)`, or MODELCATALOG_HOST and MODELCATALOG_TOKEN."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from types import TracebackType

import httpx

from modelcatalog_client import errors
from modelcatalog_client._version import VERSION
from modelcatalog_client._wire import DEFAULT_PAGE_SIZE, DEFAULT_RETRIES, DEFAULT_TIMEOUT, Http, path
from modelcatalog_client.activity import ActivityLog
from modelcatalog_client.change_request import ChangeRequest, ChangeRequests
from modelcatalog_client.registry import (
    AttributeValue,
    RegisteredModel,
    RegisteredModels,
    RegisteredModelVersions,
    _given,
)

HOST_VARIABLE = "MODELCATALOG_HOST"
TOKEN_VARIABLE = "MODELCATALOG_TOKEN"


def slugify(name: str) -> str:
    """The slug Django's slugify makes of name, which is how the server names a model in URLs (unless taken)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text.lower())
    return re.sub(r"[-\s]+", "-", text).strip("-_")


def _quoted(value: str) -> str:
    """value as a double-quoted `find` value."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Client:
    """A connection to a Model Catalog as one user (the token's).

    host is the catalog's address (`https://` is assumed when it has no scheme); token a personal access token
    from the catalog's API tokens page. Either falls back to MODELCATALOG_HOST / MODELCATALOG_TOKEN. GETs, and
    POSTs sent with an Idempotency-Key, are retried up to `retries` times when the connection fails; lists are
    read `page_size` items at a time.
    """

    def __init__(
        self,
        host: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        host = host or os.environ.get(HOST_VARIABLE, "")
        if not host.strip():
            raise ValueError(f"pass host=… or set {HOST_VARIABLE}, e.g. https://catalog.example.com")
        if token is None:
            token = os.environ.get(TOKEN_VARIABLE) or None
        user_agent = f"modelcatalog-client/{VERSION} httpx/{httpx.__version__}"
        self._http = Http(host, token, timeout=timeout, retries=retries, page_size=page_size, user_agent=user_agent)

    @property
    def api_url(self) -> str:
        """The API's root, e.g. https://catalog.example.com/api/v1."""
        return self._http.base_url

    def __repr__(self) -> str:
        return f"<Client {self.api_url}>"

    def close(self) -> None:
        """Close the connections; the client is not used after this."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # Models ----------------------------------------------------------------------------------------------------

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with this name (in any case) or slug; raises NotFound when there is none you may see."""
        slug = slugify(name)
        missing: errors.NotFound | None = None
        if slug:
            try:
                found = RegisteredModel._from_json(self._http, self._http.get(path("models", slug)))
            except errors.NotFound as error:
                missing = error
            else:
                # Another model's slug can equal this name's slug (the server adds -2 when a slug is taken).
                if found.name.casefold() == name.strip().casefold() or found.slug == name:
                    return found
        page = self._http.get("/models", params={"find": f"name == {_quoted(name.strip())}", "limit": 1})
        if page["items"]:
            return RegisteredModel._from_json(self._http, page["items"][0])
        raise missing or errors.NotFound(f"No model called “{name}” that you may see.", status=404, code="not_found")

    def create_registered_model(
        self,
        name: str,
        desc: str | None = None,
        labels: list[str] | None = None,
        *,
        attrs: Mapping[str, AttributeValue] | None = None,
        task_type: str | None = None,
        data_type: str | None = None,
        visibility: str | None = None,
    ) -> RegisteredModel:
        """Register a model, which you own; raises BadRequest when the name is taken or a value is refused."""
        body = _given(
            name=name,
            description=desc,
            labels=labels,
            attributes=dict(attrs) if attrs is not None else None,
            task_type=task_type,
            data_type=data_type,
            visibility=visibility,
        )
        return RegisteredModel._from_json(self._http, self._http.post("/models", body))

    def get_or_create_registered_model(
        self,
        name: str,
        desc: str | None = None,
        labels: list[str] | None = None,
        *,
        attrs: Mapping[str, AttributeValue] | None = None,
        task_type: str | None = None,
        data_type: str | None = None,
        visibility: str | None = None,
    ) -> RegisteredModel:
        """The model called name, registered with these fields if there is none (an existing one is not changed).

        A model you may not see counts as none: registering it then fails with the server's BadRequest, as does
        losing a race with someone registering the same name.
        """
        try:
            return self.get_registered_model(name)
        except errors.NotFound:
            return self.create_registered_model(
                name, desc, labels, attrs=attrs, task_type=task_type, data_type=data_type, visibility=visibility
            )

    @property
    def registered_models(self) -> RegisteredModels:
        """Every model you may see, newest first; `.find("labels == nlp")`."""
        return RegisteredModels(self._http)

    @property
    def registered_model_versions(self) -> RegisteredModelVersions:
        """Versions of every model you may see, newest first; `.find("stage == production")`."""
        return RegisteredModelVersions(self._http)

    # Stage-change requests -------------------------------------------------------------------------------------

    def get_change_request(self, change_request_id: int) -> ChangeRequest:
        """The stage-change request with this id; raises NotFound when there is none you may see."""
        return ChangeRequest._from_json(self._http, self._http.get(path("requests", change_request_id)))

    def change_requests(
        self,
        *,
        waiting_for_me: bool = False,
        status: str | None = None,
        model: str | RegisteredModel | None = None,
        version: str | None = None,
        requester: str | None = None,
    ) -> ChangeRequests:
        """Stage-change requests you may see, newest first.

        waiting_for_me: the pending ones you may review and have not reviewed yet (your inbox). status: pending,
        approved, rejected or cancelled. model: a model or its slug (version: a version name of that model).
        """
        slug = model.slug if isinstance(model, RegisteredModel) else model
        params = _given(
            waiting_for_me=waiting_for_me or None, status=status, model=slug, version=version, requester=requester
        )
        return ChangeRequests(self._http, params)

    # Activity --------------------------------------------------------------------------------------------------

    def activity(self, **filters: str) -> ActivityLog:
        """The activity log you may see, newest first, filtered as the Activity page is.

        Filters: model (slug or name), version, actor, kind (an event, e.g. stage_changed), stage, since, until
        (dates, YYYY-MM-DD), q (words in the comment).
        """
        return ActivityLog(self._http, filters)

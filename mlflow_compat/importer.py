"""Copy an MLflow server's model registry into Model Catalog (`manage.py import_mlflow`).

Reads MLflow's registry REST API with httpx (the mlflow package is not needed) and writes through the catalog's
batch import services, so the same permission decisions, limits and activity entries hold as for any other write:
models first (one page of 1,000 at a time), then versions streamed in pages (the next page is read while the last one
is written), then aliases. Each batch is one transaction and what is already here is left as it is, so an
interrupted import resumes by running it again, and a re-run adds only what is new.
"""

from __future__ import annotations

import fnmatch
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from catalog import services
from catalog.models import ModelVersion, RegisteredModel
from catalog.services import CatalogError, ImportedAlias, ImportedModel, ImportedVersion, ImportOutcome
from core.names import normalised
from mlflow_compat.translate import FROM_MLFLOW_STAGE, TO_MLFLOW_STAGE

API = "/api/2.0/mlflow"
MODELS_PAGE = 1_000  # the most MLflow's registered-models/search answers at once
VERSIONS_PAGE = 10_000  # MLflow answers a page of 10,000 in 1.6 times the time of one of 5,000
BATCH = 1_000  # objects written per transaction
PROMPT_TAG = "mlflow.prompt.is_prompt"  # MLflow 3 keeps prompts as registered models carrying this tag
RETRIES = 3
VERSION_PAGES_AHEAD = 2  # pages read ahead of the models written: with VERSIONS_WAITING, at most 50,000 versions
VERSIONS_WAITING = 10_000  # versions kept for models not written yet, before reading waits for the models
RUN_LINK_TAG = "mlflow.run_link"  # where a run link that is not a URL goes
T = TypeVar("T")


class ImportFailed(Exception):
    """The import cannot go on; the message is one line fit to show a user."""


@dataclass
class Tally:
    created: int = 0
    existing: int = 0
    failed: int = 0

    @property
    def seen(self) -> int:
        return self.created + self.existing + self.failed


@dataclass
class Summary:
    """What an import did, for its progress line and its closing summary."""

    server: str
    models: Tally = field(default_factory=Tally)
    versions: Tally = field(default_factory=Tally)
    aliases: Tally = field(default_factory=Tally)
    models_total: int = 0
    versions_estimate: int = 0  # the highest version number of each model, summed: exact unless some were deleted
    prompts_skipped: int = 0
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def versions_per_second(self) -> float:
        return self.versions.created / max(self.seconds, 1e-9)

    @property
    def nothing_new(self) -> bool:
        return not (self.models.created or self.versions.created or self.aliases.created)


def _key(name: str) -> str:
    """A model's name as both registries know it, in any case."""
    return normalised(name).lower()


def clean_url(url: str) -> str:
    """The server's address as given, without credentials or a trailing API path; raises ImportFailed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImportFailed(f"--from must be an MLflow server's http:// or https:// address, not “{url}”.")
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port out of range or not a number
    except ValueError as error:
        raise ImportFailed(f"--from “{url}” has an invalid port.") from error
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    path = parts.path.rstrip("/").removesuffix(API)
    return urlunsplit((parts.scheme, host, path, "", ""))


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text.split("] ", 1)[-1] if text.startswith("[Errno") else text


class MlflowReader:
    """The registry of one MLflow server, read over REST; every failure is an ImportFailed saying what went wrong."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.server = clean_url(url)
        parts = urlsplit(url.strip())
        username, password = username or parts.username, password or parts.password
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        auth = httpx.BasicAuth(username, password or "") if username and not token else None
        self.has_credentials = bool(token or username)
        self.timeout = timeout
        self._options: dict[str, Any] = {"token": token, "username": username, "password": password, "timeout": timeout}
        self._url = url
        self.client = httpx.Client(base_url=self.server + API, headers=headers, auth=auth, timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def fork(self) -> MlflowReader:
        """Another reader of the same server, with a connection of its own (for a second thread)."""
        return MlflowReader(self._url, **self._options)

    def get(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        """GET path's JSON answer, retrying a server that is briefly unavailable; raises ImportFailed."""
        for attempt in range(RETRIES):
            try:
                response = self.client.get(path, params=tuple(params))
            except httpx.TimeoutException as error:
                raise ImportFailed(f"{self.server} did not answer within {self.timeout:g} s.") from error
            except httpx.ConnectError as error:
                raise ImportFailed(f"Cannot connect to {self.server}: {_reason(error)}.") from error
            except httpx.HTTPError as error:
                if attempt + 1 < RETRIES:
                    time.sleep(0.5 * (attempt + 1))
                    continue
                raise ImportFailed(f"Reading {self.server} failed: {_reason(error)}.") from error
            if response.status_code in (502, 503, 504) and attempt + 1 < RETRIES:
                time.sleep(0.5 * (attempt + 1))
                continue
            return self._answer(path, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _answer(self, path: str, response: httpx.Response) -> dict[str, Any]:
        body: Any = None
        if "json" in response.headers.get("content-type", ""):
            try:
                body = response.json()
            except ValueError:
                body = None
        mlflow_error = isinstance(body, dict) and "error_code" in body
        message = str(body.get("message", "")).strip() if isinstance(body, dict) else ""
        status = f"{response.status_code} {response.reason_phrase}".strip()
        if response.status_code in (401, 403):
            hint = (
                "check --token (or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)"
                if self.has_credentials
                else "pass --token, or set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
            )
            detail = f": {message}" if message else ""
            raise ImportFailed(f"{self.server} refused the credentials ({status}){detail.rstrip('.')}; {hint}.")
        if not isinstance(body, dict):
            kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
            raise ImportFailed(
                f"{self.server} does not look like an MLflow server: GET {API}/{path} answered {status} with "
                f"{kind}, not MLflow's JSON."
            )
        if mlflow_error and body["error_code"] == "ENDPOINT_NOT_FOUND":
            raise ImportFailed(f"{self.server} has no MLflow model registry API ({API}/{path}: ENDPOINT_NOT_FOUND).")
        if response.status_code >= 400:
            code = body.get("error_code", "an error") if mlflow_error else "an error"
            raise ImportFailed(f"{self.server} answered {status} ({code}) to GET {API}/{path}: {message or body}.")
        return body

    def check(self) -> None:
        """That the server answers as MLflow's registry does; raises ImportFailed saying what it is instead."""
        body = self.get("registered-models/search", [("max_results", "1")])
        if not set(body) <= {"registered_models", "next_page_token"}:
            raise ImportFailed(
                f"{self.server} does not look like an MLflow server: registered-models/search answered "
                f"JSON with {', '.join(sorted(body)[:5])}."
            )

    def _pages(self, path: str, key: str, params: list[tuple[str, str]]) -> Iterator[list[dict[str, Any]]]:
        token = ""
        while True:
            body = self.get(path, params + ([("page_token", token)] if token else []))
            yield list(body.get(key) or [])
            token = body.get("next_page_token") or ""
            if not token:
                return

    def models(self, name_filter: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of registered models (each with its tags, aliases and latest versions), in name order."""
        params = [("max_results", str(MODELS_PAGE)), ("order_by", "name ASC")]
        params += [("filter", name_filter)] if name_filter else []
        return self._pages("registered-models/search", "registered_models", params)

    def versions(self, name_filter: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of model versions, by model name and version number."""
        params = [("max_results", str(VERSIONS_PAGE)), ("order_by", "name ASC"), ("order_by", "version_number ASC")]
        params += [("filter", name_filter)] if name_filter else []
        return self._pages("model-versions/search", "model_versions", params)


def name_filter(pattern: str) -> str:
    """An MLflow filter narrowing the server's answers to names that may match the shell-style pattern; the exact
    match is made here (LIKE's `_` is any character, and a [class] is widened to any run)."""
    if not pattern or "'" in pattern:
        return ""
    head = pattern.split("[", 1)[0] + ("*" if "[" in pattern else "")
    return "name LIKE '" + head.replace("*", "%").replace("?", "_") + "'"


def _time(millis: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _is_url(text: str) -> bool:
    try:
        URLValidator()(text)
    except ValidationError:
        return False
    return True


def _tags(entity: dict[str, Any]) -> dict[str, str]:
    return {str(tag.get("key", "")): str(tag.get("value", "")) for tag in entity.get("tags") or []}


def _chunks(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Prefetch:
    """Iterates pages read by a background thread, so the next page of MLflow's answer is read while this one is
    written. Only the thread reads over HTTP; every database write stays in the caller's thread."""

    def __init__(self, pages: Iterator[list[dict[str, Any]]], *, ahead: int = 2) -> None:
        self._pages = pages
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._read, daemon=True, name="mlflow-import-reader")
        self._thread.start()

    def _read(self) -> None:
        try:
            for page in self._pages:
                while not self._stop.is_set():
                    try:
                        self._queue.put(("page", page), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._queue.put(("end", None))
        except BaseException as error:  # handed to the caller's thread, which raises it
            self._queue.put(("error", error))

    def _next(self, *, block: bool) -> list[dict[str, Any]] | None:
        """The next page; None at the end, or (not blocking) when the next one is not read yet."""
        if self._ended:
            return None
        try:
            kind, value = self._queue.get(block=block)
        except queue.Empty:
            return None
        if kind == "error":
            raise value
        if kind == "end":
            self._ended = True
            return None
        return value

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        try:
            while (page := self._next(block=True)) is not None:
                yield page
        finally:
            self.close()

    def ready(self) -> list[dict[str, Any]]:
        """What the pages read so far hold and nobody took yet, without waiting for more."""
        found: list[dict[str, Any]] = []
        while (page := self._next(block=False)) is not None:
            found += page
        return found

    def close(self) -> None:
        """Stop reading (the thread ends at its next page)."""
        self._stop.set()


class Importer:
    """One import from an MLflow server into the catalog, acting as actor; report is called after every batch."""

    def __init__(
        self,
        reader: MlflowReader,
        *,
        actor: User,
        pattern: str = "",
        report: Callable[[Summary], None] = lambda summary: None,
    ) -> None:
        self.reader, self.actor, self.pattern, self.report = reader, actor, pattern, report
        self.summary = Summary(server=reader.server)
        self.origin = {"from": "MLflow", "server": reader.server}
        self.failed_models: set[str] = set()  # lowercase names of the models this import tried and could not make
        self.seen_models: set[str] = set()  # lowercase names of MLflow's models so far
        self.skipped_models: set[str] = set()  # lowercase names of the prompts left out, whose versions are too

    def run(self, *, dry_run: bool = False) -> Summary:
        """Import everything new; with dry_run, do the same in a transaction that is rolled back. Raises
        ImportFailed (the summary so far stays in self.summary)."""
        if dry_run:
            with transaction.atomic():
                self._run()
                transaction.set_rollback(True)
        else:
            self._run()
        self.summary.finished = time.monotonic()
        return self.summary

    def _run(self) -> None:
        # Models and versions are read at once, each on its own connection: MLflow takes seconds per page of
        # models. Versions are written as soon as their model is, while MLflow serves the next page of models; the
        # others wait in memory (a few pages at most) until their models are written.
        names = name_filter(self.pattern)
        versions_reader = self.reader.fork()
        version_pages = _Prefetch(versions_reader.versions(names), ahead=VERSION_PAGES_AHEAD)
        aliases: list[tuple[str, list[dict[str, Any]]]] = []
        local: dict[str, RegisteredModel] = {}
        waiting: list[dict[str, Any]] = []
        try:
            for page in _Prefetch(self.reader.models(names)):
                wanted = self._wanted_models(page)
                aliases += [(str(entity["name"]), list(entity.get("aliases") or [])) for entity in wanted]
                local |= self._import_models(wanted)
                if len(waiting) < VERSIONS_WAITING:
                    waiting += version_pages.ready()
                waiting = self._import_versions(waiting, local, models_done=False)
            self._import_versions(waiting, local, models_done=True)
            for page in version_pages:
                self._import_versions(page, local, models_done=True)
        finally:
            version_pages.close()
            versions_reader.close()
        self._import_aliases(aliases, local)

    def _fail(self, what: str, reason: str) -> None:
        self.summary.failures.append(f"{what}: {reason}")

    # Models ----------------------------------------------------------------------------------------------------------

    def _wanted_models(self, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The models of a page to import: those the pattern matches, prompts left out, one name per any case."""
        wanted = []
        for entity in page:
            name = str(entity.get("name", ""))
            if self.pattern and not fnmatch.fnmatchcase(name, self.pattern):
                continue
            if _tags(entity).get(PROMPT_TAG, "").lower() == "true":
                self.summary.prompts_skipped += 1
                self.skipped_models.add(_key(name))
                continue
            if _key(name) in self.seen_models:
                # Our names are unique in any case; MLflow's only as written.
                self.summary.models.failed += 1
                self.failed_models.add(_key(name))
                self._fail(f"model “{name}”", "another MLflow model has the same name in another case")
                continue
            self.seen_models.add(_key(name))
            wanted.append(entity)
            latest = [str(v.get("version", "")) for v in entity.get("latest_versions") or []]
            self.summary.versions_estimate += max((int(n) for n in latest if n.isdigit()), default=0)
        self.summary.models_total += len(wanted)
        return wanted

    def _import_models(self, remote: list[dict[str, Any]]) -> dict[str, RegisteredModel]:
        """Create the models that are new; returns every model imported or already here, by lowercase name."""
        local: dict[str, RegisteredModel] = {}
        for batch in _chunks(remote):
            items = [
                ImportedModel(
                    name=str(entity["name"]),
                    description=str(entity.get("description") or ""),
                    attributes=_tags(entity),
                    created_at=_time(entity.get("creation_timestamp")),
                    updated_at=_time(entity.get("last_updated_timestamp")),
                    origin=self._origin(entity),
                )
                for entity in batch
            ]
            outcome = self._batch(services.import_models, items, "models", lambda item: f"model “{item.name}”")
            for model in outcome.created:
                local[_key(model.name)] = model
            self.failed_models.update(_key(item.name) for item, _ in outcome.failed)
            names = [normalised(item.name) for item in outcome.existing]
            for model in RegisteredModel.objects.filter(name__in=names):
                local[_key(model.name)] = model
            # A model here whose name differs only in case from MLflow's.
            for item in outcome.existing:
                if _key(item.name) not in local:
                    found = RegisteredModel.objects.filter(name__iexact=normalised(item.name)).first()
                    if found is not None:
                        local[_key(found.name)] = found
            self.report(self.summary)
        return local

    def _origin(self, entity: dict[str, Any]) -> dict[str, Any]:
        created = _time(entity.get("creation_timestamp"))
        origin: dict[str, Any] = dict(self.origin)
        if created is not None:
            origin["created_at"] = created.isoformat()
        if entity.get("user_id"):
            origin["user"] = str(entity["user_id"])
        return origin

    def _batch(
        self,
        service: Callable[..., ImportOutcome[T, Any]],
        items: Sequence[T],
        kind: str,
        describe: Callable[[T], str],
    ) -> ImportOutcome[T, Any]:
        """Run one batch import service and count its outcome; a refused batch fails every item in it."""
        tally: Tally = getattr(self.summary, kind)
        keyword = {"models": "models", "versions": "versions", "aliases": "aliases"}[kind]
        try:
            outcome: ImportOutcome[T, Any] = service(actor=self.actor, **{keyword: items})
        except CatalogError as error:
            outcome = ImportOutcome(failed=[(item, str(error)) for item in items])
        tally.created += len(outcome.created)
        tally.existing += len(outcome.existing)
        tally.failed += len(outcome.failed)
        for item, reason in outcome.failed:
            self._fail(describe(item), reason)
        return outcome

    # Versions --------------------------------------------------------------------------------------------------------

    def _import_versions(
        self, entities: list[dict[str, Any]], local: dict[str, RegisteredModel], *, models_done: bool
    ) -> list[dict[str, Any]]:
        """Import the versions whose model is here; returns those whose model may still come (none once every
        model is read: a version of a model never imported is then failed, or skipped with its model)."""
        items: list[ImportedVersion] = []
        later: list[dict[str, Any]] = []
        for entity in entities:
            name, number = str(entity.get("name", "")), str(entity.get("version", ""))
            if self.pattern and not fnmatch.fnmatchcase(name, self.pattern):
                continue
            key = _key(name)
            if key in self.skipped_models:
                continue
            model = local.get(key)
            if model is None and not models_done and key not in self.seen_models:
                later.append(entity)
                continue
            item = self._version(entity, model) if model is not None else None
            if item is None:
                if model is not None or key in self.failed_models:
                    self.summary.versions.failed += 1
                    reason = "its model was not imported" if model is None else self._version_problem(entity)
                    self._fail(f"version {number} of “{name}”", reason)
                continue
            items.append(item)
        for batch in _chunks(items):
            self._batch(
                services.import_versions,
                batch,
                "versions",
                lambda item: f"version {item.number} of “{item.model.name}”",
            )
            self.report(self.summary)
        return later

    def _version_problem(self, entity: dict[str, Any]) -> str:
        if not str(entity.get("version", "")).isdigit():
            return f"its version “{entity.get('version')}” is not a number"
        names = ", ".join(TO_MLFLOW_STAGE.values())
        return f"its stage “{entity.get('current_stage')}” is none of {names}"

    def _version(self, entity: dict[str, Any], model: RegisteredModel) -> ImportedVersion | None:
        stage = FROM_MLFLOW_STAGE.get(str(entity.get("current_stage") or "None").lower())
        number = str(entity.get("version", ""))
        if stage is None or not number.isdigit():
            return None
        origin = self._origin(entity) | {"stage": str(entity.get("current_stage") or "None")}
        attributes: dict[str, str] = _tags(entity)
        run_link = str(entity.get("run_link") or "").strip()
        if run_link and not _is_url(run_link):
            # MLflow takes any text as a run link; ours is a link. Kept as a tag rather than losing the version.
            attributes[RUN_LINK_TAG], run_link = run_link, ""
        return ImportedVersion(
            model=model,
            number=int(number),
            stage=stage,
            description=str(entity.get("description") or ""),
            attributes=attributes,
            artifact_uri=str(entity.get("source") or ""),
            source_run_url=run_link,
            run_id=str(entity.get("run_id") or ""),
            created_at=_time(entity.get("creation_timestamp")),
            updated_at=_time(entity.get("last_updated_timestamp")),
            origin=origin,
        )

    # Aliases ---------------------------------------------------------------------------------------------------------

    def _import_aliases(
        self, remote: list[tuple[str, list[dict[str, Any]]]], local: dict[str, RegisteredModel]
    ) -> None:
        wanted = [
            (local[_key(name)], str(alias.get("alias", "")), str(alias.get("version", "")))
            for name, aliases in remote
            if _key(name) in local
            for alias in aliases
        ]
        for batch in _chunks(wanted):
            numbers = {int(number) for _, _, number in batch if number.isdigit()}
            versions = {
                (v.model_id, v.number): v
                for v in ModelVersion.objects.filter(model_id__in={m.pk for m, _, _ in batch}, number__in=numbers)
            }
            items = []
            for model, name, number in batch:
                version = versions.get((model.pk, int(number))) if number.isdigit() else None
                if version is None:
                    self.summary.aliases.failed += 1
                    self._fail(f"alias @{name} of “{model.name}”", f"its version {number} was not imported")
                    continue
                version.model = model
                items.append(ImportedAlias(version=version, name=name, origin=self.origin))
            self._batch(
                services.import_aliases,
                items,
                "aliases",
                lambda item: f"alias @{item.name} of “{item.version.model.name}”",
            )
            self.report(self.summary)

"""The API is a second front door, not a second write path: the same refusal and the same activity entry as the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from activity.models import ActivityEntry
from approvals.models import StageChangeRequest
from approvals.services import request_stage_change
from catalog.models import ModelVersion, RegisteredModel, Stage
from tests.factories import VersionFactory
from tests.helpers import ApiClient, client_for

Api = Callable[[Any], ApiClient]
PAGE = "/models/churn-predictor/versions"


def entry_of(version: ModelVersion) -> dict[str, Any]:
    """The newest entry about version, without what names the version or the request (which differ by design)."""
    entry = ActivityEntry.objects.filter(version=version).order_by("-pk").first()
    assert entry is not None
    extra = {key: value for key, value in entry.extra.items() if key not in ("change_request", "caused_by")}
    return {
        "verb": entry.verb,
        "actor": entry.actor.username,
        "from": entry.from_stage,
        "to": entry.to_stage,
        "comment": entry.comment,
        "extra": extra,
    }


def pending_on(version: ModelVersion) -> StageChangeRequest:
    return StageChangeRequest.objects.get(version=version, status="pending")


# (what the page posts, what the API does) for one action on a version named v; each writes one entry.
ACTIONS: dict[str, tuple[Callable[[Client, ModelVersion], Any], Callable[[ApiClient, ModelVersion], Any]]] = {
    "request": (
        lambda page, v: page.post(f"{PAGE}/{v.name}/request/", {"to_stage": "staging", "comment": "Soak."}),
        lambda api, v: api.post(f"{PAGE}/{v.name}/requests", {"to_stage": "staging", "comment": "Soak."}),
    ),
    "lock": (
        lambda page, v: page.post(f"{PAGE}/{v.name}/lock/", {"lock_level": "closed"}),
        lambda api, v: api.put(f"{PAGE}/{v.name}/lock", {"lock_level": "closed"}),
    ),
    "comment": (
        lambda page, v: page.post(f"{PAGE}/{v.name}/comments/", {"comment": "Checked."}),
        lambda api, v: api.post(f"{PAGE}/{v.name}/comments", {"comment": "Checked."}),
    ),
    "edit": (
        lambda page, v: page.post(f"{PAGE}/{v.name}/edit/", {"description": "Better.", "labels": "gpu"}),
        lambda api, v: api.patch(f"{PAGE}/{v.name}", {"description": "Better.", "labels": ["gpu"]}),
    ),
}
REVIEWS: dict[str, tuple[str, str]] = {"approve": ("approve", "reviewer"), "reject": ("reject", "reviewer")}


@pytest.mark.parametrize("action", ACTIONS)
def test_the_api_writes_the_entry_the_page_writes(
    model: RegisteredModel, owner: Any, editor: Any, api_as: Api, action: str
) -> None:
    by_page, by_api = (VersionFactory.create(model=model, name=name) for name in ("page", "api"))
    page_action, api_action = ACTIONS[action]

    assert page_action(client_for(editor), by_page).status_code == 302
    assert api_action(api_as(editor), by_api).status_code in (200, 201)
    assert entry_of(by_api) == entry_of(by_page)


@pytest.mark.parametrize("action", ["approve", "reject", "cancel"])
def test_a_review_through_the_api_writes_the_pages_entry(
    model: RegisteredModel, editor: Any, reviewer: Any, api_as: Api, action: str
) -> None:
    by_page, by_api = (VersionFactory.create(model=model, name=name) for name in ("page", "api"))
    for version in (by_page, by_api):
        request_stage_change(actor=editor, version=version, to_stage=Stage.DEVELOPMENT)
    actor = editor if action == "cancel" else reviewer

    page = client_for(actor).post(f"/approvals/requests/{pending_on(by_page).pk}/{action}/", {"comment": "Done."})
    api = api_as(actor).post(f"/requests/{pending_on(by_api).pk}/{action}", {"comment": "Done."})

    assert (page.status_code, api.status_code) == (302, 200)
    assert entry_of(by_api) == entry_of(by_page)


@pytest.mark.parametrize(
    ("persona", "page_call", "api_call"),
    [
        ("viewer", ("post", f"{PAGE}/v1.0.0/request/", {"to_stage": "staging"}), ("post", "/v1.0.0/requests")),
        ("viewer", ("post", f"{PAGE}/v1.0.0/lock/", {"lock_level": "closed"}), ("put", "/v1.0.0/lock")),
        ("viewer", ("post", f"{PAGE}/v1.0.0/comments/", {"comment": "Hi."}), ("post", "/v1.0.0/comments")),
        ("viewer", ("post", f"{PAGE}/v1.0.0/edit/", {"description": "x"}), ("patch", "/v1.0.0")),
        ("editor", ("post", "/models/churn-predictor/policy/", {"required_approvals": 2}), ("put", "policy")),
    ],
)
def test_a_refusal_reads_the_same_on_the_page_and_in_the_api(
    version: ModelVersion,
    api_as: Api,
    request: pytest.FixtureRequest,
    persona: str,
    page_call: tuple[str, str, dict[str, Any]],
    api_call: tuple[str, str],
) -> None:
    user = request.getfixturevalue(persona)
    _, url, data = page_call
    page = client_for(user).post(url, data)
    method, tail = api_call
    bodies = {"requests": {"to_stage": "staging"}, "lock": {"lock_level": "closed"}, "comments": {"comment": "Hi."}}
    body = next((b for key, b in bodies.items() if tail.endswith(key)), {"description": "x"})
    path = "/models/churn-predictor/policy" if tail == "policy" else f"{PAGE}{tail}"
    api = getattr(api_as(user), method)(path, {"required_approvals": 2} if tail == "policy" else body)

    assert (page.status_code, api.status_code) == (403, 403)
    message = api.json()["error"]["message"]
    assert message in page.text.replace("&#x27;", "'")

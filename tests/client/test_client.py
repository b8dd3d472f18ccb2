"""The client's models, versions, find, lazy lists, locks and activity, against the live server."""

from __future__ import annotations

from typing import Any

import pytest
from modelcatalog_client import Client, RegisteredModelVersion, lock
from modelcatalog_client.stage_change import Archived, Development, Production, Staging, Unassigned

from catalog.models import RegisteredModel
from tests.client.conftest import Connect
from tests.factories import ModelFactory, VersionFactory


def test_the_seed_snippet_requests_staging_and_finds_the_version_once_a_reviewer_approves(
    connect: Connect, editor: Any, reviewer: Any, version: Any
) -> None:
    client = connect(editor)
    model = client.get_registered_model("Churn Predictor")
    model_ver = model.get_version("v1.0.0")

    from modelcatalog_client.stage_change import Staging

    change_request = model_ver.change_stage(Staging("Undergoing final testing."))
    assert model_ver.stage == "unassigned"  # a request, not a bypass
    assert (change_request.status, change_request.to_stage, change_request.comment) == (
        "pending",
        "staging",
        "Undergoing final testing.",
    )
    assert model_ver.pending_request == change_request.id
    assert list(model.versions.find("stage == staging")) == []

    connect(reviewer).get_change_request(change_request.id).approve("Checks pass.")

    staging_model_version = model.versions.find("stage == staging")[0]
    assert staging_model_version.name == "v1.0.0"
    assert staging_model_version.stage == "staging"
    assert model_ver.refresh().stage == "staging"
    shown = repr(staging_model_version)
    assert shown.startswith("version: v1.0.0\nmodel: Churn Predictor (churn-predictor)\nstage: staging\n")
    assert "lock level: open" in shown
    assert f"url: {staging_model_version.url}" in shown


def test_stage_change_classes_are_verta_s() -> None:
    assert [cls("why").stage for cls in (Unassigned, Development, Staging, Production, Archived)] == [
        "unassigned",
        "development",
        "staging",
        "production",
        "archived",
    ]
    assert Staging().comment is None
    assert repr(Production("Rolling out to prod.")) == "Production('Rolling out to prod.')"
    with pytest.raises(TypeError, match="`comment` must be type str"):
        Staging(42)  # type: ignore[arg-type]


def test_a_model_is_found_by_its_name_in_any_case_or_by_its_slug(connect: Connect, owner: Any, model: Any) -> None:
    ModelFactory(owner=owner, name="Churn Predictor!")  # the server makes its slug churn-predictor-2
    client = connect(owner)
    assert client.get_registered_model("Churn Predictor").slug == "churn-predictor"
    assert client.get_registered_model("churn predictor").name == "Churn Predictor"
    assert client.get_registered_model("churn-predictor").name == "Churn Predictor"
    found = client.get_registered_model("Churn Predictor!")  # its name's slug is the other model's
    assert (found.name, found.slug) == ("Churn Predictor!", "churn-predictor-2")
    assert client.get_registered_model("churn-predictor-2").name == "Churn Predictor!"


def test_get_or_create_registers_a_model_once(connect: Connect, owner: Any) -> None:
    client = connect(owner)
    made = client.get_or_create_registered_model(
        "Fraud Scorer", desc="Scores card payments.", labels=["fraud", "tabular"], visibility="private"
    )
    assert (made.name, made.slug, made.description, made.labels) == (
        "Fraud Scorer",
        "fraud-scorer",
        "Scores card payments.",
        ["fraud", "tabular"],
    )
    assert (made.owner, made.visibility, made.version_count) == ("owner", "private", 0)

    again = client.get_or_create_registered_model("fraud scorer", desc="Ignored: the model exists.")
    assert (again.slug, again.description) == ("fraud-scorer", "Scores card payments.")
    assert RegisteredModel.objects.filter(name__iexact="fraud scorer").count() == 1


def test_create_version_registers_it_unassigned_with_its_fields(connect: Connect, owner: Any, model: Any) -> None:
    model_ = connect(owner).get_registered_model("Churn Predictor")
    made = model_.create_version(
        "v2.0.0",
        desc="Retrained on October.",
        labels=["candidate"],
        attrs={"auc": 0.93, "framework": "xgboost"},
        artifact_uri="s3://models/churn/v2/model.pkl",
    )
    assert (made.name, made.stage, made.lock_level, made.created_by) == ("v2.0.0", "unassigned", "open", "owner")
    assert (made.description, made.labels, made.attributes) == (
        "Retrained on October.",
        ["candidate"],
        {"auc": 0.93, "framework": "xgboost"},
    )
    assert made.artifact_uri == "s3://models/churn/v2/model.pkl"
    assert model_.get_version("v2.0.0").attributes == {"auc": 0.93, "framework": "xgboost"}
    assert model_.refresh().version_count == 1
    assert isinstance(made, RegisteredModelVersion)
    assert made.created_at.tzinfo is not None
    assert (made.to_json()["name"], made.to_json()["created_at"][-1]) == ("v2.0.0", "Z")  # the server's JSON


@pytest.fixture
def scored(model: Any, owner: Any) -> dict[str, Any]:
    """Three versions with an AUC each, created in this order (so listed newest first: rc2, v1.1, v1.0)."""
    return {
        name: VersionFactory(model=model, created_by=owner, name=name, attributes={"auc": auc}, labels=labels)
        for name, auc, labels in (("v1.0", 0.85, ["baseline"]), ("v1.1", 0.91, []), ("v1.2-rc2", 0.95, ["nlp"]))
    }


FOUND_BY = {
    "attributes.auc == 0.91": ["v1.1"],
    "attributes.auc != 0.91": ["v1.2-rc2", "v1.0"],
    "attributes.auc < 0.91": ["v1.0"],
    "attributes.auc <= 0.91": ["v1.1", "v1.0"],
    "attributes.auc > 0.91": ["v1.2-rc2"],
    "attributes.auc >= 0.91": ["v1.2-rc2", "v1.1"],
    "version ~= rc": ["v1.2-rc2"],
    "labels == nlp": ["v1.2-rc2"],
    "labels != nlp": ["v1.1", "v1.0"],
    "stage == unassigned": ["v1.2-rc2", "v1.1", "v1.0"],
    "stage == staging": [],
}


def test_find_filters_versions_with_each_operator(connect: Connect, owner: Any, scored: dict[str, Any]) -> None:
    # One test for the whole table: each test against the live server empties the database after it.
    versions = connect(owner).get_registered_model("Churn Predictor").versions
    assert {predicate: [v.name for v in versions.find(predicate)] for predicate in FOUND_BY} == FOUND_BY


def test_find_ands_predicates_given_together_in_a_list_or_in_turn(
    connect: Connect, owner: Any, scored: dict[str, Any], org_model: Any
) -> None:
    VersionFactory(model=org_model, created_by=owner, name="v9", attributes={"auc": 0.99})
    every = connect(owner).registered_model_versions
    assert [v.name for v in every.find("attributes.auc > 0.9")] == ["v9", "v1.2-rc2", "v1.1"]
    assert [v.name for v in every.find("attributes.auc > 0.9", "model == 'Churn Predictor'")] == ["v1.2-rc2", "v1.1"]
    assert [v.name for v in every.find(["attributes.auc > 0.9", "labels == nlp"])] == ["v1.2-rc2"]
    narrowed = every.find("attributes.auc > 0.9").find("attributes.auc < 0.99")
    assert [v.name for v in narrowed] == ["v1.2-rc2", "v1.1"]
    assert [v.name for v in every.find("attributes.auc > 0.9")] == ["v9", "v1.2-rc2", "v1.1"]  # find made a copy
    with pytest.raises(TypeError, match="predicates must be type str"):
        every.find(0.9)  # type: ignore[arg-type]


def test_a_lazy_list_reads_only_the_pages_it_needs(connect: Connect, owner: Any, model: Any, proxy: Any) -> None:
    for n in range(7):
        VersionFactory(model=model, created_by=owner, name=f"v{n}")
    watched = proxy()
    versions = connect(owner, host=watched.url, page_size=3).get_registered_model("churn-predictor").versions
    watched.seen.clear()

    assert versions[0].name == "v6"
    assert [query for _, query, _ in watched.seen] == ["/api/v1/models/churn-predictor/versions?limit=1"]
    watched.seen.clear()
    assert versions[4].name == "v2"
    assert len(watched.seen) == 2  # three, then the two it still needed
    assert watched.seen[0][1].endswith("?limit=3")
    assert "limit=2&cursor=" in watched.seen[1][1]
    watched.seen.clear()

    assert [v.name for v in versions] == [f"v{n}" for n in range(6, -1, -1)]
    assert len(watched.seen) == 3  # 3 + 3 + 1, following each page's `next`
    assert len(versions) == 7
    assert bool(versions)
    assert versions[-1].name == "v0"
    assert [v.name for v in versions[1:6:2]] == ["v5", "v3", "v1"]
    with pytest.raises(IndexError):
        versions[7]
    assert not versions.find("stage == production")
    with pytest.raises(IndexError):
        versions.find("stage == production")[0]


def test_more_versions_than_a_page_are_all_listed(connect: Connect, owner: Any, model: Any) -> None:
    for n in range(27):
        VersionFactory(model=model, created_by=owner, name=f"v{n:02}")
    versions = connect(owner).get_registered_model("Churn Predictor").versions  # pages of 25
    assert [v.name for v in versions] == [f"v{n:02}" for n in range(26, -1, -1)]
    assert len(versions.find("version ~= v0")) == 10


def test_sort_keeps_the_server_s_order_lazy_and_sorts_other_orders_after_reading_all(
    connect: Connect, owner: Any, model: Any
) -> None:
    for name in ("b", "C", "a"):
        VersionFactory(model=model, created_by=owner, name=name)
    versions: Any = connect(owner).get_registered_model("Churn Predictor").versions
    assert [v.name for v in versions.sort("time_created", descending=True)] == ["a", "C", "b"]
    assert [v.name for v in versions.sort("time_created")] == ["b", "C", "a"]
    assert [v.name for v in versions.sort("version")] == ["a", "b", "C"]
    assert [v.name for v in versions.sort("name", descending=True)] == ["C", "b", "a"]
    assert versions.sort("version")[0].name == "a"
    with pytest.raises(ValueError, match="cannot sort by 'stage'; sort keys are: time_created, time_updated"):
        versions.sort("stage")


def test_set_lock_level_closes_a_version_and_logs_it(connect: Connect, editor: Any, version: Any) -> None:
    model_ver = connect(editor).get_registered_model("Churn Predictor").get_version("v1.0.0")
    model_ver.set_lock_level(lock.closed, "Frozen for the audit.")
    assert (model_ver.lock_level, model_ver.get_lock_level()) == ("closed", lock.closed)
    latest = model_ver.activity[0]
    assert (latest.event, latest.actor, latest.comment, latest.version) == (
        "lock_changed",
        "editor",
        "Frozen for the audit.",
        "v1.0.0",
    )
    with pytest.raises(TypeError, match="`lock_level` must be an object from `lock`"):
        model_ver.set_lock_level("open")  # type: ignore[arg-type]


def test_activity_lists_a_version_s_history_newest_first(
    connect: Connect, editor: Any, reviewer: Any, version: Any
) -> None:
    model_ver = connect(editor).get_registered_model("Churn Predictor").get_version("v1.0.0")
    change_request = model_ver.change_stage(Development("Starting work."))
    connect(reviewer).get_change_request(change_request.id).approve("Go ahead.")
    entries = list(model_ver.activity)
    assert [(e.event, e.actor) for e in entries] == [
        ("stage_changed", "reviewer"),
        ("stage_change_approved", "reviewer"),
        ("stage_change_requested", "editor"),
        ("version_registered", "owner"),
    ]
    assert (entries[2].from_stage, entries[2].to_stage, entries[2].comment) == (
        "unassigned",
        "development",
        "Starting work.",
    )
    assert entries[0].details["change_request"] == change_request.id
    assert "reviewer stage_changed churn-predictor v1.0.0 unassigned → development" in repr(entries[0])


def test_client_takes_host_and_token_from_the_environment(
    server: str, token_for: Any, owner: Any, model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELCATALOG_HOST", server)
    monkeypatch.setenv("MODELCATALOG_TOKEN", token_for(owner))
    with Client() as client:
        assert client.api_url == f"{server}/api/v1"
        assert client.get_registered_model("Churn Predictor").owner == "owner"
    monkeypatch.delenv("MODELCATALOG_HOST")
    with pytest.raises(ValueError, match="pass host=… or set MODELCATALOG_HOST"):
        Client()
    with Client("catalog.example.com/") as elsewhere:
        assert elsewhere.api_url == "https://catalog.example.com/api/v1"

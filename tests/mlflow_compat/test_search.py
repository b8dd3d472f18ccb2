"""MLflow's two searches, answered from rows rather than model instances: the same JSON as the single-object
endpoints, redaction and visibility as on the pages, and a number of queries that does not grow with the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from api.services import create_api_token
from approvals.services import set_lock_level
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator, set_alias
from tests.factories import GroupFactory, ModelFactory, UserFactory, VersionFactory
from tests.helpers import set_stage

API = "/api/2.0/mlflow"
PROMPT_FILTER = "tags.`mlflow.prompt.is_prompt` != 'true'"  # what MlflowClient.search_registered_models sends
URI = "s3://bucket/{model}/v{number}/model.bin"


class Mlflow:
    """Django's test client calling the MLflow API as one user, with an API token of theirs."""

    def __init__(self, user: Any) -> None:
        secret = create_api_token(actor=user, name="mlflow search tests")[1]
        self.client = Client(raise_request_exception=True, headers={"Authorization": f"Bearer {secret}"})

    def get(self, path: str, params: dict[str, str] | list[tuple[str, str]]) -> Any:
        answer = self.client.get(f"{API}/{path}", params)
        assert answer.status_code == 200, answer.content
        return answer.json()


def populate(owner: Any, model: RegisteredModel) -> list[ModelVersion]:
    """Five versions: 1 Production, 2 and 3 Staging, 4 Archived and redacted, 5 Unassigned; two aliases; tags."""
    versions = []
    for number, stage in enumerate((Stage.PRODUCTION, Stage.STAGING, Stage.STAGING, Stage.ARCHIVED), start=1):
        version = VersionFactory.create(
            model=model,
            name=f"{number}.0",
            artifact_uri=URI.format(model=model.pk, number=number),
            source_run_url=f"https://runs.example.com/{model.pk}/{number}",
            run_id=f"run{number}",
            attributes={"framework": "xgboost", "auc": 0.9},
        )
        set_stage(version, stage)
        versions.append(version)
    versions.append(VersionFactory.create(model=model, name="5.0", artifact_uri="s3://bucket/latest"))
    set_lock_level(actor=owner, version=ModelVersion.objects.get(pk=versions[3].pk), lock_level=LockLevel.REDACT)
    set_alias(actor=owner, version=versions[0], alias="champion")
    set_alias(actor=owner, version=versions[2], alias="challenger")
    return versions


@pytest.fixture
def viewer_sees(owner: Any, model: RegisteredModel) -> Any:
    """A viewer of the private model, which has versions in every stage, a redacted one and aliases."""
    populate(owner, model)
    viewer = UserFactory.create(username="mlflow-viewer")
    add_collaborator(actor=owner, model=model, user=viewer, role=Role.VIEWER)
    return viewer


def test_a_model_in_the_search_reads_as_registered_models_get(owner: Any, model: Any, viewer_sees: Any) -> None:
    for user in (owner, viewer_sees):
        mlflow = Mlflow(user)
        (found,) = mlflow.get("registered-models/search", {"filter": PROMPT_FILTER})["registered_models"]
        assert found == mlflow.get("registered-models/get", {"name": model.name})["registered_model"]
        assert [(v["version"], v["current_stage"]) for v in found["latest_versions"]] == [
            ("5", "None"),
            ("3", "Staging"),
            ("1", "Production"),
            ("4", "Archived"),
        ]
        assert found["aliases"] == [{"alias": "challenger", "version": "3"}, {"alias": "champion", "version": "1"}]
        for latest in found["latest_versions"]:
            single = mlflow.get("model-versions/get", {"name": model.name, "version": latest["version"]})
            assert latest == single["model_version"]


def test_versions_in_the_search_read_as_model_versions_get(owner: Any, model: Any, viewer_sees: Any) -> None:
    for user in (owner, viewer_sees):
        mlflow = Mlflow(user)
        found = mlflow.get("model-versions/search", {"filter": f"name = '{model.name}'"})["model_versions"]
        assert len(found) == 5
        for version in found:
            single = mlflow.get("model-versions/get", {"name": model.name, "version": version["version"]})
            assert version == single["model_version"]
        by_number = {v["version"]: v for v in found}
        assert by_number["3"]["aliases"] == ["challenger"]
        assert by_number["2"]["tags"] == [{"key": "auc", "value": "0.9"}, {"key": "framework", "value": "xgboost"}]
        assert by_number["2"]["user_id"] == "owner"
        assert isinstance(by_number["2"]["creation_timestamp"], int)


def test_a_redacted_version_hides_its_locations_from_all_but_owners(owner: Any, model: Any, viewer_sees: Any) -> None:
    shown = URI.format(model=model.pk, number=4), f"https://runs.example.com/{model.pk}/4"
    for user, expected in ((owner, shown), (viewer_sees, ("", ""))):
        mlflow = Mlflow(user)
        (found,) = mlflow.get("registered-models/search", {"filter": PROMPT_FILTER})["registered_models"]
        (archived,) = [v for v in found["latest_versions"] if v["current_stage"] == "Archived"]
        versions = mlflow.get("model-versions/search", {"filter": "run_id = 'run4'"})["model_versions"]
        for version in (archived, *versions):
            assert (version["source"], version["run_link"]) == expected
        (open_one,) = mlflow.get("model-versions/search", {"filter": "run_id = 'run3'"})["model_versions"]
        assert open_one["source"] == URI.format(model=model.pk, number=3)


def test_the_searches_list_only_what_the_user_may_see(owner: Any, model: Any, org_model: Any, outsider: Any) -> None:
    populate(owner, model)
    VersionFactory.create(model=org_model, name="1.0")
    mlflow = Mlflow(outsider)
    found = mlflow.get("registered-models/search", {"filter": PROMPT_FILTER, "max_results": "100"})
    assert [m["name"] for m in found["registered_models"]] == ["Open Model"]
    versions = mlflow.get("model-versions/search", {"filter": "version_number >= 1"})["model_versions"]
    assert [(v["name"], v["version"]) for v in versions] == [("Open Model", "1")]
    assert mlflow.get("model-versions/search", {"filter": f"name = '{model.name}'"}) == {"model_versions": []}


def build(size: int) -> Any:
    """size models the reader sees three ways (organization-wide, a role of theirs, their group's role), each with
    versions in every stage, a redacted one and aliases, and one private model they cannot see."""
    reader = UserFactory.create(username="reader")
    team = GroupFactory.create(name="readers")
    reader.groups.add(team)
    for n in range(size):
        owner = UserFactory.create(username=f"owner{n}")
        visibility = "organization" if n % 3 == 0 else "private"
        model = ModelFactory.create(owner=owner, name=f"Model {n:02d}", visibility=visibility)
        if n % 3 == 1:
            add_collaborator(actor=owner, model=model, user=reader, role=Role.VIEWER)
        elif n % 3 == 2:
            add_collaborator(actor=owner, model=model, group=team, role=Role.VIEWER)
        populate(owner, model)
    hidden_owner = UserFactory.create(username="hidden-owner")
    populate(hidden_owner, ModelFactory.create(owner=hidden_owner, name="Hidden", visibility="private"))
    return reader


@pytest.mark.parametrize("size", [3, 30])
def test_the_searches_run_a_bounded_number_of_queries(db: None, size: int, django_assert_max_num_queries: Any) -> None:
    mlflow = Mlflow(build(size))
    mlflow.get("registered-models/search", {})  # notes when the token was first used: a write, once
    # The lockout check and the token, the page of models, their latest versions, their aliases, the grants of
    # models with a redacted version.
    with django_assert_max_num_queries(6):
        models = mlflow.get("registered-models/search", {"filter": PROMPT_FILTER, "max_results": "100"})
    assert [m["name"] for m in models["registered_models"]] == [f"Model {n:02d}" for n in range(size)]
    assert all(len(m["latest_versions"]) == 4 for m in models["registered_models"])
    # The lockout check and the token, the page of versions, their aliases, the grants of redacted ones.
    with django_assert_max_num_queries(5):
        versions = mlflow.get("model-versions/search", {"filter": "version_number >= 1"})
    assert len(versions["model_versions"]) == 5 * size
    assert {v["source"] for v in versions["model_versions"] if v["run_id"] == "run4"} == {""}

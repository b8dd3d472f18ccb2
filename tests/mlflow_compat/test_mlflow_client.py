"""MLflow's own client, unchanged, against Model Catalog: every registry method it calls, governed by our rules."""

from __future__ import annotations

from typing import Any

import mlflow
import pytest
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

from activity.models import ActivityEntry, Verb
from approvals.services import set_lock_level
from catalog.models import Alias, LockLevel, ModelVersion, RegisteredModel, Stage
from tests.factories import ModelFactory, VersionFactory
from tests.helpers import set_stage
from tests.mlflow_compat.conftest import Connect

# MLflow deprecates its stage API (transition_model_version_stage, get_latest_versions) in favour of aliases;
# users still call it, and what it does against us is what these tests check.
pytestmark = pytest.mark.filterwarnings("ignore:.*Model registry stages will be removed:FutureWarning")


def code_of(error: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(error.value.error_code)


def test_registering_a_model_and_versions(mlflow_as: Connect, owner: Any) -> None:
    client = mlflow_as(owner)
    created = client.create_registered_model("Fraud", tags={"team": "risk"}, description="Scores payments.")
    assert (created.name, created.description, created.tags) == ("Fraud", "Scores payments.", {"team": "risk"})
    first = client.create_model_version(
        "Fraud", "s3://models/fraud/1", run_id="abc123", tags={"auc": "0.91"}, description="First."
    )
    second = client.create_model_version("Fraud", "s3://models/fraud/2", run_link="https://runs.example.com/7")
    assert (first.version, second.version) == ("1", "2")
    assert (first.status, first.current_stage, first.source, first.run_id) == (
        "READY",
        "None",
        "s3://models/fraud/1",
        "abc123",
    )
    assert first.tags == {"auc": "0.91"}
    assert second.run_link == "https://runs.example.com/7"
    assert isinstance(first.creation_timestamp, int)

    model = RegisteredModel.objects.get(name="Fraud")
    assert (model.owner.username, model.attributes) == ("owner", {"team": "risk"})
    assert list(model.versions.order_by("number").values_list("name", "number", "artifact_uri")) == [
        ("1", 1, "s3://models/fraud/1"),
        ("2", 2, "s3://models/fraud/2"),
    ]
    verbs = list(ActivityEntry.objects.filter(model=model).order_by("pk").values_list("verb", flat=True))
    assert verbs == [Verb.MODEL_REGISTERED, Verb.VERSION_REGISTERED, Verb.VERSION_REGISTERED]

    fetched = client.get_registered_model("Fraud")
    assert [v.version for v in fetched.latest_versions] == ["2"]  # the newest in None (our Unassigned)
    assert client.get_model_version("Fraud", "1").description == "First."


def test_register_model_with_the_fluent_api(mlflow_as: Connect, owner: Any, model: RegisteredModel) -> None:
    mlflow_as(owner)
    version = mlflow.register_model("s3://models/churn/9", "Churn Predictor")
    again = mlflow.register_model("s3://models/churn/10", "Churn Predictor")  # the model exists: a second version

    assert (version.version, again.version) == ("1", "2")
    assert model.versions.count() == 2


def test_a_taken_name_is_resource_already_exists(mlflow_as: Connect, owner: Any, model: RegisteredModel) -> None:
    with pytest.raises(MlflowException) as error:
        mlflow_as(owner).create_registered_model("churn predictor")
    assert code_of(error) == "RESOURCE_ALREADY_EXISTS"


def test_search_accepts_the_clause_the_client_always_adds(mlflow_as: Connect, owner: Any, org_model: Any) -> None:
    for name in ("alpha-ranker", "alpha-tagger", "beta-ranker"):
        ModelFactory.create(owner=owner, name=name)
    RegisteredModel.objects.filter(name="beta-ranker").update(attributes={"mlflow.prompt.is_prompt": "true"})
    client = mlflow_as(owner)

    assert [m.name for m in client.search_registered_models()] == ["Open Model", "alpha-ranker", "alpha-tagger"]
    assert [m.name for m in client.search_registered_models("name LIKE 'alpha%'")] == ["alpha-ranker", "alpha-tagger"]
    assert [m.name for m in client.search_registered_models("name ILIKE '%RANKER'")] == ["alpha-ranker"]
    assert [m.name for m in client.search_registered_models("name = 'alpha-tagger'")] == ["alpha-tagger"]
    ordered = client.search_registered_models(order_by=["name DESC"])
    assert [m.name for m in ordered] == ["alpha-tagger", "alpha-ranker", "Open Model"]

    page = client.search_registered_models(max_results=2)
    assert len(page) == 2
    assert page.token
    rest = client.search_registered_models(max_results=2, page_token=page.token)
    assert [m.name for m in [*page, *rest]] == ["Open Model", "alpha-ranker", "alpha-tagger"]
    assert not rest.token

    with pytest.raises(MlflowException) as error:
        client.search_registered_models("name OR 'x'")
    assert code_of(error) == "INVALID_PARAMETER_VALUE"


def test_tags_on_models_and_versions(mlflow_as: Connect, owner: Any, model: RegisteredModel) -> None:
    client = mlflow_as(owner)
    client.create_model_version("Churn Predictor", "s3://m/1")
    client.set_registered_model_tag("Churn Predictor", "owner.team", "retention")
    client.set_model_version_tag("Churn Predictor", "1", "validated", "yes")
    client.set_model_version_tag("Churn Predictor", "1", "auc", 0.93)  # the client sends "0.93"

    assert client.get_registered_model("Churn Predictor").tags == {"owner.team": "retention"}
    assert client.get_model_version("Churn Predictor", "1").tags == {"auc": "0.93", "validated": "yes"}
    found = client.search_model_versions("name = 'Churn Predictor' AND tags.validated = 'yes'")
    assert [v.version for v in found] == ["1"]
    client.delete_model_version_tag("Churn Predictor", "1", "validated")
    client.delete_registered_model_tag("Churn Predictor", "owner.team")
    assert client.get_model_version("Churn Predictor", "1").tags == {"auc": "0.93"}
    assert ModelVersion.objects.get(model=model, number=1).attributes == {"auc": "0.93"}
    edits = ActivityEntry.objects.filter(model=model, verb__in=[Verb.MODEL_EDITED, Verb.VERSION_EDITED]).count()
    assert edits == 5


def test_aliases_and_model_uris(mlflow_as: Connect, owner: Any, model: RegisteredModel) -> None:
    client = mlflow_as(owner)
    for n in (1, 2):
        client.create_model_version("Churn Predictor", f"s3://models/churn/{n}")
    client.set_registered_model_alias("Churn Predictor", "champion", "1")
    client.set_registered_model_alias("Churn Predictor", "champion", "2")  # moves it

    assert client.get_model_version_by_alias("Churn Predictor", "champion").version == "2"
    assert client.get_registered_model("Churn Predictor").aliases == {"champion": "2"}
    assert client.get_model_version("Churn Predictor", "2").aliases == ["champion"]
    assert ModelsArtifactRepository.get_underlying_uri("models:/Churn Predictor@champion") == "s3://models/churn/2"
    assert ModelsArtifactRepository.get_underlying_uri("models:/Churn Predictor/1") == "s3://models/churn/1"
    assert client.get_model_version_download_uri("Churn Predictor", "1") == "s3://models/churn/1"

    for reserved in ("latest", "v2"):
        with pytest.raises(MlflowException) as error:
            client.set_registered_model_alias("Churn Predictor", reserved, "1")
        assert code_of(error) == "INVALID_PARAMETER_VALUE"
    client.delete_registered_model_alias("Churn Predictor", "champion")
    client.delete_registered_model_alias("Churn Predictor", "champion")  # gone already: nothing happens
    assert not Alias.objects.exists()
    verbs = list(
        ActivityEntry.objects.filter(verb__in=[Verb.ALIAS_SET, Verb.ALIAS_DELETED]).values_list("extra", flat=True)
    )
    assert verbs == [{"alias": "champion"}, {"alias": "champion", "moved_from": "1"}, {"alias": "champion"}]
    with pytest.raises(MlflowException) as error:
        client.get_model_version_by_alias("Churn Predictor", "champion")
    assert code_of(error) == "INVALID_PARAMETER_VALUE"


def test_transition_stage_never_bypasses_approval(mlflow_as: Connect, owner: Any, model: RegisteredModel) -> None:
    client = mlflow_as(owner)
    client.create_model_version("Churn Predictor", "s3://m/1")
    with pytest.raises(MlflowException) as error:
        client.transition_model_version_stage("Churn Predictor", "1", "Production")

    assert code_of(error) == "PERMISSION_DENIED"
    message = str(error.value.message)
    assert "need approval" in message
    assert "transition-requests/create" in message
    assert "/models/churn-predictor/versions/1/" in message
    assert ModelVersion.objects.get(model=model, number=1).stage == Stage.UNASSIGNED
    assert not ActivityEntry.objects.filter(verb=Verb.STAGE_CHANGED).exists()


def test_stages_travel_under_mlflows_names(mlflow_as: Connect, owner: Any, model: RegisteredModel) -> None:
    client = mlflow_as(owner)
    for n in range(1, 5):
        client.create_model_version("Churn Predictor", f"s3://m/{n}")
    for number, stage in ((1, Stage.PRODUCTION), (2, Stage.STAGING), (3, Stage.DEVELOPMENT)):
        set_stage(ModelVersion.objects.get(model=model, number=number), stage)

    assert client.get_model_version("Churn Predictor", "3").current_stage == "Development"
    latest = {v.current_stage: v.version for v in client.get_latest_versions("Churn Predictor")}
    assert latest == {"None": "4", "Development": "3", "Staging": "2", "Production": "1"}
    assert [v.version for v in client.get_latest_versions("Churn Predictor", stages=["production"])] == ["1"]
    assert ModelsArtifactRepository.get_underlying_uri("models:/Churn Predictor/Production") == "s3://m/1"


def test_versions_are_searched_and_updated(mlflow_as: Connect, owner: Any, model: RegisteredModel) -> None:
    client = mlflow_as(owner)
    for n in range(1, 4):
        client.create_model_version("Churn Predictor", f"s3://m/{n}", run_id=f"run{n}")
    client.update_model_version("Churn Predictor", "2", description="The good one.")

    assert [v.version for v in client.search_model_versions("name='Churn Predictor' AND run_id='run2'")] == ["2"]
    newest_first = client.search_model_versions("name='Churn Predictor'", order_by=["version_number DESC"])
    assert [v.version for v in newest_first] == ["3", "2", "1"]
    assert [v.version for v in client.search_model_versions("version_number >= 2", order_by=["version_number"])] == [
        "2",
        "3",
    ]
    assert client.get_model_version("Churn Predictor", "2").description == "The good one."
    client.update_registered_model("Churn Predictor", description="Who cancels next month.")
    assert client.get_registered_model("Churn Predictor").description == "Who cancels next month."


@pytest.mark.parametrize("call", ["rename", "delete model", "delete version"])
def test_nothing_is_renamed_or_deleted(mlflow_as: Connect, owner: Any, model: RegisteredModel, call: str) -> None:
    client = mlflow_as(owner)
    client.create_model_version("Churn Predictor", "s3://m/1")
    action = {
        "rename": lambda: client.rename_registered_model("Churn Predictor", "Churn Predictor 2"),
        "delete model": lambda: client.delete_registered_model("Churn Predictor"),
        "delete version": lambda: client.delete_model_version("Churn Predictor", "1"),
    }[call]
    with pytest.raises(MlflowException) as error:
        action()
    assert code_of(error) == "PERMISSION_DENIED"
    assert RegisteredModel.objects.filter(name="Churn Predictor").exists()
    assert model.versions.count() == 1


def test_a_locked_version_refuses_edits_saying_it_is_locked(
    mlflow_as: Connect, owner: Any, editor: Any, version: ModelVersion
) -> None:
    set_lock_level(actor=owner, version=version, lock_level=LockLevel.CLOSED)
    client = mlflow_as(editor)
    for call in (
        lambda: client.update_model_version("Churn Predictor", "1", description="x"),
        lambda: client.set_model_version_tag("Churn Predictor", "1", "k", "v"),
    ):
        with pytest.raises(MlflowException) as error:
            call()
        assert code_of(error) == "PERMISSION_DENIED"
        assert "locked" in str(error.value.message)
    assert ModelVersion.objects.get(pk=version.pk).attributes == {}


def test_permissions_per_persona(
    mlflow_as: Connect, viewer: Any, outsider: Any, editor: Any, version: ModelVersion
) -> None:
    mlflow_as(viewer)
    client = mlflow_as(viewer)
    assert client.get_model_version("Churn Predictor", "1").version == "1"
    with pytest.raises(MlflowException) as refused:
        client.set_model_version_tag("Churn Predictor", "1", "k", "v")
    assert code_of(refused) == "PERMISSION_DENIED"
    assert str(refused.value.message).endswith("Only editors and owners of this model can edit its versions.")

    client = mlflow_as(outsider)
    with pytest.raises(MlflowException) as hidden:
        client.get_registered_model("Churn Predictor")
    assert code_of(hidden) == "RESOURCE_DOES_NOT_EXIST"
    assert "Churn Predictor" not in [m.name for m in client.search_registered_models()]
    assert client.search_model_versions("name='Churn Predictor'") == []

    client = mlflow_as(editor, basic=True)
    client.set_model_version_tag("Churn Predictor", "1", "checked", "yes")
    assert ModelVersion.objects.get(pk=version.pk).attributes == {"checked": "yes"}


def test_anonymous_and_bad_credentials_are_unauthenticated(
    mlflow_as: Connect, owner: Any, monkeypatch: pytest.MonkeyPatch, model: RegisteredModel
) -> None:
    client = mlflow_as(None)
    with pytest.raises(MlflowException) as error:
        client.get_registered_model("Churn Predictor")
    assert code_of(error) == "UNAUTHENTICATED"
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "mc_wrong")
    with pytest.raises(MlflowException) as wrong:
        client.get_registered_model("Churn Predictor")
    assert code_of(wrong) == "UNAUTHENTICATED"
    assert "not valid" in str(wrong.value.message)


def test_an_unknown_endpoint_is_a_json_404(mlflow_as: Connect, owner: Any, server: str) -> None:
    import requests

    for path in ("/api/2.0/mlflow/runs/get?run_id=x", "/api/2.0/mlflow/nothing", "/api/3.0/mlflow/server-info"):
        response = requests.get(server + path, timeout=10)
        assert response.status_code == 404
        assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_versions_registered_in_the_pages_are_numbered_too(mlflow_as: Connect, owner: Any, model: Any) -> None:
    VersionFactory.create(model=model, name="v1.0.0")
    VersionFactory.create(model=model, name="v1.1.0")
    created = mlflow_as(owner).create_model_version("Churn Predictor", "s3://m/3")

    assert created.version == "3"
    assert [v.version for v in mlflow_as(owner).search_model_versions("name='Churn Predictor'")] == ["3", "2", "1"]

"""The MLflow registry API and Databricks' extensions under /api/2.0/mlflow/, exact paths without a trailing
slash; anything else under MLflow's prefixes is a JSON 404 the client recognizes."""

from django.urls import path, re_path

from mlflow_compat import databricks, views
from mlflow_compat.http import not_found

M = "api/2.0/mlflow"

urlpatterns = [
    path(f"{M}/registered-models/create", views.create_registered_model),
    path(f"{M}/registered-models/get", views.get_registered_model),
    path(f"{M}/registered-models/rename", views.rename_registered_model),
    path(f"{M}/registered-models/update", views.update_registered_model),
    path(f"{M}/registered-models/delete", views.delete_registered_model),
    path(f"{M}/registered-models/search", views.search_registered_models),
    path(f"{M}/registered-models/get-latest-versions", views.get_latest_versions),
    path(f"{M}/registered-models/set-tag", views.set_registered_model_tag),
    path(f"{M}/registered-models/delete-tag", views.delete_registered_model_tag),
    path(f"{M}/registered-models/alias", views.alias),
    path(f"{M}/model-versions/create", views.create_model_version),
    path(f"{M}/model-versions/get", views.get_model_version),
    path(f"{M}/model-versions/update", views.update_model_version),
    path(f"{M}/model-versions/delete", views.delete_model_version),
    path(f"{M}/model-versions/transition-stage", views.transition_stage),
    path(f"{M}/model-versions/search", views.search_model_versions),
    path(f"{M}/model-versions/get-download-uri", views.get_download_uri),
    path(f"{M}/model-versions/set-tag", views.set_model_version_tag),
    path(f"{M}/model-versions/delete-tag", views.delete_model_version_tag),
    path(f"{M}/transition-requests/create", databricks.create_transition_request),
    path(f"{M}/transition-requests/list", databricks.list_transition_requests),
    path(f"{M}/transition-requests/approve", databricks.approve_transition_request),
    path(f"{M}/transition-requests/reject", databricks.reject_transition_request),
    path(f"{M}/transition-requests/delete", databricks.delete_transition_request),
    path(f"{M}/comments/create", databricks.create_comment),
    path(f"{M}/comments/update", databricks.change_comment),
    path(f"{M}/comments/delete", databricks.change_comment),
    path(f"{M}/databricks/model-versions/get", databricks.get_databricks_model_version),
    re_path(r"^api/(?:2\.0|3\.0)/mlflow(?:-artifacts)?(?:/(?P<rest>.*))?$", not_found),
]

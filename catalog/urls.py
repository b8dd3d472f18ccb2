from django.urls import path

from catalog import compare, views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("models/", views.model_list, name="model-list"),
    path("models/new/", views.model_register, name="model-register"),
    path("models/<slug:slug>/", views.model_detail, name="model-detail"),
    path("models/<slug:slug>/edit/", views.model_edit, name="model-edit"),
    path("models/<slug:slug>/collaborators/", views.model_collaborators, name="model-collaborators"),
    path("models/<slug:slug>/collaborators/add/", views.collaborator_add, name="collaborator-add"),
    path("models/<slug:slug>/collaborators/remove/", views.collaborator_remove, name="collaborator-remove"),
    path("models/<slug:slug>/compare/", compare.version_compare, name="version-compare"),
    path("models/<slug:slug>/versions/new/", views.version_register, name="version-register"),
    path("models/<slug:slug>/versions/<str:version>/", views.version_detail, name="version-detail"),
    path("models/<slug:slug>/versions/<str:version>/edit/", views.version_edit, name="version-edit"),
    path("versions/", views.version_list, name="version-list"),
    path("suggestions/labels/", views.suggest_labels, name="suggest-labels"),
    path("suggestions/owners/", views.suggest_owners, name="suggest-owners"),
]

from django.urls import path, re_path

from activity import views

app_name = "activity"

urlpatterns = [
    path("activity/", views.activity_list, name="activity-list"),
    re_path(r"^activity/export\.(?P<fmt>csv|jsonl)$", views.activity_export, name="activity-export"),
    path("models/<slug:slug>/activity/", views.model_activity, name="model-activity"),
    path("models/<slug:slug>/history/", views.model_history, name="model-history"),
    path("models/<slug:slug>/versions/<str:version>/comments/", views.version_comment, name="version-comment"),
]

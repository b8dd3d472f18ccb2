from django.urls import path

from approvals import views

app_name = "approvals"

urlpatterns = [
    path("approvals/", views.inbox, name="inbox"),
    path("approvals/requests/<int:pk>/approve/", views.change_request_approve, name="change-request-approve"),
    path("approvals/requests/<int:pk>/reject/", views.change_request_reject, name="change-request-reject"),
    path("approvals/requests/<int:pk>/cancel/", views.change_request_cancel, name="change-request-cancel"),
    path("models/<slug:slug>/pending/", views.model_pending, name="model-pending"),
    path("models/<slug:slug>/policy/", views.policy_set, name="policy-set"),
    path(
        "models/<slug:slug>/versions/<str:version>/request/", views.change_request_create, name="change-request-create"
    ),
    path("models/<slug:slug>/versions/<str:version>/lock/", views.lock_level_set, name="lock-level-set"),
]

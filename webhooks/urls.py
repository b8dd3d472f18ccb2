from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("models/<slug:slug>/webhooks/", views.model_webhooks, name="model-webhooks"),
    path("models/<slug:slug>/webhooks/create/", views.webhook_create, name="webhook-create"),
    path("models/<slug:slug>/webhooks/<int:pk>/", views.webhook_detail, name="webhook-detail"),
    path("models/<slug:slug>/webhooks/<int:pk>/edit/", views.webhook_edit, name="webhook-edit"),
    path("models/<slug:slug>/webhooks/<int:pk>/rotate/", views.webhook_rotate, name="webhook-rotate"),
    path("models/<slug:slug>/webhooks/<int:pk>/test/", views.webhook_test, name="webhook-test"),
    path("models/<slug:slug>/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
    path(
        "models/<slug:slug>/webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/",
        views.delivery_redeliver,
        name="delivery-redeliver",
    ),
]

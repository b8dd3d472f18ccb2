from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.api import api
from catalog.views import healthz

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("", include("accounts.urls")),
    path("", include("mlflow_compat.urls")),
    path("", include("api.urls")),
    path("", include("activity.urls")),
    path("", include("approvals.urls")),
    path("", include("notifications.urls")),
    path("", include("webhooks.urls")),
    path("", include("catalog.urls")),
]

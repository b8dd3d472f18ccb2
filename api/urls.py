from django.urls import path

from api import views

urlpatterns = [
    path("settings/tokens/", views.token_list, name="api-tokens"),
    path("settings/tokens/<int:pk>/revoke/", views.token_revoke, name="api-token-revoke"),
]

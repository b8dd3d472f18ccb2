from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.mark_read, name="mark-read"),
    path("notifications/decisions/<int:pk>/dismiss/", views.dismiss, name="dismiss"),
]
